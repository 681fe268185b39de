"""Costs: the notes' formulas, exact forms from Z, and the matched output delta."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.activations import ACTIVATIONS, softmax
from core.losses import LOSSES, l2_penalty, output_delta, softplus

rng = np.random.default_rng(0)
Z = rng.standard_normal((3, 8)) * 3
Y_BIN = (rng.random((3, 8)) < 0.5).astype(float)
Y_ONEHOT = np.eye(3)[:, rng.integers(0, 3, 8)]
Y_REG = rng.random((3, 8)) * 2


def test_binary_cross_entropy_is_the_notes_formula() -> None:
    A = ACTIVATIONS["sigmoid"].g(Z)
    J = -np.mean(np.sum(Y_BIN * np.log(A) + (1 - Y_BIN) * np.log(1 - A), axis=0))
    assert LOSSES["sigmoid"].from_output(Y_BIN, A) == pytest.approx(J, rel=1e-12)
    assert LOSSES["sigmoid"].from_logits(Y_BIN, Z) == pytest.approx(J, rel=1e-12)


def test_categorical_cross_entropy() -> None:
    A = softmax(Z)
    J = -np.sum(Y_ONEHOT * np.log(A)) / 8
    assert LOSSES["softmax"].from_output(Y_ONEHOT, A) == pytest.approx(J, rel=1e-12)
    assert LOSSES["softmax"].from_logits(Y_ONEHOT, Z) == pytest.approx(J, rel=1e-12)


def test_mean_squared_error_uses_one_over_2m() -> None:
    J = np.sum((Z - Y_REG) ** 2) / (2 * 8)
    assert LOSSES["linear"].from_logits(Y_REG, Z) == pytest.approx(J, rel=1e-14)
    Jr = np.sum((np.maximum(Z, 0) - Y_REG) ** 2) / 16
    assert LOSSES["relu"].from_logits(Y_REG, Z) == pytest.approx(Jr, rel=1e-14)


def test_costs_from_logits_are_exact_at_extremes() -> None:
    Zb = np.array([[1e4, -1e4, 40.0, -40.0]])
    Yb = np.array([[0.0, 1.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            cost = LOSSES["sigmoid"].from_logits(Yb, Zb)
            Js = LOSSES["softmax"].from_logits(np.array([[1.0], [0.0]]), np.array([[-1e4], [1e4]]))
            sp = softplus(np.array([-1e4, 0.0, 1e4]))
    expected = (1e4 + 1e4 + 40 + 40) / 4
    assert cost == pytest.approx(expected, rel=1e-12)
    assert Js == pytest.approx(2e4)
    np.testing.assert_allclose(sp, [0.0, np.log(2), 1e4])


def test_clipped_costs_stay_finite() -> None:
    A = np.array([[0.0, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        J = LOSSES["sigmoid"].from_output(np.array([[1.0, 0.0]]), A)
    assert np.isfinite(J) and J > 30


def test_l2_penalty() -> None:
    W = [np.ones((2, 3)), 2 * np.ones((1, 2))]
    assert l2_penalty(W, 0.5, 4) == pytest.approx(0.5 * (6 + 8) / 8)
    assert l2_penalty(W, 0.0, 4) == 0.0


def test_output_delta() -> None:
    A = np.array([[0.5, 2.0]])
    Y = np.array([[1.0, 1.0]])
    np.testing.assert_array_equal(output_delta("sigmoid", A, A, Y), [[-0.5, 1.0]])
    np.testing.assert_array_equal(
        output_delta("relu", np.array([[-1.0, 0.0]]), np.array([[0.0, 0.0]]), Y), [[0.0, -1.0]]
    )
