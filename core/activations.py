r"""The activation functions, each defined once in :data:`ACTIVATIONS`.

Every entry holds all the forms the engine and the service use: the notes' ``g`` and ``g'``
(array in, array out), the allocation-free forms of the training and serving fast paths, the
plain-Python expression of the small-network scalar pass, the ONNX operator of the export, where
the activation may be used (hidden layers, output) and the initialization ``auto`` picks for it.
A new activation is one entry here (plus its tests); everything else looks it up by name, and the
API accepts exactly these names.

All array functions are numerically stable: no overflow warnings and no NaN for ``|z|`` up to 1e4.

.. math::
    \sigma(z) = \frac{1}{1 + e^{-z}}, \quad \sigma'(z) = \sigma(z)(1 - \sigma(z))

    \tanh(z) = 2\sigma(2z) - 1, \quad \tanh'(z) = 1 - \tanh(z)^2

    \mathrm{ReLU}(z) = \max(0, z), \quad \mathrm{ReLU}'(z) = 1 \text{ if } z \ge 0 \text{ else } 0

    \mathrm{LeakyReLU}(z) = z \text{ if } z > 0 \text{ else } \alpha z, \quad \alpha = 0.01

    \mathrm{ELU}(z) = z \text{ if } z > 0 \text{ else } \alpha (e^z - 1), \quad \alpha = 1
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]
ActivationFn = Callable[[Array], Array]
InplaceForward = Callable[[Array, Array], None]
"""``forward_into(Z, out)``: ``out = g(Z)``; ``out`` may be ``Z`` itself."""
InplaceBackward = Callable[[Array, Array, Array, Array], None]
"""``backward(dA, Z, A, tmp)``: ``dA *= g'(Z)``, using the cached ``A = g(Z)`` and a buffer."""

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0


@dataclass(frozen=True)
class Activation:
    """One activation in every form the engine and the service need.

    ``scalar`` is a Python expression of one unit's output in terms of its pre-activation ``z``
    (``None`` for softmax, which the scalar pass writes over the whole layer); it may call the
    functions in ``scalar_helpers``. Where that expression can overflow (``math.exp`` raises
    ``OverflowError`` where numpy gives ``inf``), ``scalar_saturated`` is the expression the
    scalar pass falls back to. The in-place forms are called under
    ``np.errstate(over="ignore")``: an ``exp`` overflowing to ``inf`` gives the exact limits.
    """

    name: str
    g: ActivationFn
    g_prime: ActivationFn | None
    forward_into: InplaceForward
    backward: InplaceBackward | None
    scalar: str | None
    onnx_op: str
    onnx_attributes: Mapping[str, float] = field(default_factory=dict)
    onnx_float64: bool = True
    """False where onnxruntime has no float64 kernel for the op: a float64 export then computes
    that node in float32 (within the export's documented 1e-6 of the service)."""
    scalar_helpers: Mapping[str, Callable[..., float]] = field(default_factory=dict)
    scalar_saturated: str | None = None
    hidden: bool = True
    output: bool = False
    auto_init: str = "glorot"

    def apply_in_place(self, Z: Array) -> Array:
        """``g(Z)`` written over ``Z`` (a fresh pre-activation nobody else holds)."""
        if self.name != "linear":
            self.forward_into(Z, Z)
        return Z


# ----------------------------------------------------------------------------- sigmoid
def sigmoid(Z: Array) -> Array:
    """Logistic sigmoid, computed from ``exp(-|z|)`` so it never overflows."""
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E)).astype(Z.dtype, copy=False)


def sigmoid_derivative(Z: Array) -> Array:
    """:math:`\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))`."""
    S = sigmoid(Z)
    return S * (1.0 - S)


def sigmoid_into(Z: Array, out: Array) -> None:
    """``out = 1 / (1 + exp(-Z))``; ``exp`` overflowing to ``inf`` yields the exact limit 0."""
    np.negative(Z, out=out)
    np.exp(out, out=out)
    np.add(out, 1.0, out=out)
    np.reciprocal(out, out=out)


def sigmoid_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= A (1 - A)``, which is :math:`\\sigma'(Z)` written with the cached output."""
    np.subtract(1.0, A, out=tmp)
    np.multiply(tmp, A, out=tmp)
    np.multiply(dA, tmp, out=dA)


def scalar_sigmoid(z: float) -> float:
    """:math:`\\sigma(z)` of one float, as :func:`sigmoid_into` computes it: where ``exp``
    overflows, numpy gets ``inf`` and so the exact limit 0."""
    try:
        return 1.0 / (1.0 + math.exp(-z))
    except OverflowError:
        return 0.0


# ----------------------------------------------------------------------------- tanh
def tanh(Z: Array) -> Array:
    """Hyperbolic tangent."""
    return np.tanh(Z)


def tanh_derivative(Z: Array) -> Array:
    """:math:`1 - \\tanh(z)^2`."""
    T = np.tanh(Z)
    return 1.0 - T * T


def tanh_into(Z: Array, out: Array) -> None:
    """``out = tanh(Z)`` (``np.tanh`` is faster here than the ``exp`` identity)."""
    np.tanh(Z, out=out)


def tanh_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= 1 - A**2``, which is :math:`\\tanh'(Z)` written with the cached output."""
    np.multiply(A, A, out=tmp)
    np.subtract(1.0, tmp, out=tmp)
    np.multiply(dA, tmp, out=dA)


# ----------------------------------------------------------------------------- relu
def relu(Z: Array) -> Array:
    """:math:`\\max(0, z)` (the notes' hint: ``np.maximum``)."""
    return np.maximum(Z, 0.0)


def relu_derivative(Z: Array) -> Array:
    """1 where ``z >= 0``, else 0 (the notes' ``np.heaviside(z, 1)``)."""
    return np.heaviside(Z, 1.0).astype(Z.dtype, copy=False)


def relu_into(Z: Array, out: Array) -> None:
    """``out = max(Z, 0)``."""
    np.maximum(Z, 0.0, out=out)


def relu_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= (Z >= 0)``: the notes' ReLU' is 1 at ``z = 0``, so only ``z < 0`` is zeroed."""
    np.greater_equal(Z, 0.0, out=tmp, casting="unsafe")
    np.multiply(dA, tmp, out=dA)


# ----------------------------------------------------------------------------- leaky relu
def leaky_relu(Z: Array) -> Array:
    """``z`` where ``z > 0``, else ``0.01 z``."""
    return np.where(Z > 0.0, Z, LEAKY_SLOPE * Z).astype(Z.dtype, copy=False)


def leaky_relu_derivative(Z: Array) -> Array:
    """1 where ``z >= 0`` (as the notes' ReLU'), else the slope 0.01."""
    return np.where(Z >= 0.0, 1.0, LEAKY_SLOPE).astype(Z.dtype, copy=False)


def leaky_relu_into(Z: Array, out: Array) -> None:
    """``out = max(Z, 0.01 Z)``, which is the same for a slope below 1."""
    np.maximum(Z, Z * LEAKY_SLOPE, out=out)


def leaky_relu_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= 1`` where ``Z >= 0``, else ``*= 0.01``."""
    np.greater_equal(Z, 0.0, out=tmp, casting="unsafe")
    np.multiply(tmp, 1.0 - LEAKY_SLOPE, out=tmp)
    np.add(tmp, LEAKY_SLOPE, out=tmp)
    np.multiply(dA, tmp, out=dA)


# ----------------------------------------------------------------------------- elu
def elu(Z: Array) -> Array:
    """``z`` where ``z > 0``, else ``exp(z) - 1`` (``expm1``, exact near 0)."""
    negative = np.minimum(Z, 0.0)
    return np.where(Z > 0.0, Z, ELU_ALPHA * np.expm1(negative)).astype(Z.dtype, copy=False)


def elu_derivative(Z: Array) -> Array:
    """1 where ``z > 0``, else ``exp(z)`` (1 at ``z = 0`` from both sides)."""
    negative = np.minimum(Z, 0.0)
    return np.where(Z > 0.0, 1.0, ELU_ALPHA * np.exp(negative)).astype(Z.dtype, copy=False)


def elu_into(Z: Array, out: Array) -> None:
    """``out = max(Z, 0) + alpha (exp(min(Z, 0)) - 1)``; ``out`` may be ``Z``."""
    positive = np.maximum(Z, 0.0)
    np.minimum(Z, 0.0, out=out)
    np.expm1(out, out=out)
    if ELU_ALPHA != 1.0:
        np.multiply(out, ELU_ALPHA, out=out)
    np.add(out, positive, out=out)


def elu_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """``dA *= 1`` where ``Z > 0``, else ``*= A + alpha`` (which is ``alpha exp(Z)``)."""
    np.add(A, ELU_ALPHA, out=tmp)
    np.copyto(tmp, 1.0, where=Z > 0.0)
    np.multiply(dA, tmp, out=dA)


# ----------------------------------------------------------------------------- linear
def linear(Z: Array) -> Array:
    """Identity."""
    return Z


def linear_derivative(Z: Array) -> Array:
    """Ones of the same shape."""
    return np.ones_like(Z)


def linear_into(Z: Array, out: Array) -> None:
    """``out = Z`` (a copy, so ``out`` never aliases ``Z``)."""
    if out is not Z:
        np.copyto(out, Z)


def linear_backward(dA: Array, Z: Array, A: Array, tmp: Array) -> None:
    """Identity: the derivative is 1 everywhere."""


# ----------------------------------------------------------------------------- softmax
def softmax(Z: Array) -> Array:
    """Column-wise softmax of ``Z`` with shape ``(n_y, m)``; subtracts the column max first."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_into(Z: Array, out: Array) -> None:
    """``out = softmax(Z)``; ``out`` may be ``Z`` (two ``(1, m)`` temporaries)."""
    top = Z.max(axis=0, keepdims=True)
    np.subtract(Z, top, out=out)
    np.exp(out, out=out)
    np.divide(out, out.sum(axis=0, keepdims=True), out=out)


# ----------------------------------------------------------------------------- the table
_RELU_SCALAR = "z if z > 0.0 or z != z else 0.0"  # NaN passes, -0.0 becomes 0.0, as np.maximum

ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid",
        sigmoid,
        sigmoid_derivative,
        sigmoid_into,
        sigmoid_backward,
        scalar="1.0 / (1.0 + exp(-z))",
        scalar_helpers={"exp": math.exp, "sigmoid": scalar_sigmoid},
        scalar_saturated="sigmoid(z)",
        onnx_op="Sigmoid",
        output=True,
    ),
    "tanh": Activation(
        "tanh",
        tanh,
        tanh_derivative,
        tanh_into,
        tanh_backward,
        scalar="tanh(z)",
        scalar_helpers={"tanh": math.tanh},
        onnx_op="Tanh",
    ),
    "relu": Activation(
        "relu",
        relu,
        relu_derivative,
        relu_into,
        relu_backward,
        scalar=_RELU_SCALAR,
        onnx_op="Relu",
        output=True,
        auto_init="he",
    ),
    "leaky_relu": Activation(
        "leaky_relu",
        leaky_relu,
        leaky_relu_derivative,
        leaky_relu_into,
        leaky_relu_backward,
        scalar=f"z if z > 0.0 or z != z else z * {LEAKY_SLOPE!r}",
        onnx_op="LeakyRelu",
        onnx_attributes={"alpha": LEAKY_SLOPE},
        auto_init="he",
    ),
    "elu": Activation(
        "elu",
        elu,
        elu_derivative,
        elu_into,
        elu_backward,
        scalar=f"z if z > 0.0 or z != z else {ELU_ALPHA!r} * expm1(z)",
        scalar_helpers={"expm1": math.expm1},
        onnx_op="Elu",
        onnx_attributes={"alpha": ELU_ALPHA},
        onnx_float64=False,
        auto_init="he",
    ),
    "linear": Activation(
        "linear",
        linear,
        linear_derivative,
        linear_into,
        linear_backward,
        scalar="z",
        onnx_op="Identity",
        output=True,
    ),
    "softmax": Activation(
        "softmax",
        softmax,
        None,  # only an output, paired with cross-entropy: dZ = A - Y needs no g'
        softmax_into,
        None,
        scalar=None,
        scalar_helpers={"exp": math.exp},
        onnx_op="Softmax",
        onnx_attributes={"axis": 1},
        hidden=False,
        output=True,
    ),
}
"""Every activation by the lowercase name the API accepts."""

HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(n for n, a in ACTIVATIONS.items() if a.hidden)
"""Names usable in hidden layers (each has an element-wise derivative)."""

OUTPUT_ACTIVATIONS: tuple[str, ...] = tuple(n for n, a in ACTIVATIONS.items() if a.output)
"""Names usable as the output activation (each has a matched cost in :mod:`core.losses`)."""
