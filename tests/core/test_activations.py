"""The activation table: the notes' formulas, derivatives against finite differences, stability,
and every other form of each entry (in-place, scalar) against its reference ``g``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from core.activations import (
    ACTIVATIONS,
    ELU_ALPHA,
    HIDDEN_ACTIVATIONS,
    LEAKY_SLOPE,
    OUTPUT_ACTIVATIONS,
    softmax,
)

Z = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0], [-1e-8, 2.0, -2.0, 1e-8, 10.0]])
ELEMENTWISE = [name for name, a in ACTIVATIONS.items() if a.g_prime is not None]


def test_values_match_the_notes() -> None:
    sigma = 1.0 / (1.0 + np.exp(-Z))
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].g(Z), sigma, rtol=1e-15)
    np.testing.assert_allclose(
        ACTIVATIONS["tanh"].g(Z), 2 * (1 / (1 + np.exp(-2 * Z))) - 1, atol=1e-15
    )
    np.testing.assert_array_equal(ACTIVATIONS["relu"].g(Z), np.maximum(0, Z))
    np.testing.assert_array_equal(ACTIVATIONS["linear"].g(Z), Z)


def test_leaky_relu_and_elu_values() -> None:
    np.testing.assert_array_equal(
        ACTIVATIONS["leaky_relu"].g(Z), np.where(Z > 0, Z, LEAKY_SLOPE * Z)
    )
    np.testing.assert_allclose(
        ACTIVATIONS["elu"].g(Z), np.where(Z > 0, Z, ELU_ALPHA * np.expm1(Z)), rtol=1e-15
    )


def test_relu_family_derivatives_are_one_at_zero() -> None:
    at = np.array([[-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(ACTIVATIONS["relu"].g_prime(at), [[0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(ACTIVATIONS["leaky_relu"].g_prime(at), [[LEAKY_SLOPE, 1, 1]])
    np.testing.assert_allclose(ACTIVATIONS["elu"].g_prime(at), [[math.exp(-1.0), 1.0, 1.0]])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivatives_match_finite_differences(name: str) -> None:
    activation = ACTIVATIONS[name]
    assert activation.g_prime is not None
    # Away from the kinks at 0 of the ReLU family, where the one-sided slopes differ.
    Zs = np.where(np.abs(Z) < 1e-3, Z + 0.25, Z)
    h = 1e-6
    numeric = (activation.g(Zs + h) - activation.g(Zs - h)) / (2 * h)
    np.testing.assert_allclose(activation.g_prime(Zs), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_stable_at_large_inputs(name: str) -> None:
    big = np.array([[-1e4, -800.0, 800.0, 1e4]])
    activation = ACTIVATIONS[name]
    assert activation.g_prime is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            values = activation.g(big)
            derivative = activation.g_prime(big)
            s = softmax(np.array([[1e4, -1e4], [0.0, 1e4], [-1e4, 0.0]]))
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(derivative))
    np.testing.assert_allclose(s.sum(axis=0), 1.0)
    if name == "sigmoid":
        np.testing.assert_array_equal(values, [[0.0, 0.0, 1.0, 1.0]])


def test_softmax_columns_sum_to_one_and_match_definition() -> None:
    S = softmax(Z)
    E = np.exp(Z)
    np.testing.assert_allclose(S, E / E.sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_inplace_forms_match_reference(name: str) -> None:
    activation = ACTIVATIONS[name]
    Zs = np.concatenate([Z, [[-1e4, -700.0, 0.0, 700.0, 1e4]]])
    A = np.empty_like(Zs)
    with np.errstate(over="ignore"):
        activation.forward_into(Zs, A)
        aliased = activation.apply_in_place(Zs.copy())
    np.testing.assert_allclose(A, activation.g(Zs), rtol=4e-16, atol=1e-300)
    np.testing.assert_array_equal(aliased, A)
    if activation.backward is None:
        assert not activation.hidden
        return
    assert activation.g_prime is not None
    dA = np.linspace(-1, 1, Zs.size).reshape(Zs.shape)
    expected = dA * activation.g_prime(Zs)
    activation.backward(dA, Zs, A, np.empty_like(Zs))
    np.testing.assert_allclose(dA, expected, rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.scalar is not None])
def test_scalar_expressions_match_reference(name: str) -> None:
    activation = ACTIVATIONS[name]
    assert activation.scalar is not None
    namespace = {"__builtins__": {}, **activation.scalar_helpers}
    unit = eval(compile(f"lambda z: {activation.scalar}", name, "eval"), namespace)
    values = [-30.0, -2.0, -0.5, -0.0, 0.0, 1e-9, 0.5, 2.0, 30.0]
    expected = activation.g(np.array(values))
    got = [unit(z) for z in values]
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-300)
    if activation.scalar_saturated is not None:
        source = f"lambda z: {activation.scalar_saturated}"
        saturated = eval(compile(source, name, "eval"), namespace)
        np.testing.assert_allclose([saturated(z) for z in values], expected, rtol=1e-15)


def test_every_activation_is_usable_somewhere_with_what_that_place_needs() -> None:
    assert set(HIDDEN_ACTIVATIONS) | set(OUTPUT_ACTIVATIONS) == set(ACTIVATIONS)
    for name in HIDDEN_ACTIVATIONS:
        assert ACTIVATIONS[name].g_prime is not None and ACTIVATIONS[name].backward is not None
    assert {"leaky_relu", "elu"} <= set(HIDDEN_ACTIVATIONS)
    for name, activation in ACTIVATIONS.items():
        assert activation.name == name
        assert activation.onnx_op
        assert activation.auto_init in ("glorot", "he")
