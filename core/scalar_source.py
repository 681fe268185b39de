"""The Python source of a small network's forward pass, one statement per unit.

:class:`core.scalar_network.ScalarNetwork` compiles what :func:`forward_source` writes: the
parameters as float literals (``repr`` reads back as the same float), each pre-activation as a
left-to-right sum, and each unit's activation as the expression the activation table gives
(``core.activations.Activation.scalar``; softmax is written over the whole layer). The names the
source uses are ``x``, ``x{i}``, ``z``, ``z{l}_{j}``, ``a{l}_{j}``, ``s``, ``top``, ``total`` and
the table's helpers (``exp``, ``tanh``, ``sigmoid``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.activations import ACTIVATIONS, Activation

_TERMS_PER_STATEMENT = 100
"""Longest sum written as one expression: much longer ones nest too deep for ``compile``."""

_Z = re.compile(r"\bz\b")
Layer = tuple[Sequence[tuple[Sequence[float], float]], str]
"""``(pairs, activation name)``: one ``(weights, bias)`` pair per unit."""


def _literal(value: float) -> str:
    """``value`` as Python source: the shortest repr, which reads back as the same float."""
    return repr(float(value))


def _sum(terms: list[str]) -> tuple[list[str], str]:
    """Statements and a last expression computing ``terms[0] + terms[1] + ...`` left to right.

    A long sum is split into running partial sums ``s = s + ...`` (the same additions in the
    same order), since one expression of thousands of terms nests too deep to compile.
    """
    statements: list[str] = []
    while len(terms) > _TERMS_PER_STATEMENT:
        statements.append("s = " + " + ".join(terms[:_TERMS_PER_STATEMENT]))
        terms = ["s", *terms[_TERMS_PER_STATEMENT:]]
    return statements, " + ".join(terms)


def _pre_activation(w: Sequence[float], b: float, inputs: Sequence[str]) -> tuple[list[str], str]:
    """Statements and a last expression computing ``z = w . inputs + b``.

    ``sum(map(mul, w, A)) + b`` adds ``w_0 a_0``, ``w_1 a_1``, ... and then ``b`` left to
    right, starting from the integer 0 (Python 3.11's ``sum`` adds plainly). The expression
    ``w_0*a_0 + w_1*a_1 + ... + b`` makes the same additions without that first ``0 + ``, which
    changes nothing but the sign of a zero partial sum; the bias then absorbs that difference
    unless it is ``-0.0``, which is therefore written as ``0.0``. The two give the same float,
    bit for bit.
    """
    terms = [f"{_literal(w_k)}*{a_k}" for w_k, a_k in zip(w, inputs, strict=True)]
    terms.append(_literal(0.0 if b == 0.0 else b))
    return _sum(terms)


def _unit(output: str, expression: str, template: str) -> list[str]:
    """``output = template`` with ``z`` standing for ``expression``.

    A template that reads ``z`` once takes the expression in its place; one that reads it more
    often (``z if z > 0.0 ...``) gets ``z`` computed first, so it is evaluated once.
    """
    if len(_Z.findall(template)) == 1:
        return [f"{output} = " + _Z.sub(lambda _: f"({expression})", template)]
    return [f"z = {expression}", f"{output} = {template}"]


def _softmax_layer(
    l: int, pairs: Sequence[tuple[Sequence[float], float]], inputs: list[str]
) -> tuple[list[str], list[str]]:
    outputs = [f"a{l}_{j}" for j in range(len(pairs))]
    Z = [f"z{l}_{j}" for j in range(len(pairs))]
    lines: list[str] = []
    for z, (w, b) in zip(Z, pairs, strict=True):
        statements, expression = _pre_activation(w, b, inputs)
        lines += [*statements, f"{z} = {expression}"]
    # max(Z) written out: the first unit, replaced by each later one greater than it.
    lines.append(f"top = {Z[0]}")
    lines += [f"top = {z} if {z} > top else top" for z in Z[1:]]
    lines += [f"{a} = exp({z} - top)" for a, z in zip(outputs, Z, strict=True)]
    # sum(E) starts from 0, which changes nothing here: no exp is -0.0.
    statements, expression = _sum(outputs)
    lines += [*statements, f"total = {expression}"]
    lines += [f"{a} = {a} / total" for a in outputs]
    return lines, outputs


def _layer_source(
    l: int, layer: Layer, inputs: list[str], *, saturated: bool
) -> tuple[list[str], list[str]]:
    """The statements of layer ``l`` and the names of its units' outputs ``a{l}_{j}``.

    ``saturated`` writes each unit with its activation's overflow-free form where it has one
    (``Activation.scalar_saturated``).
    """
    pairs, name = layer
    activation = ACTIVATIONS[name]
    if activation.scalar is None:
        return _softmax_layer(l, pairs, inputs)
    template = activation.scalar
    if saturated and activation.scalar_saturated is not None:
        template = activation.scalar_saturated
    outputs = [f"a{l}_{j}" for j in range(len(pairs))]
    lines: list[str] = []
    for a, (w, b) in zip(outputs, pairs, strict=True):
        statements, expression = _pre_activation(w, b, inputs)
        lines += [*statements, *_unit(a, expression, template)]
    return lines, outputs


def may_overflow(activation: Activation) -> bool:
    """Whether the activation's scalar expression can raise ``OverflowError``."""
    return activation.scalar_saturated is not None


def forward_source(layers: Sequence[Layer], n_x: int) -> str:
    """The source of ``forward(x)`` for ``layers``.

    Layers from the first one whose expression may overflow on run inside ``try``; where an
    overflow happens there, the ``except`` branch computes them again with the saturating forms
    (Python 3.11's ``try`` costs nothing until something is raised).
    """
    inputs = [f"x{i}" for i in range(n_x)]
    body = [f"[{', '.join(inputs)}] = x"]
    first = next(
        (l for l, (_, g) in enumerate(layers) if may_overflow(ACTIVATIONS[g])), len(layers)
    )
    A = inputs
    for l, layer in enumerate(layers[:first], start=1):
        lines, A = _layer_source(l, layer, A, saturated=False)
        body += lines
    if first < len(layers):
        branches: list[list[str]] = []
        for saturated in (False, True):
            lines, outputs = [], A
            for l, layer in enumerate(layers[first:], start=first + 1):
                layer_lines, outputs = _layer_source(l, layer, outputs, saturated=saturated)
                lines += layer_lines
            branches.append(lines)
        A = outputs
        body += ["try:", *[f"    {s}" for s in branches[0]], "except OverflowError:"]
        body += [f"    {s}" for s in branches[1]]
    body.append(f"return [{', '.join(A)}]")
    return "def forward(x):\n" + "".join(f"    {s}\n" for s in body)
