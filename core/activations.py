r"""Activation functions and their derivatives, as the notes write them.

Each entry of :data:`ACTIVATIONS` maps a lowercase name (the same name the API accepts) to a pair
``(g, g_prime)`` where ``g_prime`` takes ``Z`` (the pre-activation) and returns :math:`g'(Z)`.
All functions are numerically stable: no overflow warnings and no NaN for ``|z|`` up to 1e4.

.. math::
    \sigma(z) = \frac{1}{1 + e^{-z}}, \quad \sigma'(z) = \sigma(z)(1 - \sigma(z))

    \tanh(z) = 2\sigma(2z) - 1, \quad \tanh'(z) = 1 - \tanh(z)^2

    \mathrm{ReLU}(z) = \max(0, z), \quad \mathrm{ReLU}'(z) = 1 \text{ if } z \ge 0 \text{ else } 0
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]
ActivationFn = Callable[[Array], Array]


def sigmoid(Z: Array) -> Array:
    """Logistic sigmoid, computed from ``exp(-|z|)`` so it never overflows."""
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E)).astype(Z.dtype, copy=False)


def sigmoid_derivative(Z: Array) -> Array:
    """:math:`\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))`."""
    S = sigmoid(Z)
    return S * (1.0 - S)


def tanh(Z: Array) -> Array:
    """Hyperbolic tangent."""
    return np.tanh(Z)


def tanh_derivative(Z: Array) -> Array:
    """:math:`1 - \\tanh(z)^2`."""
    T = np.tanh(Z)
    return 1.0 - T * T


def relu(Z: Array) -> Array:
    """:math:`\\max(0, z)` (the notes' hint: ``np.maximum``)."""
    return np.maximum(Z, 0.0)


def relu_derivative(Z: Array) -> Array:
    """1 where ``z >= 0``, else 0 (the notes' ``np.heaviside(z, 1)``)."""
    return np.heaviside(Z, 1.0).astype(Z.dtype, copy=False)


def linear(Z: Array) -> Array:
    """Identity."""
    return Z


def linear_derivative(Z: Array) -> Array:
    """Ones of the same shape."""
    return np.ones_like(Z)


def softmax(Z: Array) -> Array:
    """Column-wise softmax of ``Z`` with shape ``(n_y, m)``; subtracts the column max first."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


ACTIVATIONS: dict[str, tuple[ActivationFn, ActivationFn]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "linear": (linear, linear_derivative),
}
"""Hidden-layer activations by name: ``name -> (g, g')``."""

HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(ACTIVATIONS)
OUTPUT_ACTIVATIONS: tuple[str, ...] = ("sigmoid", "softmax", "linear", "relu")


# In-place forms for the training hot path. They write into preallocated buffers so a training
# iteration allocates nothing; callers hold ``np.errstate(over="ignore")`` because ``exp`` may
# overflow to ``inf`` for |z| > 709, which these formulas turn into the exact limits 0 or 1.
InplaceForward = Callable[[Array, Array], None]
InplaceBackward = Callable[[Array, Array, Array, Array], None]


def sigmoid_into(Z: Array, out: Array) -> None:
    """``out = 1 / (1 + exp(-Z))``; ``exp`` overflowing to ``inf`` yields the exact limit 0."""
    np.negative(Z, out=out)
    np.exp(out, out=out)
    np.add(out, 1.0, out=out)
    np.reciprocal(out, out=out)


def tanh_into(Z: Array, out: Array) -> None:
    """``out = tanh(Z)``; ``np.tanh`` measured faster here than the ``exp`` identity."""
    np.tanh(Z, out=out)


def relu_into(Z: Array, out: Array) -> None:
    """``out = max(Z, 0)``."""
    np.maximum(Z, 0.0, out=out)


def linear_into(Z: Array, out: Array) -> None:
    """``out = Z`` (a copy, so ``out`` never aliases ``Z``)."""
    np.copyto(out, Z)


def sigmoid_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= A (1 - A)``, which is :math:`\\sigma'(Z)` written with the cached output."""
    np.subtract(1.0, A, out=tmp)
    np.multiply(tmp, A, out=tmp)
    np.multiply(dA, tmp, out=dA)


def tanh_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= 1 - A**2``, which is :math:`\\tanh'(Z)` written with the cached output."""
    np.multiply(A, A, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.multiply(dA, tmp, out=dA)


def relu_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= (Z >= 0)``: the notes' ReLU' is 1 at ``z = 0``, so only ``z < 0`` is zeroed."""
    np.greater_equal(Z, 0.0, out=tmp, casting="unsafe")
    np.multiply(dA, tmp, out=dA)


def linear_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """Identity: the derivative is 1 everywhere."""


INPLACE: dict[str, tuple[InplaceForward, InplaceBackward]] = {
    "sigmoid": (sigmoid_into, sigmoid_backward),
    "tanh": (tanh_into, tanh_backward),
    "relu": (relu_into, relu_backward),
    "linear": (linear_into, linear_backward),
}
"""Allocation-free ``name -> (forward_into(Z, out), backward(dA, Z, A, tmp))``."""
