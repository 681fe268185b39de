"""Derived features: products, powers and sines of numeric columns (the playground's ``x1^2``,
``x1*x2``, ``sin(x1)``).

A feature is a product of factors written ``a*b*...``; a factor is a column name with an
optional whole power (``x1^2``) or a function of one column (``sin(x1)``, ``cos(x1)``; see
:data:`FUNCTIONS`). Names may hold letters, digits, ``_``, ``.`` and ``-``. Derived values are
computed from the imputed, unscaled columns and then scaled like a number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.errors import ConfigurationError

FloatArray = NDArray[np.float64]
FUNCTIONS = {"sin": np.sin, "cos": np.cos}
MAX_POWER = 9
_FACTOR = re.compile(
    r"^(?:(?P<fn>[a-z]+)\((?P<arg>[^()]+)\)|(?P<name>[^()^*]+?)(?:\^(?P<p>\d+))?)$"
)


@dataclass(frozen=True)
class Factor:
    """One factor: ``column``, raised to ``power``, through ``function`` when given."""

    column: str
    power: int = 1
    function: str | None = None

    def apply(self, values: FloatArray) -> FloatArray:
        """The factor's values for the column's ``values``."""
        if self.function is not None:
            return FUNCTIONS[self.function](values)
        return values**self.power


@dataclass(frozen=True)
class DerivedFeature:
    """A product of factors, named by its expression."""

    expression: str
    factors: tuple[Factor, ...]

    @property
    def columns(self) -> list[str]:
        """The columns it reads."""
        return [f.column for f in self.factors]

    def values(self, columns: Mapping[str, FloatArray]) -> FloatArray:
        """The feature ``(m,)`` from imputed numeric ``columns``."""
        out = np.ones_like(columns[self.factors[0].column])
        with np.errstate(over="ignore", invalid="ignore"):
            for factor in self.factors:
                out = out * factor.apply(columns[factor.column])
        return out


def _factor(text: str, expression: str) -> Factor:
    match = _FACTOR.match(text.strip())
    if match is None:
        raise ConfigurationError(f"cannot read the factor {text!r} of {expression!r}.")
    if match["fn"] is not None:
        if match["fn"] not in FUNCTIONS:
            raise ConfigurationError(
                f"unknown function {match['fn']!r} in {expression!r}; "
                f"use one of {sorted(FUNCTIONS)}."
            )
        return Factor(match["arg"].strip(), 1, match["fn"])
    power = int(match["p"]) if match["p"] is not None else 1
    if not 1 <= power <= MAX_POWER:
        raise ConfigurationError(f"powers must be 1..{MAX_POWER}, got {power} in {expression!r}.")
    return Factor(match["name"].strip(), power)


def parse_derived(expression: str, numeric_columns: Sequence[str]) -> DerivedFeature:
    """The feature ``expression`` names; its columns must be among ``numeric_columns``."""
    text = expression.strip()
    if not text:
        raise ConfigurationError("a derived feature cannot be empty.")
    factors = tuple(_factor(part, expression) for part in text.split("*"))
    for factor in factors:
        if factor.column not in numeric_columns:
            raise ConfigurationError(
                f"derived feature {expression!r} names {factor.column!r}, which is not a "
                f"numeric column; numeric columns: {list(numeric_columns)}."
            )
    return DerivedFeature(text, factors)
