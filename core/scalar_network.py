r"""The forward pass of a small float64 network in plain Python floats, for a few samples.

For one sample of a small network, the notes' forward pass

.. math::
    Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \quad A^{[l]} = g^{[l]}(Z^{[l]})

costs a microsecond or two in Python arithmetic, while the same pass in numpy makes about
twenty-five calls of a microsecond or more each. :class:`ScalarNetwork` writes, once per network,
a Python function with the parameters as float literals and one statement per unit, such as
``a1_0 = tanh(0.25*x0 + -1.5*x1 + 0.125)``, and compiles it (as ``collections.namedtuple`` and
``dataclasses`` write their methods): no loops, and no calls per unit but ``math.exp`` and
``math.tanh``. It computes with the formulas of the engine's in-place forms
(``core.activations.INPLACE``), so it agrees with the numpy pass to rounding (a relative 1e-12),
and gives the same floats, bit for bit, as a loop of ``g(sum(map(mul, w, a)) + b)`` per unit on
Python 3.11. Past about seven hundred multiply-adds per call numpy's per-element speed wins:
:meth:`ScalarNetwork.pays_off` says when.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from core.network import ANN
from core.scalar_source import forward_source

Vector = list[float]

ROW_COST = 12
"""What one more sample costs the scalar pass beyond its multiply-adds (row check, labels, the
call), less what it costs numpy, counted in parameters: per sample the scalar pass pays about
``ROW_COST + n_parameters`` multiply-adds' worth more than numpy."""

MAX_SCALAR_WORK = 720
"""Largest ``samples * (ROW_COST + parameters)`` for which the scalar pass is the faster one.

Measured in a hot loop on a 2-vCPU AMD EPYC (Python 3.11.7, numpy 2.4.6): the service's plain
path (row checks, this forward pass, labels) against its numpy path (row checks, forward pass,
labels) on the same loaded classifier, the minimum of interleaved repeats. The scalar path costs
about 2.3 µs per call + 0.43 µs per sample + 0.019 µs per parameter and sample, the numpy path
16.5-17.5 µs per call + 0.15-0.5 µs per sample for networks of up to 800 parameters. Most samples
for which the scalar path was faster: 24 of a 2-4-1 network (17 parameters; a tie at 24), 7 of
a 2-8-8-1 (105), 4 of a 4-16-3 (131; a tie at 5), 3 of a 10-16-3 (227), 1 of a 10-32-3 (451)
and of a 10-48-3 (675; nearly a tie), none of a 10-56-3 (787) or anything bigger. These two
constants give each of those counts but the 2-8-8-1's (6, whose units are cheaper).
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


class ScalarNetwork:
    """A float64 network's parameters as Python floats, and its forward pass on single samples.

    Parameters
    ----------
    layers : sequence of (W, b, activation)
        Per layer ``l``: ``W`` of shape ``(n_l, n_{l-1})``, ``b`` of shape ``(n_l, 1)`` (float64
        arrays, every entry finite) and the name of ``g^{[l]}`` (one of
        :data:`ACTIVATION_NAMES`).

    Raises
    ------
    ValueError
        When the layers do not chain, an activation is unknown or a parameter is NaN or
        infinite (a float literal cannot say so; :meth:`from_ann` answers None instead).

    Notes
    -----
    :attr:`forward` is compiled from :attr:`source`, which is made of nothing but the
    ``repr`` of Python floats (finite, so digits, ``.``, ``e`` and signs), fixed names
    (``x``, ``x{i}``, ``z{l}_{j}``, ``a{l}_{j}``, ``s``, ``z``, ``top``, ``total``, ``exp``,
    ``tanh``, ``sigmoid``) and operators: no text of the caller's reaches it. It runs in a
    namespace of its own holding only the helpers it calls, with no builtins.
    """

    forward: Callable[[Sequence[float]], Vector]
    """``A^{[L]}`` (a fresh list of ``n_y`` floats) of one sample ``x`` (``n_x`` floats, finite);
    an ``x`` of another length raises ``ValueError``."""

    def __init__(self, layers: Sequence[tuple[NDArray[np.float64], NDArray[np.float64], str]]):
        if not layers:
            raise ValueError("a network needs at least one layer, got none.")
        named: list[tuple[Sequence[tuple[Sequence[float], float]], str]] = []
        n_in = layers[0][0].shape[1]
        for W, b, name in layers:
            if W.ndim != 2 or W.shape[1] != n_in or b.shape != (W.shape[0], 1):
                raise ValueError(f"layer shapes W {W.shape}, b {b.shape} do not chain.")
            if name not in ACTIVATION_NAMES:
                raise ValueError(f"activation must be one of {ACTIVATION_NAMES}, got {name!r}.")
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                raise ValueError("every parameter must be finite to be written as a literal.")
            pairs = tuple(zip(map(tuple, W.tolist()), b[:, 0].tolist(), strict=True))
            named.append((pairs, name))
            n_in = W.shape[0]
        self.n_x: int = layers[0][0].shape[1]
        self.n_y: int = n_in
        self.n_parameters: int = sum(W.size + b.size for W, b, _ in layers)
        self.max_samples: int = MAX_SCALAR_WORK // (ROW_COST + self.n_parameters)
        """Most samples per call for which this pass is the faster one (see :meth:`pays_off`)."""
        self.source: str = forward_source(named, self.n_x)
        """The Python source of :attr:`forward`."""
        names = {name for _, name in named}
        namespace: dict[str, Any] = {"__builtins__": {}}
        if "tanh" in names:
            namespace["tanh"] = math.tanh
        if names & {"sigmoid", "softmax"}:
            namespace["exp"] = math.exp
        if "sigmoid" in names:
            namespace.update(sigmoid=sigmoid, OverflowError=OverflowError)
        sizes = "-".join(str(n) for n in (self.n_x, *(len(pairs) for pairs, _ in named)))
        exec(compile(self.source, f"<scalar network {sizes}>", "exec"), namespace)
        forward = namespace.pop("forward")  # the namespace keeps only the helpers
        forward.__qualname__ = f"{type(self).__qualname__}.forward"
        forward.__module__ = __name__
        self.forward = cast(Callable[[Sequence[float]], Vector], forward)

    @classmethod
    def from_ann(cls, ann: ANN) -> ScalarNetwork | None:
        """The scalar form of ``ann``, or None when it would compute differently (float32), has
        a NaN or infinite parameter, or would not pay off even for one sample (see
        :data:`MAX_SCALAR_WORK`)."""
        if ann.dtype != np.float64 or ROW_COST + ann.n_parameters > MAX_SCALAR_WORK:
            return None
        layers: list[tuple[NDArray[Any], NDArray[Any], str]] = [
            (getattr(ann, f"W{l}"), getattr(ann, f"b{l}"), name)
            for l, name in enumerate(ann.spec.activations, start=1)
        ]
        if not all(np.isfinite(W).all() and np.isfinite(b).all() for W, b, _ in layers):
            return None
        return cls(layers)

    def pays_off(self, m: int) -> bool:
        """Whether ``m`` samples are cheaper through this pass than through numpy."""
        return m <= self.max_samples

    def forward_rows(self, rows: Sequence[Sequence[float]]) -> list[Vector]:
        """``A^{[L]}`` as rows ``(m, n_y)`` of samples given as rows ``(m, n_x)``."""
        forward = self.forward
        return [forward(x) for x in rows]
