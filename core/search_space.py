"""A hyperparameter search space: named dimensions, their grid and their random samples.

A dimension is a list of choices, ``{"uniform": [a, b]}``, ``{"log_uniform": [a, b]}`` (uniform in
``log``, for scales such as a learning rate) or ``{"int": [a, b]}`` (integers, both ends included).
Grids enumerate choices and integer ranges in the order given, the first dimension varying
slowest (scikit-learn's ``ParameterGrid`` order for a sorted space); samples come from the
``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import ConfigurationError


class SpaceError(ConfigurationError):
    """A dimension that cannot be searched; ``path`` names it, ``code`` says why."""

    def __init__(self, path: str, message: str, code: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message, self.code = path, message, code


@dataclass(frozen=True)
class Choice:
    """One of a list of values."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class Uniform:
    """A float uniform on ``[low, high]``."""

    low: float
    high: float


@dataclass(frozen=True)
class LogUniform:
    """A float whose logarithm is uniform on ``[log low, log high]`` (``low > 0``)."""

    low: float
    high: float


@dataclass(frozen=True)
class IntRange:
    """An integer in ``low..high``, both included."""

    low: int
    high: int


Dimension = Choice | Uniform | LogUniform | IntRange
_RANGES = ("uniform", "log_uniform", "int")


def _range(path: str, kind: str, bounds: Any) -> Dimension:
    if not (isinstance(bounds, list | tuple) and len(bounds) == 2):
        raise SpaceError(path, f"{kind} takes [low, high], got {bounds!r}", "invalid_range")
    low, high = bounds
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in bounds)
    if not numbers or not all(math.isfinite(v) for v in bounds):
        raise SpaceError(path, f"{kind} bounds must be finite numbers", "invalid_range")
    if kind == "int" and not all(isinstance(v, int) for v in bounds):
        raise SpaceError(path, "int bounds must be integers", "invalid_range")
    if not low < high:
        raise SpaceError(path, f"low must be below high, got [{low}, {high}]", "invalid_range")
    if kind == "log_uniform" and low <= 0:
        raise SpaceError(path, f"log_uniform needs low > 0, got {low}", "invalid_range")
    if kind == "int":
        return IntRange(low, high)
    return LogUniform(low, high) if kind == "log_uniform" else Uniform(low, high)


def parse_dimension(path: str, spec: Any) -> Dimension:
    """The dimension ``spec`` describes (a list, or a one-key object naming a range)."""
    if isinstance(spec, list):
        if not spec:
            raise SpaceError(path, "the list of choices is empty", "empty_dimension")
        return Choice(tuple(spec))
    if isinstance(spec, Mapping) and len(spec) == 1:
        ((kind, bounds),) = spec.items()
        if kind in _RANGES:
            return _range(path, kind, bounds)
    raise SpaceError(
        path,
        "expected a list of choices or one of {uniform|log_uniform|int: [low, high]}",
        "invalid_dimension",
    )


def parse_space(space: Mapping[str, Any]) -> dict[str, Dimension]:
    """Every dimension of ``space``, in its order; an empty space is refused."""
    if not space:
        raise SpaceError("space", "the search space is empty", "empty_space")
    return {path: parse_dimension(path, spec) for path, spec in space.items()}


def _grid_values(path: str, dimension: Dimension) -> list[Any]:
    if isinstance(dimension, Choice):
        return list(dimension.values)
    if isinstance(dimension, IntRange):
        return list(range(dimension.low, dimension.high + 1))
    raise SpaceError(
        path, "a grid needs choices or an int range, not a continuous range", "not_enumerable"
    )


def grid_size(space: Mapping[str, Dimension]) -> int:
    """How many points the grid over ``space`` has."""
    sizes = [len(_grid_values(path, d)) for path, d in space.items()]
    return math.prod(sizes)


def grid_point(space: Mapping[str, Dimension], number: int) -> dict[str, Any]:
    """Point ``number`` of the grid (the last dimension varies fastest)."""
    values = {path: _grid_values(path, d) for path, d in space.items()}
    point: dict[str, Any] = {}
    for path in reversed(list(values)):
        number, index = divmod(number, len(values[path]))
        point[path] = values[path][index]
    return {path: point[path] for path in values}


def grid(space: Mapping[str, Dimension]) -> list[dict[str, Any]]:
    """Every point of the grid over ``space``, in order."""
    values = {path: _grid_values(path, d) for path, d in space.items()}
    return [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]


def sample_dimension(dimension: Dimension, rng: np.random.Generator) -> Any:
    """One random value of ``dimension``."""
    if isinstance(dimension, Choice):
        return dimension.values[int(rng.integers(len(dimension.values)))]
    if isinstance(dimension, IntRange):
        return int(rng.integers(dimension.low, dimension.high + 1))
    if isinstance(dimension, LogUniform):
        return float(np.exp(rng.uniform(np.log(dimension.low), np.log(dimension.high))))
    return float(rng.uniform(dimension.low, dimension.high))


def sample(space: Mapping[str, Dimension], rng: np.random.Generator) -> dict[str, Any]:
    """One random point of ``space`` (dimensions drawn in order from ``rng``)."""
    return {path: sample_dimension(d, rng) for path, d in space.items()}
