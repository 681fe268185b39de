r"""Allocation-free forward and backward passes over a fixed number of columns ``m``.

This is the notes' algorithm written for speed, the same maths as the reference
:meth:`core.network.ANN.gradients` (the tests check they agree to 1e-12):

.. math::
    Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \quad A^{[l]} = g^{[l]}(Z^{[l]})

    dZ^{[L]} = A^{[L]} - Y, \quad dW^{[l]} = \frac{1}{m} dZ^{[l]} A^{[l-1]T}, \quad
    db^{[l]} = \frac{1}{m} \sum_i dZ^{[l]}_{:, i}, \quad
    dZ^{[l-1]} = W^{[l]T} dZ^{[l]} * g'(Z^{[l-1]})

How: every layer input carries an extra row of ones, so with the ``[W | b]`` parameter blocks of
:class:`~core.architecture.ParameterLayout` one product gives ``Z`` (bias included) and one gives
``[dW | db]``; every buffer is allocated once and every numpy call writes with ``out=``
(``np.dot``, whose per-call overhead is the lowest for small arrays); the 1/m factor is applied
once to :math:`dZ^{[L]}`; the first layer never computes ``dX``. Callers hold
``np.errstate(over="ignore")`` (see :mod:`core.activations`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.activations import ACTIVATIONS, InplaceBackward, relu_backward
from core.architecture import Architecture, ParameterLayout
from core.losses import LOSSES

Array = NDArray[Any]


AUGMENT_LIMIT = 1 << 18
"""Largest ``n_x * m`` for which the data are copied next to a row of ones."""


def _with_ones_row(rows: int, m: int, dtype: np.dtype[Any]) -> Array:
    buffer = np.empty((rows + 1, m), dtype)
    buffer[-1] = 1.0
    return buffer


def _backward_of(name: str) -> InplaceBackward:
    backward = ACTIVATIONS[name].backward
    if backward is None:
        raise ValueError(f"{name} has no element-wise derivative: it cannot be a hidden layer.")
    return backward


class Workspace:
    """Buffers and passes for one architecture and one batch width ``m``.

    Call :meth:`bind` once with the flat parameter and gradient vectors, :meth:`load` (or
    :meth:`load_columns`) the data, then :meth:`forward`, :meth:`cost` and :meth:`backward` as
    often as needed.

    Small inputs get the ones row too (``[X; 1]``, shape ``(n_x + 1, m)``), which saves a bias
    add and a row sum per pass; above :data:`AUGMENT_LIMIT` elements the first layer adds its
    bias instead, so a large ``X`` is used in place rather than copied.

    Parameters
    ----------
    architecture : Architecture
        The network; buffers take its dtype.
    m : int
        Number of examples (columns) per pass.
    """

    def __init__(self, architecture: Architecture, m: int) -> None:
        dtype = np.dtype(architecture.dtype)
        sizes = architecture.layer_sizes
        self.m = m
        self.output_activation = architecture.output_activation
        n_x = sizes[0]
        self.augment_input = n_x * m <= AUGMENT_LIMIT
        self.inputs = (
            _with_ones_row(n_x, m, dtype) if self.augment_input else np.empty((0, m), dtype)
        )
        # Layer inputs [A; 1]: the data, then each hidden layer's activations.
        self.layer_inputs = [self.inputs]
        if not self.augment_input:
            self._dW0_T = np.empty((n_x, sizes[1]), dtype)
            self._db0 = np.empty((sizes[1], 1), dtype)
            self._ones = np.ones((m, 1), dtype)
        self.Z: list[Array] = []
        for n, name in zip(sizes[1:-1], architecture.hidden_activations, strict=True):
            A_aug = _with_ones_row(n, m, dtype)
            # A linear layer's Z is its A: write Z straight into the activation buffer.
            self.Z.append(A_aug[:-1] if name == "linear" else np.empty((n, m), dtype))
            self.layer_inputs.append(A_aug)
        n_y = sizes[-1]
        # Z^{[L]} shares one buffer with log1p(exp(-Z)) so a sigmoid cost is a single vdot.
        self._cost_terms = np.empty((2, n_y, m), dtype)
        self.Z.append(self._cost_terms[1])
        self.A_out = self.Z[-1] if self.output_activation == "linear" else np.empty_like(self.Z[-1])
        self.A_hidden = [A_aug[:-1] for A_aug in self.layer_inputs[1:]]
        self.E = np.empty_like(self.Z[-1])  # exp(-Z) of a sigmoid output, reused by the cost
        self.dZ = [np.empty_like(Z) for Z in self.Z]
        self.tmp = [np.empty_like(Z) for Z in self.Z]
        self.column = np.empty((1, m), dtype)
        self.targets = np.empty((sizes[-1], m), dtype)
        self._cost_weights = np.ones((2, n_y, m), dtype)  # [1; 1 - Y]
        self._complement_valid = False
        self.column_max = np.empty((1, m), dtype)
        self.hidden = [ACTIVATIONS[name] for name in architecture.hidden_activations]
        self._backward = [_backward_of(name) for name in architecture.hidden_activations]
        self.linear_hidden = [name == "linear" for name in architecture.hidden_activations]
        self._cost = LOSSES[self.output_activation].from_logits
        self._layout = ParameterLayout(sizes)
        self._blocks: list[Array] = []

    def bind(self, theta: Array, grad: Array) -> None:
        """Use the flat vectors ``theta`` (parameters) and ``grad`` (gradients) from now on."""
        blocks = self._layout.blocks(theta)
        grad_blocks = self._layout.blocks(grad)
        last = len(blocks) - 1
        self._blocks = blocks
        # Precomputed per-layer operands keep the Python work per pass to a loop over tuples.
        self._plan = [
            (
                self.dZ[l],
                self.layer_inputs[l],
                grad_blocks[l],
                self._transposed_buffer(self.layer_inputs[l].shape[0], blocks[l].shape[0]),
                blocks[l][:, :-1].T,
                self.dZ[l - 1],
                self._backward[l - 1],
                self.Z[l - 1],
                self.A_hidden[l - 1],
                self.tmp[l - 1],
            )
            for l in range(last, 0, -1)
        ]
        self._W0, self._b0 = blocks[0][:, :-1], blocks[0][:, -1:]
        self._grad_first = grad_blocks[0]

    def _transposed_buffer(self, n_in: int, n_out: int) -> Array | None:
        """A ``(n_in, n_out)`` buffer for ``dW^T`` when the layer's input is large, else None.

        For large inputs ``A @ dZ.T`` (the transposed gradient, then copied) is the faster
        product with OpenBLAS (docs/performance.md, "P2"); small layers skip the extra copy.
        """
        if n_in * self.m <= AUGMENT_LIMIT:
            return None
        return np.empty((n_in, n_out), self.Z[0].dtype)

    def forward(self) -> Array:
        """Forward pass on the loaded inputs; returns ``A^{[L]}`` (``(n_y, m)``)."""
        blocks, Zs, inputs = self._blocks, self.Z, self.layer_inputs
        last = len(blocks) - 1
        for l in range(last + 1):
            Z = Zs[l]
            if l == 0 and not self.augment_input:
                np.dot(self._W0, inputs[0], out=Z)
                np.add(Z, self._b0, out=Z)
            else:
                np.dot(blocks[l], inputs[l], out=Z)
            if l < last and not self.linear_hidden[l]:
                self.hidden[l].forward_into(Z, self.A_hidden[l])
        self._output(Zs[last], self.A_out)
        return self.A_out

    def _output(self, Z: Array, A: Array) -> None:
        # Sigmoid keeps exp(-Z) for the cost, softmax its column buffers: both stay
        # allocation-free here; any other output uses the table's in-place form.
        name = self.output_activation
        if name == "sigmoid":
            np.negative(Z, out=self.E)
            np.exp(self.E, out=self.E)
            np.add(self.E, 1.0, out=A)
            np.reciprocal(A, out=A)
        elif name == "softmax":
            np.max(Z, axis=0, keepdims=True, out=self.column_max)
            np.subtract(Z, self.column_max, out=A)
            np.exp(A, out=A)
            np.sum(A, axis=0, keepdims=True, out=self.column)
            np.divide(A, self.column, out=A)
        elif name != "linear":  # a linear output's A is its Z already
            ACTIVATIONS[name].forward_into(Z, A)

    def load(self, X: Array, Y: Array) -> None:
        """Use inputs ``X`` (``(n_x, m)``) and targets ``Y`` (``(n_y, m)``) from now on.

        Small ``X`` is copied; large ``X`` (C-contiguous, of the workspace dtype) is used in
        place and must not change while the workspace uses it.
        """
        if self.augment_input:
            np.copyto(self.inputs[:-1], X)
        else:
            self.layer_inputs[0] = X
        np.copyto(self.targets, Y)
        self._complement_valid = False

    def load_columns(self, X: Array, Y: Array, columns: NDArray[np.intp]) -> None:
        """Copy the given ``m`` columns of ``X`` and ``Y`` (a mini-batch) into the buffers."""
        if self.augment_input:
            np.take(X, columns, axis=1, out=self.inputs[:-1], mode="clip")
        else:
            if self.inputs.shape[0] != X.shape[0]:
                self.inputs = np.empty((X.shape[0], self.m), X.dtype)
            np.take(X, columns, axis=1, out=self.inputs, mode="clip")
            self.layer_inputs[0] = self.inputs
        np.take(Y, columns, axis=1, out=self.targets, mode="clip")
        self._complement_valid = False

    def cost(self) -> float:
        """Cost of the last forward pass against ``targets`` (no L2 term), exact from ``Z``."""
        Z, Y = self.Z[-1], self.targets
        if self.output_activation == "sigmoid":
            # softplus(z) - y z = log1p(exp(-z)) + (1 - y) z, with exp(-z) already computed:
            # the sum of both terms is one dot product of [log1p(E); Z] with [1; 1 - Y].
            if not self._complement_valid:
                np.subtract(1.0, self.targets, out=self._cost_weights[1])
                self._complement_valid = True
            np.log1p(self.E, out=self._cost_terms[0])
            value = float(np.vdot(self._cost_weights, self._cost_terms)) / self.m
            if math.isfinite(value):
                return value
            # exp(-z) overflowed (z < -709): the exact form handles it.
        return self._cost(Y, Z)

    def backward(self, scale: float = 1.0) -> None:
        """Write ``scale`` times ``[dW | db]`` of every layer into the bound gradient vector.

        Needs :meth:`forward` first; the gradient is the mean over the ``m`` columns of the
        matched cost (no L2 term). ``scale`` rides on the 1/m factor of :math:`dZ^{[L]}`, so
        plain gradient descent gets ``lambd * dW`` at no extra cost.
        """
        last = len(self._blocks) - 1
        dZ = self.dZ[last]
        np.subtract(self.A_out, self.targets, out=dZ)
        if self.output_activation == "relu":
            relu_backward(dZ, self.Z[last], self.A_out, self.tmp[last])
        np.multiply(dZ, scale / self.m, out=dZ)
        for dZ, A_in, dblock, dblock_T, W_T, dZ_prev, g_prime, Z_prev, A_prev, tmp in self._plan:
            if dblock_T is None:
                np.dot(dZ, A_in.T, out=dblock)
            else:
                np.dot(A_in, dZ.T, out=dblock_T)
                np.copyto(dblock, dblock_T.T)
            np.dot(W_T, dZ, out=dZ_prev)
            g_prime(dZ_prev, Z_prev, A_prev, tmp)
        dZ, X = self.dZ[0], self.layer_inputs[0]
        if self.augment_input:
            np.dot(dZ, X.T, out=self._grad_first)
        else:
            # np.dot writes only to contiguous outputs and [dW | db] is strided: compute dW^T
            # (see _transposed_buffer) and db apart, then copy them in.
            np.dot(X, dZ.T, out=self._dW0_T)
            np.dot(dZ, self._ones, out=self._db0)
            np.copyto(self._grad_first[:, :-1], self._dW0_T.T)
            np.copyto(self._grad_first[:, -1:], self._db0)
