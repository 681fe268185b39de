"""The Python source of a small network's forward pass, one statement per unit.

:class:`core.scalar_network.ScalarNetwork` compiles what :func:`forward_source` writes: the
parameters as float literals (``repr`` reads back as the same float), the pre-activations as
left-to-right sums, each unit's activation written out (``tanh``, an inlined ReLU, a sigmoid as
``1 / (1 + exp(-z))`` with the ``sigmoid`` helper as the fall-back where ``exp`` overflows, and
softmax over the layer). The names the source uses are ``x``, ``x{i}``, ``z{l}_{j}``,
``a{l}_{j}``, ``s``, ``z``, ``top``, ``total`` and the helpers ``exp``, ``tanh`` and ``sigmoid``.
"""

from __future__ import annotations

from collections.abc import Sequence

_TERMS_PER_STATEMENT = 100
"""Longest sum written as one expression: much longer ones nest too deep for ``compile``."""


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


def _pre_activation(
    w: Sequence[float], b: float, inputs: Sequence[str], *, negated: bool = False
) -> tuple[list[str], str]:
    """Statements and a last expression computing ``z = w . inputs + b`` (or ``-z``).

    ``sum(map(mul, w, A)) + b`` adds ``w_0 a_0``, ``w_1 a_1``, ... and then ``b`` left to
    right, starting from the integer 0 (Python 3.11's ``sum`` adds plainly). The expression
    ``w_0*a_0 + w_1*a_1 + ... + b`` makes the same additions without that first ``0 + ``, which
    changes nothing but the sign of a zero partial sum; the bias then absorbs that difference
    unless it is ``-0.0``, which is therefore written as ``0.0``. The two give the same float,
    bit for bit. With ``negated`` the weights and bias are negated instead of the result, which
    gives exactly ``-z`` (rounding to nearest is symmetric) but for the sign of a zero, whose
    ``exp`` is 1 either way.
    """
    sign = -1.0 if negated else 1.0
    bias = sign * b
    terms = [f"{_literal(sign * w_k)}*{a_k}" for w_k, a_k in zip(w, inputs, strict=True)]
    terms.append(_literal(0.0 if bias == 0.0 else bias))
    return _sum(terms)


def _layer_source(
    l: int,
    pairs: Sequence[tuple[Sequence[float], float]],
    name: str,
    inputs: list[str],
    *,
    saturating: bool,
) -> tuple[list[str], list[str]]:
    """The statements of layer ``l`` and the names of its units' outputs ``a{l}_{j}``.

    ``saturating`` writes a sigmoid unit as a call of ``sigmoid``
    (:func:`core.scalar_network.sigmoid`), which turns an overflowing ``exp`` into the limit 0;
    without it the unit is written out, and such an overflow raises ``OverflowError``.
    """
    outputs = [f"a{l}_{j}" for j in range(len(pairs))]
    lines: list[str] = []
    if name == "softmax":
        Z = [f"z{l}_{j}" for j in range(len(pairs))]
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
    for a, (w, b) in zip(outputs, pairs, strict=True):
        if name == "sigmoid" and not saturating:
            statements, expression = _pre_activation(w, b, inputs, negated=True)
            unit = f"1.0 / (1.0 + exp({expression}))"
        else:
            statements, expression = _pre_activation(w, b, inputs)
            if name == "relu":
                unit = f"z if (z := {expression}) > 0.0 or z != z else 0.0"
            elif name == "linear":
                unit = expression
            else:  # tanh, or sigmoid through the helper
                unit = f"{name}({expression})"
        lines += [*statements, f"{a} = {unit}"]
    return lines, outputs


def forward_source(
    layers: Sequence[tuple[Sequence[tuple[Sequence[float], float]], str]], n_x: int
) -> str:
    """The source of ``forward(x)`` for ``layers`` (``(pairs, activation name)`` each).

    Layers from the first sigmoid layer on run inside ``try``; where an ``exp`` overflows there,
    the ``except`` branch computes them again through ``sigmoid``
    (:func:`core.scalar_network.sigmoid`; Python 3.11's ``try`` costs nothing until something is
    raised).
    """
    inputs = [f"x{i}" for i in range(n_x)]
    body = [f"[{', '.join(inputs)}] = x"]
    first_sigmoid = next((l for l, (_, g) in enumerate(layers) if g == "sigmoid"), len(layers))
    A = inputs
    for l, (pairs, name) in enumerate(layers[:first_sigmoid], start=1):
        lines, A = _layer_source(l, pairs, name, A, saturating=False)
        body += lines
    if first_sigmoid < len(layers):
        branches: list[list[str]] = []
        for saturating in (False, True):
            lines, outputs = [], A
            for l, (pairs, name) in enumerate(layers[first_sigmoid:], start=first_sigmoid + 1):
                layer_lines, outputs = _layer_source(l, pairs, name, outputs, saturating=saturating)
                lines += layer_lines
            branches.append(lines)
        A = outputs
        body += ["try:", *[f"    {s}" for s in branches[0]], "except OverflowError:"]
        body += [f"    {s}" for s in branches[1]]
    body.append(f"return [{', '.join(A)}]")
    return "def forward(x):\n" + "".join(f"    {s}\n" for s in body)
