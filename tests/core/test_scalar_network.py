"""The plain-Python forward pass agrees with the numpy one for every activation and output, and
the generated one with a plain loop over units bit for bit."""

from __future__ import annotations

import io
import itertools
import math
import re
import tokenize
from functools import reduce
from operator import add, mul

import numpy as np
import pytest

from core.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, scalar_sigmoid
from core.network import ANN
from core.scalar_network import MAX_SCALAR_WORK, ROW_COST, ScalarNetwork

HELPERS = {name: f for a in ACTIVATIONS.values() for name, f in a.scalar_helpers.items()}


def _unit(name: str):
    """A unit's activation as the table writes it (its overflow-free form where it has one), as
    a Python function of one float."""
    template = ACTIVATIONS[name].scalar_saturated or ACTIVATIONS[name].scalar
    assert template is not None
    return eval(compile(f"lambda z: {template}", name, "eval"), {"__builtins__": {}, **HELPERS})


def _softmax(Z: list[float]) -> list[float]:
    top = max(Z)
    E = [math.exp(z - top) for z in Z]
    total = sum(E)
    return [e / total for e in E]


def _rows(network: ScalarNetwork, rows: list[list[float]]) -> list[list[float]]:
    return [network.forward(x) for x in rows]


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
    got = np.array(_rows(network, rows.tolist()))
    np.testing.assert_allclose(got, _reference(ann, rows), rtol=1e-12, atol=0)


@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_a_network_without_hidden_layers_and_one_with_three(hidden: str) -> None:
    rng = np.random.default_rng(3)
    for n_h in ([], [6, 3, 4]):
        ann = ANN(4, n_h, 1, hidden_activation=hidden, output_activation="linear", seed=rng)
        network = ScalarNetwork.from_ann(ann)
        assert network is not None
        rows = rng.uniform(-2, 2, size=(10, 4))
        got = np.array(_rows(network, rows.tolist()))
        np.testing.assert_allclose(got, _reference(ann, rows), rtol=1e-12, atol=0)


def test_saturated_units_reach_the_limits_numpy_reaches() -> None:
    # exp overflows past |z| ~ 709: numpy gets inf (so sigmoid 0) and math.exp raises.
    assert scalar_sigmoid(-800.0) == 0.0 and scalar_sigmoid(800.0) == 1.0
    with np.errstate(over="ignore"):
        expected = 1.0 / (1.0 + np.exp(-np.array([-800.0, -30.0, 0.0, 30.0, 800.0])))
    assert [scalar_sigmoid(z) for z in (-800.0, -30.0, 0.0, 30.0, 800.0)] == expected.tolist()
    softmax = ScalarNetwork([(np.eye(3), np.zeros((3, 1)), "softmax")])
    assert softmax.forward([1000.0, 0.0, -1000.0]) == [1.0, 0.0, 0.0]
    relu = _unit("relu")
    assert math.isnan(relu(math.nan)) and relu(-2.0) == 0.0 and relu(2.5) == 2.5
    assert math.copysign(1.0, relu(-0.0)) == math.copysign(1.0, float(np.maximum(-0.0, 0.0)))


def test_huge_inputs_saturate_like_numpy() -> None:
    ann = ANN(2, 4, 1, seed=1)
    network = ScalarNetwork.from_ann(ann)
    assert network is not None
    rows = np.array([[1e6, -1e6], [-1e300, 1e300], [0.0, 0.0]])
    np.testing.assert_allclose(
        _rows(network, rows.tolist()), _reference(ann, rows), rtol=1e-12, atol=0
    )


def test_only_float64_networks_small_enough_to_pay_off_get_a_scalar_form() -> None:
    assert ScalarNetwork.from_ann(ANN(2, 4, 1, dtype="float32")) is None
    big = ANN(10, 64, 3)  # 899 parameters: numpy is faster even for one sample
    assert ROW_COST + big.n_parameters > MAX_SCALAR_WORK and ScalarNetwork.from_ann(big) is None
    network = ScalarNetwork.from_ann(ANN(2, 4, 1))
    assert network is not None and network.n_parameters == 17
    assert (network.n_x, network.n_y) == (2, 1)
    assert network.max_samples == MAX_SCALAR_WORK // (ROW_COST + 17) >= 1


def test_layers_that_do_not_chain_or_unknown_activations_are_refused() -> None:
    W1, b1 = np.ones((3, 2)), np.zeros((3, 1))
    with pytest.raises(ValueError, match="do not chain"):
        ScalarNetwork([(W1, b1, "tanh"), (np.ones((1, 4)), np.zeros((1, 1)), "sigmoid")])
    with pytest.raises(ValueError, match="activation must be one of"):
        ScalarNetwork([(W1, b1, "swish")])
    with pytest.raises(ValueError, match="at least one layer"):
        ScalarNetwork([])


# The generated pass, bit for bit --------------------------------------------------------------
Params = list[tuple[np.ndarray, np.ndarray, str]]


def _parameters(ann: ANN) -> Params:
    return [
        (getattr(ann, f"W{l}"), getattr(ann, f"b{l}"), name)
        for l, name in enumerate(ann.spec.activations, start=1)
    ]


def _loop_forward(layers: Params, x: list[float]) -> list[float]:
    """The pass as a plain loop over units: ``sum(map(mul, w, A)) + b``, then ``g``.

    ``reduce(add, ..., 0)`` is what Python 3.11's ``sum`` computes (3.12's compensates).
    """
    A = x
    for W, b, name in layers:
        Z = [
            reduce(add, map(mul, w, A), 0) + b_j
            for w, b_j in zip(W.tolist(), b[:, 0].tolist(), strict=True)
        ]
        A = _softmax(Z) if name == "softmax" else [_unit(name)(z) for z in Z]
    return A


def _bits(values: list[float]) -> list[str]:
    """Exact, sign of zero included (NaN as ``nan``)."""
    return [float(v).hex() for v in values]


@pytest.mark.parametrize(
    ("hidden", "output"), list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS))
)
def test_the_generated_pass_is_the_loop_bit_for_bit(hidden: str, output: str) -> None:
    rng = np.random.default_rng(11)
    ann = ANN(
        4,
        [6, 5, 3],
        OUTPUT_UNITS[output],
        hidden_activation=[hidden, "tanh", hidden],
        output_activation=output,
        seed=rng,
    )
    for l in range(1, ann.n_layers + 1):  # trained-looking biases, not the initial zeros
        getattr(ann, f"b{l}")[:] = rng.normal(size=getattr(ann, f"b{l}").shape)
    network = ScalarNetwork.from_ann(ann)
    assert network is not None
    # At |x| ~ 1e3 first-layer sigmoid units saturate (exp overflows); at 1.7e308 sums overflow
    # to infinities, which later layers turn into NaN (inf - inf) or the limits of g.
    rows = [rng.normal(scale=scale, size=(25, 4)) for scale in (1.0, 30.0, 1e3)]
    rows.append(rng.choice([-1.7e308, 1.7e308], size=(25, 4)))
    for x in np.concatenate(rows).tolist():
        assert _bits(network.forward(x)) == _bits(_loop_forward(_parameters(ann), x))


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_zero_products_and_biases_keep_the_loops_signs_of_zero(activation: str) -> None:
    # sum() starts from +0, so a sum of -0.0 products is +0.0; a bias of -0.0 keeps it +0.0.
    W1 = np.array([[0.0, -0.0], [-0.0, -0.0], [1.0, 1.0], [1e-200, 1e-200], [0.0, 0.0]])
    b1 = np.array([[-0.0], [-0.0], [0.0], [-0.0], [0.0]])
    W2 = np.array([[-0.0] * 5, [0.0] * 5, [-1.0, 1.0, -1.0, 1.0, -1.0]])
    b2 = np.array([[-0.0], [-0.0], [0.0]])
    one: Params = [(W1, b1, activation)]
    two: Params = [*one, (W2, b2, "linear")]
    for layers in (one, two):
        network = ScalarNetwork(layers)
        for x in (
            [-0.0, 0.0],
            [0.0, -0.0],
            [-0.0, -0.0],
            [0.0, 0.0],
            [-1e-200, 1e-200],
            [3.0, 3.0],
        ):
            assert _bits(network.forward(x)) == _bits(_loop_forward(layers, x)), (layers, x)


def test_a_unit_with_thousands_of_inputs_sums_in_the_same_order() -> None:
    rng = np.random.default_rng(5)
    layers: Params = [
        (rng.normal(size=(2, 3000)), rng.normal(size=(2, 1)), "tanh"),
        (rng.normal(size=(1, 2)), rng.normal(size=(1, 1)), "sigmoid"),
    ]
    network = ScalarNetwork(layers)
    for x in rng.normal(size=(5, 3000)).tolist():
        assert _bits(network.forward(x)) == _bits(_loop_forward(layers, x))


def test_an_overflowing_sigmoid_gives_the_limit_zero_without_an_error() -> None:
    assert scalar_sigmoid(-1000.0) == 0.0
    one = ScalarNetwork([(np.ones((1, 1)), np.zeros((1, 1)), "sigmoid")])
    assert one.forward([-1000.0]) == [0.0]
    assert one.forward([1000.0]) == [1.0]
    # Saturated hidden units and a later layer computed after them, as the loop does.
    W1, b1 = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), np.array([[0.0], [1.0], [-1.0]])
    layers: Params = [
        (W1, b1, "sigmoid"),
        (np.array([[1.0, -2.0, 3.0]]), np.zeros((1, 1)), "sigmoid"),
    ]
    deep = ScalarNetwork(layers)
    for x in ([-1000.0, 0.5], [0.5, -1000.0], [-1e300, -1e300], [-709.0, -710.0], [2.0, 3.0]):
        assert _bits(deep.forward(x)) == _bits(_loop_forward(layers, x)), x
    assert deep.forward([-1000.0, -1000.0]) == [0.5]  # every hidden unit at 0


def test_relu_units_propagate_nan_and_never_answer_minus_zero() -> None:
    layers: Params = [
        (
            np.array([[10.0, 10.0], [-1.0, 0.0], [0.0, -0.0]]),
            np.array([[0.0], [-0.0], [-0.0]]),
            "relu",
        )
    ]
    network = ScalarNetwork(layers)
    out = network.forward([1e308, -1e308])  # inf - inf
    assert math.isnan(out[0])
    assert out[1:] == [0.0, 0.0]
    for x in ([3.0, -0.0], [-0.0, 5.0], [0.0, 0.0], [1e-300, -1e-300]):
        for z in network.forward(x)[1:]:
            assert z == 0.0 and math.copysign(1.0, z) == 1.0, x
        assert _bits(network.forward(x)) == _bits(_loop_forward(layers, x))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_parameters_have_no_scalar_form(bad: float) -> None:
    for name in ("W2", "b1"):
        ann = ANN(2, 3, 1, seed=1)
        getattr(ann, name)[0, 0] = bad
        assert ScalarNetwork.from_ann(ann) is None  # the numpy path answers such a network
        with pytest.raises(ValueError, match="finite"):
            ScalarNetwork(_parameters(ann))


def test_the_source_holds_only_float_literals_fixed_names_and_operators() -> None:
    rng = np.random.default_rng(2)
    for output in OUTPUT_ACTIVATIONS:
        ann = ANN(
            3,
            [4, 4],
            3 if output == "softmax" else 1,
            hidden_activation=["relu", "sigmoid"],
            output_activation=output,
            seed=rng,
        )
        network = ScalarNetwork.from_ann(ann)
        assert network is not None
        names = set()
        for token in tokenize.generate_tokens(io.StringIO(network.source).readline):
            if token.type == tokenize.NUMBER:
                assert repr(float(token.string)) == token.string
            elif token.type == tokenize.NAME:
                names.add(token.string)
            else:
                assert token.type in (
                    tokenize.OP,
                    tokenize.NEWLINE,
                    tokenize.NL,
                    tokenize.INDENT,
                    tokenize.DEDENT,
                    tokenize.ENDMARKER,
                ), token
        fixed = {
            "def",
            "forward",
            "x",
            "return",
            "try",
            "except",
            "OverflowError",
            "if",
            "else",
            "or",
            *HELPERS,
            "z",
            "s",
            "top",
            "total",
        }
        assert all(n in fixed or re.fullmatch(r"x\d+|[az]\d+_\d+", n) for n in names), names
        helpers = network.forward.__globals__
        assert helpers["__builtins__"] == {}
        assert set(helpers) <= {"__builtins__", "OverflowError", *HELPERS}


def test_forward_answers_a_fresh_list_and_refuses_a_row_of_another_length() -> None:
    network = ScalarNetwork.from_ann(ANN(2, 4, 1))
    assert network is not None
    first, second = network.forward([0.5, -0.5]), network.forward([0.5, -0.5])
    assert first == second and first is not second and type(first) is list
    with pytest.raises(ValueError):
        network.forward([0.5])
    with pytest.raises(ValueError):
        network.forward([0.5, 0.5, 0.5])
