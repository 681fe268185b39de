"""The notes' ANN API, its generalizations and its validation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import ANN, ConfigurationError, ShapeError
from core.activations import sigmoid


def test_notes_constructor_shapes_and_defaults() -> None:
    ann = ANN(2, 4, 1)
    assert ann.W1.shape == (4, 2) and ann.b1.shape == (4, 1)
    assert ann.W2.shape == (1, 4) and ann.b2.shape == (1, 1)
    assert (ann.n_x, ann.n_h, ann.n_y) == (2, 4, 1)
    assert list(ann.parameters) == ["W1", "b1", "W2", "b2"]
    assert ann.n_parameters == 4 * 2 + 4 + 4 + 1
    arch = ann.architecture()
    assert arch["hidden_activations"] == ["tanh"] and arch["output_activation"] == "sigmoid"
    assert arch["seed"] == 2 and arch["dtype"] == "float64"
    # Glorot draw with seed 2, biases zero.
    expected = np.random.default_rng(2).standard_normal((4, 2)) * np.sqrt(2 / (2 + 4))
    np.testing.assert_array_equal(ann.W1, expected)
    assert not ann.b1.any()


def test_forward_propagation_is_the_notes_formulas() -> None:
    ann = ANN(2, 4, 1)
    X = np.random.default_rng(0).standard_normal((2, 5))
    cache = ann.forward_propagation(X)
    assert list(cache) == ["Z1", "A1", "Z2", "A2"]
    Z1 = ann.W1 @ X + ann.b1
    A1 = np.tanh(Z1)
    Z2 = ann.W2 @ A1 + ann.b2
    np.testing.assert_allclose(cache["Z1"], Z1)
    np.testing.assert_allclose(cache["A1"], A1)
    np.testing.assert_allclose(cache["A2"], 1 / (1 + np.exp(-Z2)))
    assert cache["A2"].shape == (1, 5)


def test_deeper_networks_continue_the_cache() -> None:
    ann = ANN(
        3, [5, 4, 2], 2, hidden_activation=["relu", "tanh", "sigmoid"], output_activation="softmax"
    )
    cache = ann.forward_propagation(np.ones((3, 6)))
    assert list(cache) == [f"{k}{l}" for l in range(1, 5) for k in "ZA"]
    np.testing.assert_allclose(cache["A4"].sum(axis=0), 1.0)
    assert ann.W3.shape == (2, 4) and ann.b4.shape == (2, 1)


def test_no_hidden_layer_is_logistic_regression() -> None:
    ann = ANN(3, [], 1)
    assert list(ann.parameters) == ["W1", "b1"]
    X = np.ones((3, 2))
    np.testing.assert_allclose(ann.predict_proba(X), sigmoid(ann.W1 @ X + ann.b1))


def test_compute_cost_and_back_propagation_update() -> None:
    ann = ANN(2, 4, 1)
    X = np.random.default_rng(1).standard_normal((2, 10))
    Y = (X[:1] > 0).astype(float)
    cache = ann.forward_propagation(X)
    A2 = cache["A2"]
    J = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    assert ann.compute_cost(Y, A2) == pytest.approx(J, rel=1e-12)
    assert ann.cost(X, Y) == pytest.approx(J, rel=1e-12)
    before = ann.parameters
    grads = ann.back_propagation(X, Y, cache, 0.1)
    for name, value in ann.parameters.items():
        np.testing.assert_allclose(value, before[name] - 0.1 * grads[f"d{name}"])
    assert ann.cost(X, Y) < J


def test_compute_cost_with_l2() -> None:
    ann = ANN(2, 3, 1)
    X, Y = np.ones((2, 4)), np.ones((1, 4))
    A2 = ann.forward_propagation(X)["A2"]
    extra = 0.5 * (np.sum(ann.W1**2) + np.sum(ann.W2**2)) / (2 * 4)
    assert ann.compute_cost(Y, A2, l2=0.5) == pytest.approx(ann.compute_cost(Y, A2) + extra)


def test_predict_per_output() -> None:
    X = np.random.default_rng(0).standard_normal((2, 7))
    binary = ANN(2, 3, 1)
    assert binary.predict(X).dtype == bool
    np.testing.assert_array_equal(binary.predict(X), binary.predict_proba(X) > 0.5)
    multi = ANN(2, 3, 3, output_activation="softmax")
    np.testing.assert_array_equal(multi.predict(X), np.argmax(multi.predict_proba(X), axis=0))
    reg = ANN(2, 3, 2, output_activation="linear")
    assert reg.predict(X).shape == (2, 7)


def test_accuracy() -> None:
    ann = ANN(2, 3, 1)
    X = np.random.default_rng(0).standard_normal((2, 20))
    Y = ann.predict(X).astype(float)
    assert ann.accuracy(X, Y) == 1.0
    assert ann.accuracy(X, 1 - Y) == 0.0
    multi = ANN(2, 3, 3, output_activation="softmax")
    labels = multi.predict(X)
    assert multi.accuracy(X, labels) == 1.0
    assert multi.accuracy(X, np.eye(3)[:, labels]) == 1.0
    with pytest.raises(ConfigurationError, match="classifier"):
        ANN(2, 3, 1, output_activation="linear").accuracy(X, Y)


def test_shape_errors_name_expected_and_received() -> None:
    ann = ANN(2, 4, 1)
    with pytest.raises(ShapeError, match=r"n_x=2.*\(3, 5\)"):
        ann.forward_propagation(np.ones((3, 5)))
    with pytest.raises(ShapeError, match=r"n_y=1, m=5.*\(5,\)"):
        ann.cost(np.ones((2, 5)), np.ones(5))
    with pytest.raises(ShapeError, match=r"\(4, 2\).*\(2, 4\)"):
        ann.W1 = np.ones((2, 4))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"output_activation": "softmax"}, "n_y >= 2"),
        ({"hidden_activation": "swish"}, "hidden_activation"),
        ({"output_activation": "tanh"}, "output_activation"),
        ({"hidden_activation": ["tanh", "relu"]}, "one name per hidden layer"),
        ({"init": "lecun"}, "init"),
        ({"distribution": "cauchy"}, "distribution"),
        ({"dtype": "float16"}, "dtype"),
        ({"seed": -1}, "seed"),
    ],
)
def test_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        ANN(2, 4, 1, **kwargs)


def test_bad_sizes_rejected() -> None:
    with pytest.raises(ConfigurationError, match="n_x"):
        ANN(0, 4, 1)
    with pytest.raises(ConfigurationError, match="hidden layer size"):
        ANN(2, [4, 0], 1)


def test_set_parameters_validates() -> None:
    ann = ANN(2, 4, 1)
    good = ann.parameters
    with pytest.raises(ConfigurationError, match="exactly"):
        ann.set_parameters({"W1": good["W1"]})
    bad = dict(good, b2=np.array([[np.nan]]))
    with pytest.raises(ConfigurationError, match="non-finite"):
        ann.set_parameters(bad)
    np.testing.assert_array_equal(ann.b2, good["b2"])  # nothing changed
    with pytest.raises(ShapeError):
        ann.set_parameters(dict(good, b1=np.zeros(4)))
    with pytest.raises(ConfigurationError, match="real numbers"):
        ann.set_parameters(dict(good, b2=np.array([["x"]])))
    ann.set_parameters({k: v + 1 for k, v in good.items()})
    np.testing.assert_array_equal(ann.b1, good["b1"] + 1)


def test_parameters_are_copies_and_attributes_are_live() -> None:
    ann = ANN(2, 4, 1)
    p = ann.parameters
    p["W1"][:] = 0
    assert ann.W1.any()
    ann.W1 = np.zeros((4, 2))
    # Biases start at zero, so only W2 is left non-zero in the flat vector.
    assert np.count_nonzero(ann.flat_parameters) == ann.W2.size


def test_same_seed_bit_identical_and_generator_seed() -> None:
    a, b = ANN(3, [5, 2], 2, seed=11), ANN(3, [5, 2], 2, seed=11)
    assert a.flat_parameters.tobytes() == b.flat_parameters.tobytes()
    assert ANN(3, 5, 1, seed=12).W1.tobytes() != a.W1.tobytes()
    g = ANN(3, 5, 1, seed=np.random.default_rng(5))
    assert g.architecture()["seed"] is None


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_architecture_round_trip(distribution: str) -> None:
    ann = ANN(
        3,
        [6, 4],
        3,
        hidden_activation=["relu", "tanh"],
        output_activation="softmax",
        init="he",
        distribution=distribution,
        seed=9,
        dtype="float32",
    )
    arch = json.loads(json.dumps(ann.architecture()))
    fresh = ANN.from_architecture(arch)
    assert fresh.flat_parameters.tobytes() == ann.flat_parameters.tobytes()
    loaded = ANN.from_architecture(arch, ann.parameters)
    assert loaded.architecture() == ann.architecture()
    assert loaded.dtype == np.float32
    with pytest.raises(ConfigurationError, match="missing"):
        ANN.from_architecture({"n_x": 2})


def test_float32_stays_float32_and_matches_float64() -> None:
    X = np.random.default_rng(0).standard_normal((2, 9))
    a64 = ANN(2, 5, 1)
    a32 = ANN(2, 5, 1, dtype="float32")
    cache = a32.forward_propagation(X)
    assert all(v.dtype == np.float32 for v in cache.values())
    np.testing.assert_allclose(cache["A2"], a64.predict_proba(X), rtol=1e-5)


def test_stable_forward_at_huge_inputs() -> None:
    import warnings

    ann = ANN(2, 3, 1)
    ann.W1 = np.full((3, 2), 1e4)
    X = np.array([[1.0, -1.0], [0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A2 = ann.predict_proba(X)
        J = ann.cost(X, np.array([[1.0, 0.0]]))
    assert np.all(np.isfinite(A2)) and np.isfinite(J)


@settings(max_examples=30, deadline=None)
@given(
    n_x=st.integers(1, 4),
    n_h=st.lists(st.integers(1, 4), max_size=3),
    n_y=st.integers(2, 3),
    m=st.integers(1, 5),
    output=st.sampled_from(["sigmoid", "softmax", "linear", "relu"]),
)
def test_shapes_for_any_architecture(n_x, n_h, n_y, m, output) -> None:
    ann = ANN(n_x, n_h, n_y, output_activation=output)
    cache = ann.forward_propagation(np.zeros((n_x, m)))
    sizes = [*n_h, n_y]
    for l, n in enumerate(sizes, start=1):
        assert cache[f"Z{l}"].shape == cache[f"A{l}"].shape == (n, m)
    grads = ann.gradients(np.zeros((n_x, m)), np.zeros((n_y, m)), cache)
    for name, value in ann.parameters.items():
        assert grads[f"d{name}"].shape == value.shape
