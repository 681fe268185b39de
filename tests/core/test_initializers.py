"""Glorot and He initialization: shapes, variances, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigurationError
from core.initializers import (
    glorot_variance,
    he_variance,
    initialize_parameters,
    resolve_init,
)


def test_shapes_follow_the_notes() -> None:
    p = initialize_parameters((2, 4, 1), ("tanh", "sigmoid"))
    assert {k: v.shape for k, v in p.items()} == {
        "W1": (4, 2),
        "b1": (4, 1),
        "W2": (1, 4),
        "b2": (1, 1),
    }
    assert not p["b1"].any() and not p["b2"].any()


def test_variances() -> None:
    assert glorot_variance(4, 4) == pytest.approx(1 / 4)
    assert he_variance(8, 3) == pytest.approx(2 / 8)
    assert resolve_init("auto", "relu") == "he"
    assert resolve_init("auto", "tanh") == "glorot"


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
@pytest.mark.parametrize(
    ("init", "activation", "expected"),
    [("glorot", "tanh", 2 / (400 + 300)), ("he", "relu", 2 / 400), ("auto", "relu", 2 / 400)],
)
def test_sample_variance(distribution: str, init: str, activation: str, expected: float) -> None:
    p = initialize_parameters(
        (400, 300, 2), (activation, "sigmoid"), init, distribution, np.random.default_rng(0)
    )
    assert np.var(p["W1"]) == pytest.approx(expected, rel=0.02)
    assert abs(np.mean(p["W1"])) < 0.01 * np.sqrt(expected) * 10


def test_same_seed_same_bits_and_dtype() -> None:
    a = initialize_parameters((3, 5, 2), ("relu", "softmax"), rng=np.random.default_rng(7))
    b = initialize_parameters((3, 5, 2), ("relu", "softmax"), rng=np.random.default_rng(7))
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()
    f32 = initialize_parameters((3, 5, 2), ("relu", "softmax"), dtype=np.float32)
    assert all(v.dtype == np.float32 for v in f32.values())


def test_rejects_unknown_names() -> None:
    with pytest.raises(ConfigurationError, match="init"):
        resolve_init("lecun", "tanh")
    with pytest.raises(ConfigurationError, match="distribution"):
        initialize_parameters((2, 2), ("sigmoid",), distribution="cauchy")
    with pytest.raises(ConfigurationError, match="activations"):
        initialize_parameters((2, 3, 2), ("sigmoid",))
