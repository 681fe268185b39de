"""Analytic gradients against central differences; the fast path against the reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core import ANN, propagation
from core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from core.propagation import Workspace

N_Y = {"sigmoid": 2, "softmax": 3, "linear": 2, "relu": 2}


def _problem(hidden: str, output: str, l2: float, n_h=(5, 4), seed: int = 0):
    rng = np.random.default_rng(seed)
    n_x, m, n_y = 3, 7, N_Y[output]
    ann = ANN(n_x, n_h, n_y, hidden_activation=hidden, output_activation=output, seed=seed)
    X = rng.standard_normal((n_x, m))
    if output == "sigmoid":
        Y = (rng.random((n_y, m)) < 0.5).astype(float)
    elif output == "softmax":
        Y = np.eye(n_y)[:, rng.integers(0, n_y, m)]
    else:
        Y = rng.random((n_y, m)) * 2.0
    return ann, X, Y


def _keep_away_from_kinks(ann: ANN, X: np.ndarray, min_abs: float = 1e-3) -> bool:
    """Whether every pre-activation is at least ``min_abs`` from 0 (where ReLU bends)."""
    cache = ann.forward_propagation(X)
    return all(np.min(np.abs(cache[f"Z{l}"])) > min_abs for l in range(1, ann.n_layers + 1))


def _numerical_gradients(ann: ANN, X, Y, l2: float, h: float = 1e-6) -> dict[str, np.ndarray]:
    grads = {}
    for name, value in ann.parameters.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            original = value[idx]
            for sign in (+1, -1):
                shifted = value.copy()
                shifted[idx] = original + sign * h
                setattr(ann, name, shifted)
                g[idx] += sign * ann.cost(X, Y, l2)
            setattr(ann, name, value)
        grads[f"d{name}"] = g / (2 * h)
    return grads


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(float(np.linalg.norm(a) + np.linalg.norm(b)), 1e-12))


@pytest.mark.parametrize(
    ("hidden", "output", "l2"),
    list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, (0.0, 0.7))),
)
def test_gradients_match_finite_differences(hidden: str, output: str, l2: float) -> None:
    for seed in range(20):
        ann, X, Y = _problem(hidden, output, l2, seed=seed)
        if _keep_away_from_kinks(ann, X):
            break
    else:
        pytest.fail("no seed kept the pre-activations away from 0")
    cache = ann.forward_propagation(X)
    analytic = ann.gradients(X, Y, cache, l2)
    numeric = _numerical_gradients(ann, X, Y, l2)
    assert analytic.keys() == numeric.keys()
    for name in analytic:
        assert analytic[name].shape == numeric[name].shape
        assert _relative_error(analytic[name], numeric[name]) < 1e-6, name


@pytest.mark.parametrize("n_h", [(), (4,), (5, 4, 3)])
def test_gradients_any_depth(n_h: tuple[int, ...]) -> None:
    ann, X, Y = _problem("tanh", "sigmoid", 0.3, n_h=n_h)
    analytic = ann.gradients(X, Y, ann.forward_propagation(X), 0.3)
    numeric = _numerical_gradients(ann, X, Y, 0.3)
    for name in analytic:
        assert _relative_error(analytic[name], numeric[name]) < 1e-6, name


@pytest.mark.parametrize("augment", [True, False])
@pytest.mark.parametrize(
    ("hidden", "output"), list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS))
)
def test_workspace_matches_reference(
    hidden: str, output: str, augment: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both first-layer forms: data next to a row of ones, and data used in place.
    monkeypatch.setattr(propagation, "AUGMENT_LIMIT", propagation.AUGMENT_LIMIT if augment else 0)
    ann, X, Y = _problem(hidden, output, 0.0, seed=3)
    ws = Workspace(ann.spec, X.shape[1])
    assert ws.augment_input is augment
    grad = np.zeros_like(ann.flat_parameters)
    ws.bind(ann.flat_parameters, grad)
    ws.load(X, Y)
    with np.errstate(over="ignore"):
        A = ws.forward()
        ws.backward()
    cache = ann.forward_propagation(X)
    np.testing.assert_allclose(A, cache[f"A{ann.n_layers}"], rtol=0, atol=1e-12)
    assert ws.cost() == pytest.approx(ann.cost(X, Y), rel=1e-12)
    reference = ann.gradients(X, Y, cache)
    for name, value in ann.layout.views(grad).items():
        np.testing.assert_allclose(value, reference[f"d{name}"], rtol=0, atol=1e-12)
