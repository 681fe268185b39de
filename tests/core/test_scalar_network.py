"""The plain-Python forward pass agrees with the numpy one for every activation and output."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from core.network import ANN
from core.scalar_network import (
    MAX_SCALAR_WORK,
    ROW_COST,
    ScalarNetwork,
    relu,
    sigmoid,
    softmax,
)

OUTPUT_UNITS = {"sigmoid": 1, "softmax": 3, "linear": 2, "relu": 2}


def _reference(ann: ANN, rows: np.ndarray) -> np.ndarray:
    """``A^{[L]}`` as rows, from the engine's reference forward pass."""
    with np.errstate(over="ignore"):
        A = ann.forward_propagation(rows.T)[f"A{ann.n_layers}"]
    return np.asarray(A.T)


@pytest.mark.parametrize(
    ("hidden", "output"), list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS))
)
def test_forward_matches_numpy_for_every_activation_and_output(hidden: str, output: str) -> None:
    ann = ANN(
        3,
        [5, 4],
        OUTPUT_UNITS[output],
        hidden_activation=hidden,
        output_activation=output,
        seed=7,
    )
    network = ScalarNetwork.from_ann(ann)
    assert network is not None
    rows = np.random.default_rng(0).normal(scale=3.0, size=(40, 3))
    got = np.array(network.forward_rows(rows.tolist()))
    np.testing.assert_allclose(got, _reference(ann, rows), rtol=1e-12, atol=0)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_a_network_without_hidden_layers_and_one_with_three(hidden: str) -> None:
    rng = np.random.default_rng(3)
    for n_h in ([], [6, 3, 4]):
        ann = ANN(4, n_h, 1, hidden_activation=hidden, output_activation="linear", seed=rng)
        network = ScalarNetwork.from_ann(ann)
        assert network is not None
        rows = rng.uniform(-2, 2, size=(10, 4))
        got = np.array(network.forward_rows(rows.tolist()))
        np.testing.assert_allclose(got, _reference(ann, rows), rtol=1e-12, atol=0)


def test_saturated_units_reach_the_limits_numpy_reaches() -> None:
    # exp overflows past |z| ~ 709: numpy gets inf (so sigmoid 0) and math.exp raises.
    assert sigmoid(-800.0) == 0.0 and sigmoid(800.0) == 1.0
    with np.errstate(over="ignore"):
        expected = 1.0 / (1.0 + np.exp(-np.array([-800.0, -30.0, 0.0, 30.0, 800.0])))
    assert [sigmoid(z) for z in (-800.0, -30.0, 0.0, 30.0, 800.0)] == expected.tolist()
    assert softmax([1000.0, 0.0, -1000.0]) == [1.0, 0.0, 0.0]
    assert math.isnan(relu(math.nan)) and relu(-2.0) == 0.0 and relu(2.5) == 2.5
    assert math.copysign(1.0, relu(-0.0)) == math.copysign(1.0, float(np.maximum(-0.0, 0.0)))


def test_huge_inputs_saturate_like_numpy() -> None:
    ann = ANN(2, 4, 1, seed=1)
    network = ScalarNetwork.from_ann(ann)
    assert network is not None
    rows = np.array([[1e6, -1e6], [-1e300, 1e300], [0.0, 0.0]])
    np.testing.assert_allclose(
        network.forward_rows(rows.tolist()), _reference(ann, rows), rtol=1e-12, atol=0
    )


def test_only_float64_networks_small_enough_to_pay_off_get_a_scalar_form() -> None:
    assert ScalarNetwork.from_ann(ANN(2, 4, 1, dtype="float32")) is None
    assert ScalarNetwork.from_ann(ANN(10, 32, 3)) is None  # 451 parameters: numpy is as fast
    network = ScalarNetwork.from_ann(ANN(2, 4, 1))
    assert network is not None and network.n_parameters == 17
    assert (network.n_x, network.n_y) == (2, 1)
    most = MAX_SCALAR_WORK // (ROW_COST + 17)
    assert most == network.max_samples >= 1
    assert network.pays_off(most) and not network.pays_off(most + 1)


def test_layers_that_do_not_chain_or_unknown_activations_are_refused() -> None:
    W1, b1 = np.ones((3, 2)), np.zeros((3, 1))
    with pytest.raises(ValueError, match="do not chain"):
        ScalarNetwork([(W1, b1, "tanh"), (np.ones((1, 4)), np.zeros((1, 1)), "sigmoid")])
    with pytest.raises(ValueError, match="activation must be one of"):
        ScalarNetwork([(W1, b1, "swish")])
    with pytest.raises(ValueError, match="at least one layer"):
        ScalarNetwork([])
