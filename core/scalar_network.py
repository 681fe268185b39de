r"""The forward pass of a small float64 network in plain Python floats, for a few samples.

For one sample of a small network, the notes' forward pass

.. math::
    Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \quad A^{[l]} = g^{[l]}(Z^{[l]})

costs a few microseconds in Python arithmetic, while the same pass in numpy makes about
twenty-five calls of a microsecond or more each. :class:`ScalarNetwork` holds a network's
parameters once as tuples of Python floats and computes the pass with ``math.exp`` and
``math.tanh``, with the formulas of the engine's in-place forms (``core.activations.INPLACE``),
so it agrees with the numpy pass to rounding (a relative 1e-12). Past a few hundred
multiply-adds per call numpy's per-element speed wins: :meth:`ScalarNetwork.pays_off` says when.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import mul
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from core.network import ANN

Vector = list[float]

ROW_COST = 44
"""Fixed cost of one sample through the scalar pass (row check, layer loops, labels), counted in
parameters: the pass costs about ``ROW_COST + n_parameters`` multiply-adds' worth per sample."""

MAX_SCALAR_WORK = 360
"""Largest ``samples * (ROW_COST + parameters)`` for which the scalar pass is the faster one.

Measured in a hot loop on the 2-core x86_64 of ``docs/performance.md`` (Python 3.11, numpy 2.4),
row checks, forward pass and labels together: the scalar path costs about 2.2 µs + 0.05 µs per
parameter per sample, the numpy path 18-20 µs for up to 16 small rows. Crossings: 5-6 samples
of a 2-4-1 network (17 parameters), 2 of a 2-8-8-1 (105), 1 of a 10-32-3 (451, a tie).
"""


def sigmoid(z: float) -> float:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, as ``sigmoid_into``: where ``exp`` overflows, numpy
    gets ``inf`` and so the exact limit 0."""
    try:
        return 1.0 / (1.0 + math.exp(-z))
    except OverflowError:
        return 0.0


def relu(z: float) -> float:
    """:math:`\\max(z, 0)`, propagating NaN and turning ``-0.0`` into ``0.0`` as ``np.maximum``."""
    return z if z > 0.0 or z != z else 0.0


def linear(Z: Vector) -> Vector:
    """Identity (on a layer's units)."""
    return Z


def softmax(Z: Vector) -> Vector:
    """Softmax over a layer's units, the maximum subtracted first (as ``core.activations``)."""
    top = max(Z)
    E = [math.exp(z - top) for z in Z]
    total = sum(E)
    return [e / total for e in E]


UNIT_ACTIVATIONS: dict[str, Callable[[float], float]] = {
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "relu": relu,
}
"""Activations applied unit by unit: ``name -> g(z)``."""

LAYER_ACTIVATIONS: dict[str, Callable[[Vector], Vector]] = {"linear": linear, "softmax": softmax}
"""Activations applied to a layer's whole ``Z`` (``linear`` costs nothing that way)."""

ACTIVATION_NAMES: tuple[str, ...] = (*UNIT_ACTIVATIONS, *LAYER_ACTIVATIONS)

# Per layer: the (row of W, b_j) pairs, and either g per unit or g on the layer's Z.
Layer = tuple[
    tuple[tuple[tuple[float, ...], float], ...],
    Callable[[float], float] | None,
    Callable[[Vector], Vector],
]


class ScalarNetwork:
    """A float64 network's parameters as Python floats, and its forward pass on single samples.

    Parameters
    ----------
    layers : sequence of (W, b, activation)
        Per layer ``l``: ``W`` of shape ``(n_l, n_{l-1})``, ``b`` of shape ``(n_l, 1)`` (float64
        arrays) and the name of ``g^{[l]}`` (one of :data:`ACTIVATION_NAMES`).
    """

    def __init__(self, layers: Sequence[tuple[NDArray[np.float64], NDArray[np.float64], str]]):
        if not layers:
            raise ValueError("a network needs at least one layer, got none.")
        built: list[Layer] = []
        n_in = layers[0][0].shape[1]
        for W, b, name in layers:
            if W.ndim != 2 or W.shape[1] != n_in or b.shape != (W.shape[0], 1):
                raise ValueError(f"layer shapes W {W.shape}, b {b.shape} do not chain.")
            if name not in ACTIVATION_NAMES:
                raise ValueError(f"activation must be one of {ACTIVATION_NAMES}, got {name!r}.")
            pairs = tuple(zip(map(tuple, W.tolist()), b[:, 0].tolist(), strict=True))
            built.append((pairs, UNIT_ACTIVATIONS.get(name), LAYER_ACTIVATIONS.get(name, linear)))
            n_in = W.shape[0]
        self.layers: tuple[Layer, ...] = tuple(built)
        self.n_x: int = layers[0][0].shape[1]
        self.n_y: int = n_in
        self.n_parameters: int = sum(W.size + b.size for W, b, _ in layers)
        self.max_samples: int = MAX_SCALAR_WORK // (ROW_COST + self.n_parameters)
        """Most samples per call for which this pass is the faster one (see :meth:`pays_off`)."""

    @classmethod
    def from_ann(cls, ann: ANN) -> ScalarNetwork | None:
        """The scalar form of ``ann``, or None when it would compute differently (float32) or
        would not pay off even for one sample (see :data:`MAX_SCALAR_WORK`)."""
        if ann.dtype != np.float64 or ROW_COST + ann.n_parameters > MAX_SCALAR_WORK:
            return None
        layers: list[tuple[NDArray[Any], NDArray[Any], str]] = [
            (getattr(ann, f"W{l}"), getattr(ann, f"b{l}"), name)
            for l, name in enumerate(ann.spec.activations, start=1)
        ]
        return cls(layers)

    def pays_off(self, m: int) -> bool:
        """Whether ``m`` samples are cheaper through this pass than through numpy."""
        return m <= self.max_samples

    def forward(self, x: Sequence[float]) -> Vector:
        """``A^{[L]}`` (``n_y`` floats) of one sample ``x`` (``n_x`` floats, finite)."""
        A: Sequence[float] = x
        for pairs, g, g_layer in self.layers:
            # One comprehension per layer: Z and A of each unit without an intermediate list.
            if g is None:
                A = g_layer([sum(map(mul, w, A)) + b_j for w, b_j in pairs])
            else:
                A = [g(sum(map(mul, w, A)) + b_j) for w, b_j in pairs]
        return cast(Vector, A)  # every layer answers a fresh list

    def forward_rows(self, rows: Sequence[Sequence[float]]) -> list[Vector]:
        """``A^{[L]}`` as rows ``(m, n_y)`` of samples given as rows ``(m, n_x)``."""
        return [self.forward(x) for x in rows]
