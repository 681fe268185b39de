"""Activations and derivatives: the notes' formulas, stability, and the in-place forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.activations import ACTIVATIONS, INPLACE, softmax

Z = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0], [-1e-8, 2.0, -2.0, 1e-8, 10.0]])


def test_values_match_the_notes() -> None:
    sigma = 1.0 / (1.0 + np.exp(-Z))
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"][0](Z), sigma, rtol=1e-15)
    np.testing.assert_allclose(
        ACTIVATIONS["tanh"][0](Z), 2 * (1 / (1 + np.exp(-2 * Z))) - 1, atol=1e-15
    )
    np.testing.assert_array_equal(ACTIVATIONS["relu"][0](Z), np.maximum(0, Z))
    np.testing.assert_array_equal(ACTIVATIONS["linear"][0](Z), Z)


def test_relu_derivative_is_one_at_zero() -> None:
    d = ACTIVATIONS["relu"][1](np.array([[-1.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(d, [[0.0, 1.0, 1.0]])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "linear"])
def test_derivatives_match_finite_differences(name: str) -> None:
    g, g_prime = ACTIVATIONS[name]
    h = 1e-6
    numeric = (g(Z + h) - g(Z - h)) / (2 * h)
    np.testing.assert_allclose(g_prime(Z), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_stable_at_large_inputs(name: str) -> None:
    big = np.array([[-1e4, -800.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            values = ACTIVATIONS[name][0](big)
            derivative = ACTIVATIONS[name][1](big)
            s = softmax(np.array([[1e4, -1e4], [0.0, 1e4], [-1e4, 0.0]]))
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(derivative))
    np.testing.assert_allclose(s.sum(axis=0), 1.0)
    if name == "sigmoid":
        np.testing.assert_array_equal(values, [[0.0, 0.0, 1.0, 1.0]])


def test_softmax_columns_sum_to_one_and_match_definition() -> None:
    S = softmax(Z)
    E = np.exp(Z)
    np.testing.assert_allclose(S, E / E.sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_match_reference(name: str) -> None:
    forward, backward = INPLACE[name]
    g, g_prime = ACTIVATIONS[name]
    Zs = np.concatenate([Z, [[-1e4, -700.0, 0.0, 700.0, 1e4]]])
    A = np.empty_like(Zs)
    with np.errstate(over="ignore"):
        forward(Zs, A)
    np.testing.assert_allclose(A, g(Zs), rtol=4e-16, atol=1e-300)
    dA = np.linspace(-1, 1, Zs.size).reshape(Zs.shape)
    expected = dA * g_prime(Zs)
    backward(dA, Zs, A, np.empty_like(Zs))
    np.testing.assert_allclose(dA, expected, rtol=1e-15, atol=1e-300)
