r"""The forward pass of a small float64 network in plain Python floats, for a few samples.

For one sample of a small network, the notes' forward pass

.. math::
    Z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}, \quad A^{[l]} = g^{[l]}(Z^{[l]})

costs a microsecond or two in Python arithmetic, while the same pass in numpy makes about
twenty-five calls of a microsecond or more each. :class:`ScalarNetwork` writes, once per network,
a Python function with the parameters as float literals and one statement per unit, such as
``a1_0 = tanh(0.25*x0 + -1.5*x1 + 0.125)`` (:mod:`core.scalar_source`), and compiles it (as
``collections.namedtuple`` and ``dataclasses`` write their methods). Each unit is the activation
table's scalar expression (``core.activations``), so it agrees with the numpy pass to rounding
(a relative 1e-12) and gives the same floats, bit for bit, as a loop of
``g(sum(map(mul, w, a)) + b)`` per unit on Python 3.11. :mod:`core.inference` chooses it for
requests small enough (:attr:`ScalarNetwork.max_samples`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from core.activations import ACTIVATIONS
from core.network import ANN
from core.scalar_source import forward_source, may_overflow

Vector = list[float]

# The crossover with numpy, measured (docs/performance.md, "the scalar crossover"): per sample
# the scalar pass costs about ROW_COST + n_parameters multiply-adds' worth more than numpy, and
# it is the faster one while samples * (ROW_COST + parameters) <= MAX_SCALAR_WORK.
ROW_COST = 12
MAX_SCALAR_WORK = 720


class ScalarNetwork:
    """A float64 network's parameters as Python floats, and its forward pass on single samples.

    Parameters
    ----------
    layers : sequence of (W, b, activation)
        Per layer ``l``: ``W`` of shape ``(n_l, n_{l-1})``, ``b`` of shape ``(n_l, 1)`` (float64
        arrays, every entry finite) and the name of ``g^{[l]}`` (a key of
        ``core.activations.ACTIVATIONS``).

    Raises
    ------
    ValueError
        When the layers do not chain, an activation is unknown or a parameter is NaN or
        infinite (a float literal cannot say so; :meth:`from_ann` answers None instead).

    Notes
    -----
    :attr:`forward` is compiled from :attr:`source`, which is made of nothing but the
    ``repr`` of Python floats (finite, so digits, ``.``, ``e`` and signs), fixed names and
    operators: no text of the caller's reaches it. It runs in a namespace of its own holding
    only the helpers it calls, with no builtins.
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
            if name not in ACTIVATIONS:
                raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {name!r}.")
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                raise ValueError("every parameter must be finite to be written as a literal.")
            pairs = tuple(zip(map(tuple, W.tolist()), b[:, 0].tolist(), strict=True))
            named.append((pairs, name))
            n_in = W.shape[0]
        self.n_x: int = layers[0][0].shape[1]
        self.n_y: int = n_in
        self.n_parameters: int = sum(W.size + b.size for W, b, _ in layers)
        self.max_samples: int = MAX_SCALAR_WORK // (ROW_COST + self.n_parameters)
        """Most samples per call for which this pass is the faster one."""
        self.source: str = forward_source(named, self.n_x)
        """The Python source of :attr:`forward`."""
        namespace: dict[str, Any] = {"__builtins__": {}}
        for _, name in named:
            namespace.update(ACTIVATIONS[name].scalar_helpers)
            if may_overflow(ACTIVATIONS[name]):
                namespace["OverflowError"] = OverflowError
        sizes = "-".join(str(n) for n in (self.n_x, *(len(pairs) for pairs, _ in named)))
        exec(compile(self.source, f"<scalar network {sizes}>", "exec"), namespace)
        forward = namespace.pop("forward")  # the namespace keeps only the helpers
        forward.__qualname__ = f"{type(self).__qualname__}.forward"
        forward.__module__ = __name__
        self.forward = cast(Callable[[Sequence[float]], Vector], forward)

    @classmethod
    def from_ann(cls, ann: ANN) -> ScalarNetwork | None:
        """The scalar form of ``ann``, or None when it would compute differently (float32), has
        a NaN or infinite parameter, or would not pay off even for one sample."""
        if ann.dtype != np.float64 or ROW_COST + ann.n_parameters > MAX_SCALAR_WORK:
            return None
        layers: list[tuple[NDArray[Any], NDArray[Any], str]] = [
            (getattr(ann, f"W{l}"), getattr(ann, f"b{l}"), name)
            for l, name in enumerate(ann.spec.activations, start=1)
        ]
        if not all(np.isfinite(W).all() and np.isfinite(b).all() for W, b, _ in layers):
            return None
        return cls(layers)
