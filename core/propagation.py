r"""Allocation-free forward and backward passes over a fixed number of columns ``m``.

This is the notes' algorithm written for speed: every ``Z``, ``A`` and ``dZ`` buffer is allocated
once, every numpy call writes with ``out=``, the 1/m factor is applied once to :math:`dZ^{[L]}`
(so every ``dW`` and ``db`` inherits it), ``db`` is a matrix-vector product with a ones vector,
and the first layer never computes ``dX``. The maths is the reference one of
:meth:`core.network.ANN.gradients`; the tests check the two agree to 1e-12.

.. math::
    Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \quad A^{[l]} = g^{[l]}(Z^{[l]})

    dZ^{[L]} = A^{[L]} - Y, \quad dW^{[l]} = \frac{1}{m} dZ^{[l]} A^{[l-1]T}, \quad
    db^{[l]} = \frac{1}{m} \sum_i dZ^{[l]}_{:, i}, \quad
    dZ^{[l-1]} = W^{[l]T} dZ^{[l]} * g'(Z^{[l-1]})

Callers hold ``np.errstate(over="ignore")`` (see :mod:`core.activations`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.activations import INPLACE, relu_backward, relu_into, sigmoid_into
from core.architecture import Architecture, ParameterLayout
from core.losses import LOSSES

Array = NDArray[Any]


def _softmax_into(Z: Array, out: Array, column: Array) -> None:
    np.max(Z, axis=0, keepdims=True, out=column)
    np.subtract(Z, column, out=out)
    np.exp(out, out=out)
    np.sum(out, axis=0, keepdims=True, out=column)
    np.divide(out, column, out=out)


class Workspace:
    """Buffers and passes for one architecture and one batch width ``m``.

    Parameters
    ----------
    architecture : Architecture
        The network; buffers take its dtype.
    m : int
        Number of examples (columns) per pass.
    """

    def __init__(self, architecture: Architecture, m: int) -> None:
        dtype = np.dtype(architecture.dtype)
        sizes = architecture.layer_sizes[1:]
        self.m = m
        self.output_activation = architecture.output_activation
        self.hidden = architecture.hidden_activations
        self.Z = [np.empty((n, m), dtype) for n in sizes]
        # A linear layer's A is its Z: share the buffer instead of copying.
        self.A = [
            Z if name == "linear" else np.empty_like(Z)
            for Z, name in zip(self.Z, architecture.activations, strict=True)
        ]
        self.dZ = [np.empty_like(Z) for Z in self.Z]
        self.tmp = [np.empty_like(Z) for Z in self.Z]
        self.ones = np.ones((m, 1), dtype)
        self.column = np.empty((1, m), dtype)
        self._forward = [INPLACE[name][0] for name in self.hidden]
        self._backward = [INPLACE[name][1] for name in self.hidden]
        self._cost = LOSSES[architecture.output_activation].from_logits
        self._layout = ParameterLayout(architecture.layer_sizes)

    def bind(self, flat: Array) -> list[tuple[Array, Array]]:
        """``[(W1, b1), ..., (WL, bL)]`` as views into the flat vector ``flat``."""
        views = self._layout.views(flat)
        return [(views[f"W{l}"], views[f"b{l}"]) for l in range(1, len(self.Z) + 1)]

    def forward(self, params: list[tuple[Array, Array]], X: Array) -> Array:
        """Run the forward pass on ``X`` (``(n_x, m)``) and return ``A^{[L]}`` (``(n_y, m)``)."""
        A_prev = X
        last = len(params) - 1
        for l, (W, b) in enumerate(params):
            Z = self.Z[l]
            np.matmul(W, A_prev, out=Z)
            np.add(Z, b, out=Z)
            if l < last:
                self._forward[l](Z, self.A[l])
            A_prev = self.A[l]
        self._output(self.Z[last], self.A[last])
        return self.A[last]

    def _output(self, Z: Array, A: Array) -> None:
        name = self.output_activation
        if name == "sigmoid":
            sigmoid_into(Z, A)
        elif name == "softmax":
            _softmax_into(Z, A, self.column)
        elif name == "relu":
            relu_into(Z, A)
        # linear: A is Z already.

    def cost(self, Y: Array) -> float:
        """Cost of the last forward pass (from ``Z^{[L]}``, exact), without the L2 term."""
        return self._cost(Y, self.Z[-1])

    def backward(
        self,
        params: list[tuple[Array, Array]],
        X: Array,
        Y: Array,
        grads: list[tuple[Array, Array]],
    ) -> None:
        """Write ``dW, db`` of every layer into ``grads`` (views), after :meth:`forward` on ``X``.

        The gradient is the mean over the ``m`` columns of the matched cost (no L2 term).
        """
        last = len(params) - 1
        dZ = self.dZ[last]
        np.subtract(self.A[last], Y, out=dZ)
        if self.output_activation == "relu":
            relu_backward(dZ, self.Z[last], self.A[last], self.tmp[last])
        np.multiply(dZ, 1.0 / self.m, out=dZ)
        for l in range(last, -1, -1):
            dW, db = grads[l]
            dZ = self.dZ[l]
            A_prev = self.A[l - 1] if l > 0 else X
            np.matmul(dZ, A_prev.T, out=dW)
            np.matmul(dZ, self.ones, out=db)
            if l > 0:
                dZ_prev = self.dZ[l - 1]
                np.matmul(params[l][0].T, dZ, out=dZ_prev)
                self._backward[l - 1](dZ_prev, self.Z[l - 1], self.A[l - 1], self.tmp[l - 1])
