"""Column encoders: one raw column (see :mod:`core.table_values`) in, encoded rows out.

Each encoder is fitted on training rows only and turns a column ``(m,)`` into ``(k, m)`` rows of
the network's input ``X``. :data:`ENCODERS` maps a column type to its encoder class.

* numeric: missing values imputed (``median``, ``mean`` or ``constant``), then scaled:
  ``standard`` :math:`(x - \\mu) / s`, ``minmax`` :math:`(x - \\min) / (\\max - \\min)` or ``none``;
* boolean: 0/1, missing imputed with the most frequent value;
* datetime: numeric parts (year, month, day of week, day of year; hour and minute when the
  training rows have a time of day), each imputed and scaled as a number;
* categorical: one-hot over the training categories (the most frequent ``max_categories`` when
  set) plus one bucket for values unseen in training and the rarer ones; missing values take
  the most frequent category.

Any type can add a 0/1 missing-value indicator row (``missing_indicators``) when its training
rows had missing values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from core.errors import ConfigurationError
from core.table_values import Column, date_parts, has_time_of_day, missing_mask

FloatArray = NDArray[np.float64]
IMPUTATIONS = ("median", "mean", "constant")
SCALINGS = ("standard", "minmax", "none")
OTHER = "<other>"


@dataclass(frozen=True)
class EncodingOptions:
    """How columns are encoded; the defaults make the notes' gradient descent converge."""

    impute: str = "median"
    fill_value: float = 0.0
    scaling: str = "standard"
    max_categories: int | None = None
    missing_indicators: bool = False

    def __post_init__(self) -> None:
        if self.impute not in IMPUTATIONS:
            raise ConfigurationError(f"impute must be one of {IMPUTATIONS}, got {self.impute!r}.")
        if self.scaling not in SCALINGS:
            raise ConfigurationError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}.")
        if self.max_categories is not None and self.max_categories < 1:
            raise ConfigurationError(f"max_categories must be >= 1, got {self.max_categories}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "impute": self.impute,
            "fill_value": self.fill_value,
            "scaling": self.scaling,
            "max_categories": self.max_categories,
            "missing_indicators": self.missing_indicators,
        }


@dataclass
class NumberScale:
    """Imputation and scaling of one numeric row: ``(fill(x) - center) / scale``."""

    fill: float = 0.0
    center: float = 0.0
    scale: float = 1.0

    @classmethod
    def fit(cls, values: FloatArray, options: EncodingOptions) -> NumberScale:
        """Statistics of the present ``values`` (training rows)."""
        present = values[~np.isnan(values)]
        if options.impute == "constant":
            fill = options.fill_value
        elif present.size == 0:
            fill = 0.0
        else:
            fill = float(np.median(present) if options.impute == "median" else present.mean())
        filled = np.where(np.isnan(values), fill, values)
        center, scale = 0.0, 1.0
        if options.scaling == "standard" and filled.size:
            center, spread = float(filled.mean()), float(filled.std())
            scale = spread if spread > 0 else 1.0
        elif options.scaling == "minmax" and filled.size:
            center, spread = float(filled.min()), float(filled.max() - filled.min())
            scale = spread if spread > 0 else 1.0
        return cls(fill, center, scale)

    def apply(self, values: FloatArray) -> FloatArray:
        """``values`` imputed and scaled."""
        return (np.where(np.isnan(values), self.fill, values) - self.center) / self.scale

    def to_list(self) -> list[float]:
        """``[fill, center, scale]``."""
        return [self.fill, self.center, self.scale]


@dataclass
class Encoder:
    """Base of the column encoders: a name, an optional missing indicator, ``(k, m)`` output."""

    name: str
    indicator: bool = False
    kind: ClassVar[str] = ""

    def rows(self, column: Column, warnings: list[str]) -> FloatArray:
        """The encoded rows ``(width, m)`` of ``column``; unusual values are added to
        ``warnings``."""
        encoded = self._rows(column, warnings)
        if self.indicator:
            flags = missing_mask(column).astype(np.float64)[np.newaxis, :]
            encoded = np.concatenate([encoded, flags])
        return encoded

    def _rows(self, column: Column, warnings: list[str]) -> FloatArray:
        raise NotImplementedError

    def feature_names(self) -> list[str]:
        """One name per encoded row."""
        names = self._names()
        return [*names, f"{self.name}_missing"] if self.indicator else names

    def _names(self) -> list[str]:
        raise NotImplementedError

    @property
    def width(self) -> int:
        """Encoded rows ``k``."""
        return len(self.feature_names())

    def refit(self, column: Column, options: EncodingOptions) -> None:
        """Recompute the statistics from training ``column``, keeping the layout."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"type": self.kind, "name": self.name, "indicator": self.indicator}

    def schema(self) -> dict[str, Any]:
        """The column as clients see it: name, type and encoded width."""
        return {"name": self.name, "type": self.kind, "encoded_width": self.width}


@dataclass
class NumericEncoder(Encoder):
    """A number, imputed and scaled."""

    scale: NumberScale = field(default_factory=NumberScale)
    kind: ClassVar[str] = "numeric"

    def _rows(self, column: Column, warnings: list[str]) -> FloatArray:
        return self.scale.apply(np.asarray(column, dtype=np.float64))[np.newaxis, :]

    def _names(self) -> list[str]:
        return [self.name]

    def refit(self, column: Column, options: EncodingOptions) -> None:
        self.scale = NumberScale.fit(np.asarray(column, dtype=np.float64), options)

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"scale": self.scale.to_list()}


@dataclass
class BooleanEncoder(Encoder):
    """0 or 1; missing values take the training rows' most frequent value."""

    fill: float = 0.0
    kind: ClassVar[str] = "boolean"

    def _rows(self, column: Column, warnings: list[str]) -> FloatArray:
        values = np.asarray(column, dtype=np.float64)
        return np.where(np.isnan(values), self.fill, values)[np.newaxis, :]

    def _names(self) -> list[str]:
        return [self.name]

    def refit(self, column: Column, options: EncodingOptions) -> None:
        present = column[~np.isnan(column)]
        self.fill = float(present.mean() > 0.5) if present.size else 0.0

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"fill": self.fill}


@dataclass
class DatetimeEncoder(Encoder):
    """Date parts, each imputed and scaled like a number."""

    parts: list[str] = field(default_factory=list)
    scales: list[NumberScale] = field(default_factory=list)
    kind: ClassVar[str] = "datetime"

    def _rows(self, column: Column, warnings: list[str]) -> FloatArray:
        raw = date_parts(np.asarray(column, dtype=np.float64), self.parts)
        return np.array([s.apply(row) for s, row in zip(self.scales, raw, strict=True)])

    def _names(self) -> list[str]:
        return [f"{self.name}_{part}" for part in self.parts]

    def refit(self, column: Column, options: EncodingOptions) -> None:
        if not self.parts:
            self.parts = ["year", "month", "day_of_week", "day_of_year"]
            if has_time_of_day(column):
                self.parts += ["hour", "minute"]
        raw = date_parts(np.asarray(column, dtype=np.float64), self.parts)
        self.scales = [NumberScale.fit(row, options) for row in raw]

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {
            "parts": self.parts,
            "scales": [s.to_list() for s in self.scales],
        }


@dataclass
class CategoricalEncoder(Encoder):
    """One-hot over the known categories plus a bucket for unseen and rarer ones."""

    categories: list[str] = field(default_factory=list)
    fill: str | None = None
    kind: ClassVar[str] = "categorical"

    def _rows(self, column: Column, warnings: list[str]) -> FloatArray:
        lookup = {c: i for i, c in enumerate(self.categories)}
        bucket = len(self.categories)
        index = np.empty(len(column), dtype=np.int64)
        unseen: Counter[str] = Counter()
        for i, value in enumerate(column):
            if value is None:
                value = self.fill
            position = lookup.get(value) if value is not None else None
            if position is None:
                position = bucket
                if value is not None:
                    unseen[value] += 1
            index[i] = position
        if unseen:
            shown = ", ".join(repr(v) for v, _ in unseen.most_common(5))
            warnings.append(
                f"column {self.name!r}: {sum(unseen.values())} row(s) with value(s) unseen in "
                f"training ({shown}) were encoded as {OTHER!r}"
            )
        encoded = np.zeros((bucket + 1, len(column)))
        encoded[index, np.arange(len(column))] = 1.0
        return encoded

    def _names(self) -> list[str]:
        return [f"{self.name}={c}" for c in [*self.categories, OTHER]]

    def refit(self, column: Column, options: EncodingOptions) -> None:
        counts = Counter(v for v in column if v is not None)
        ranked = sorted(counts, key=lambda c: (-counts[c], c))
        if not self.categories:
            keep = ranked if options.max_categories is None else ranked[: options.max_categories]
            self.categories = sorted(keep)
        known = [c for c in ranked if c in set(self.categories)]
        self.fill = known[0] if known else None

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"categories": self.categories, "fill": self.fill}

    def schema(self) -> dict[str, Any]:
        return super().schema() | {"categories": self.categories}


ENCODERS: dict[str, type[Encoder]] = {
    "numeric": NumericEncoder,
    "boolean": BooleanEncoder,
    "datetime": DatetimeEncoder,
    "categorical": CategoricalEncoder,
}


def fit_encoder(kind: str, name: str, column: Column, options: EncodingOptions) -> Encoder:
    """A new encoder of type ``kind`` fitted on the training ``column``."""
    indicator = options.missing_indicators and bool(missing_mask(column).any())
    encoder = ENCODERS[kind](name=name, indicator=indicator)
    encoder.refit(column, options)
    return encoder


def encoder_from_dict(data: dict[str, Any]) -> Encoder:
    """Inverse of :meth:`Encoder.to_dict`."""
    kind, name, indicator = data["type"], str(data["name"]), bool(data["indicator"])
    if kind == "numeric":
        return NumericEncoder(name, indicator, NumberScale(*data["scale"]))
    if kind == "boolean":
        return BooleanEncoder(name, indicator, float(data["fill"]))
    if kind == "datetime":
        scales = [NumberScale(*s) for s in data["scales"]]
        return DatetimeEncoder(name, indicator, list(data["parts"]), scales)
    if kind == "categorical":
        return CategoricalEncoder(name, indicator, list(data["categories"]), data["fill"])
    raise ConfigurationError(f"unknown column type {kind!r}.")


def encode_all(
    encoders: Sequence[Encoder], columns: Sequence[Column], warnings: list[str]
) -> FloatArray:
    """The stacked rows of every encoder, ``(sum of widths, m)``."""
    return np.concatenate([e.rows(c, warnings) for e, c in zip(encoders, columns, strict=True)])
