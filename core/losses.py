r"""Cost functions matched to each output activation, so that :math:`dZ^{[L]} = A^{[L]} - Y`.

Every cost is a mean over the ``m`` examples (columns) and a sum over the ``n_y`` outputs:

* ``sigmoid`` output, binary cross-entropy (the notes' cost):
  :math:`J = -\frac{1}{m}\sum (y \log a + (1 - y)\log(1 - a))`;
* ``softmax`` output, categorical cross-entropy with one-hot ``Y``:
  :math:`J = -\frac{1}{m}\sum_i \sum_k y_k \log a_k`;
* ``linear`` and ``relu`` outputs, mean squared error with the factor :math:`\frac{1}{2m}`:
  :math:`J = \frac{1}{2m}\sum (a - y)^2`. The 1/2 makes its gradient exactly
  :math:`\frac{1}{m}(A - Y)` (times ReLU' for a ReLU output), the same ``dZ`` as the two
  cross-entropies.

The ``*_from_logits`` forms take ``Z`` rather than ``A`` and are exact for any finite ``Z``
(softplus and log-sum-exp); the forms taking ``A`` (as the notes' ``compute_cost(Y, A2)`` does)
clip probabilities to ``[eps, 1 - eps]`` of the dtype. The optional L2 term is
:math:`\frac{\lambda_2}{2m}\sum_l \lVert W^{[l]} \rVert^2`, whose gradient is
:math:`\frac{\lambda_2}{m} W^{[l]}`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


def _m(Y: Array) -> int:
    return Y.shape[1] if Y.ndim == 2 else Y.shape[0]


def softplus(Z: Array) -> Array:
    """:math:`\\log(1 + e^z)` computed as ``max(z, 0) + log1p(exp(-|z|))`` (never overflows)."""
    return np.maximum(Z, 0.0) + np.log1p(np.exp(-np.abs(Z)))


def binary_cross_entropy(Y: Array, A: Array) -> float:
    """The notes' cost from probabilities ``A`` of shape ``(n_y, m)``; ``A`` is clipped."""
    eps = float(np.finfo(A.dtype).eps)
    A = np.clip(A, eps, 1.0 - eps)
    return float(-np.sum(Y * np.log(A) + (1.0 - Y) * np.log1p(-A)) / _m(Y))


def binary_cross_entropy_from_logits(Y: Array, Z: Array) -> float:
    """Binary cross-entropy from ``Z``: :math:`\\mathrm{softplus}(z) - y z`, exact and stable."""
    return float(np.sum(softplus(Z) - Y * Z) / _m(Y))


def categorical_cross_entropy(Y: Array, A: Array) -> float:
    """Cross-entropy of one-hot ``Y`` and softmax probabilities ``A`` (clipped), ``(n_y, m)``."""
    eps = float(np.finfo(A.dtype).eps)
    return float(-np.sum(Y * np.log(np.clip(A, eps, 1.0))) / _m(Y))


def categorical_cross_entropy_from_logits(Y: Array, Z: Array) -> float:
    """Cross-entropy from ``Z`` via log-sum-exp: :math:`\\mathrm{lse}(z) - y^T z` per column."""
    Z_max = Z.max(axis=0, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - Z_max), axis=0, keepdims=True)) + Z_max
    return float((np.sum(lse * Y.sum(axis=0, keepdims=True)) - np.sum(Y * Z)) / _m(Y))


def mean_squared_error(Y: Array, A: Array) -> float:
    """:math:`\\frac{1}{2m}\\sum (a - y)^2` for ``A`` and ``Y`` of shape ``(n_y, m)``."""
    D = A - Y
    return float(np.sum(D * D) / (2.0 * _m(Y)))


def mean_squared_error_from_linear(Y: Array, Z: Array) -> float:
    """MSE of a linear output, whose ``A`` is ``Z``."""
    return mean_squared_error(Y, Z)


def mean_squared_error_from_relu(Y: Array, Z: Array) -> float:
    """MSE of a ReLU output, ``A = max(Z, 0)``."""
    return mean_squared_error(Y, np.maximum(Z, 0.0))


def l2_penalty(weights: Iterable[Array], l2: float, m: int) -> float:
    """:math:`\\frac{\\lambda_2}{2m}\\sum_l \\lVert W^{[l]}\\rVert_F^2` (no biases)."""
    if l2 == 0.0:
        return 0.0
    return float(l2 * sum(float(np.vdot(W, W)) for W in weights) / (2.0 * m))


CostFn = Callable[[Array, Array], float]


class Loss(NamedTuple):
    """The cost of one output activation: its name and its two forms, ``(Y, A)`` and ``(Y, Z)``."""

    name: str
    from_output: CostFn
    from_logits: CostFn


LOSSES: dict[str, Loss] = {
    "sigmoid": Loss("binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_from_logits),
    "softmax": Loss(
        "categorical_cross_entropy",
        categorical_cross_entropy,
        categorical_cross_entropy_from_logits,
    ),
    "linear": Loss("mean_squared_error", mean_squared_error, mean_squared_error_from_linear),
    "relu": Loss("mean_squared_error", mean_squared_error, mean_squared_error_from_relu),
}
"""Output activation -> its matched cost."""


def output_delta(output_activation: str, Z: Array, A: Array, Y: Array) -> Array:
    """:math:`dZ^{[L]}` of the matched cost, without the 1/m factor, shape ``(n_y, m)``.

    ``A - Y`` for sigmoid, softmax and linear outputs; ``(A - Y) * ReLU'(Z)`` for a ReLU output
    (ReLU' is 1 at ``z >= 0``, as in the notes).
    """
    dZ = A - Y
    if output_activation == "relu":
        dZ = dZ * (Z >= 0.0)
    return dZ
