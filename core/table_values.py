"""Raw table values: the column types and how a cell of each type becomes a number or a text.

A *table* maps column names to 1-D arrays of length ``m``, one per column type:

* ``numeric``: float64, NaN where missing;
* ``boolean``: float64 0/1, NaN where missing;
* ``datetime``: float64 seconds since 1970-01-01 (UTC, naive times taken as UTC), NaN where missing;
* ``categorical``: object array of ``str``, None where missing; a table held whole (an upload
  being stored) keeps these as :class:`CategoryCodes` instead: int32 codes into the sorted
  texts, so a million cells cost 4 MB rather than a Python string each.

:func:`coerce` turns client values (JSON numbers, strings, booleans, nulls, or CSV cells) into
that form and lists the positions it could not read, so callers can name every bad cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

ColumnType = Literal["numeric", "categorical", "boolean", "datetime", "ignored"]
COLUMN_TYPES: tuple[str, ...] = ("numeric", "categorical", "boolean", "datetime", "ignored")
DEFAULT_NA_VALUES: tuple[str, ...] = ("", "NA", "NaN", "null", "None", "?")
MAX_ABS_VALUE = 1e300
"""Numbers beyond this are refused: their squares and sums would overflow float64."""

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})

Table = Mapping[str, NDArray[Any]]
Column = NDArray[Any]


def category_text(value: object) -> str:
    """The text of a category: whole numbers without a fraction (``2.0`` -> ``"2"``)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if (
        isinstance(value, float | np.floating)
        and math.isfinite(value)
        and float(value).is_integer()
    ):
        return str(int(value))
    return str(value).strip()


def _is_missing(value: object, na_values: frozenset[str]) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in na_values


def _number(value: object) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        if not -(2**63) <= int(value) < 2**63:
            return None
        return float(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _boolean(value: object) -> float | None:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float) and value in (0, 1):
        return float(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return 1.0
        if word in FALSE_WORDS:
            return 0.0
    return None


_YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?=$|[ T])")
"""A year-first date with ``/`` or ``.`` (``2012/01/31``, ``2012.1.31``): unambiguous, and how
many tables write their dates."""


def parse_datetime(text: str) -> float | None:
    """ISO 8601 ``text`` (a date, or a date and time) as seconds since the epoch, else None;
    a year-first date may also use ``/`` or ``.`` between its parts."""
    cleaned = text.strip()
    year_first = _YEAR_FIRST.match(cleaned)
    if year_first:
        year, month, day = year_first.groups()
        cleaned = f"{year}-{int(month):02d}-{int(day):02d}{cleaned[year_first.end() :]}"
    cleaned = cleaned.replace(" ", "T", 1)
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1]
    try:
        stamp = np.datetime64(cleaned, "s")
    except ValueError:
        return None
    if np.isnat(stamp):
        return None
    return float(stamp.astype(np.int64))


def _datetime(value: object) -> float | None:
    if isinstance(value, str):
        return parse_datetime(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else float(value.astype("datetime64[s]").astype(np.int64))
    return None


_READERS = {"numeric": _number, "boolean": _boolean, "datetime": _datetime}


def coerce(
    values: Sequence[Any] | NDArray[Any],
    kind: str,
    na_values: Sequence[str] = DEFAULT_NA_VALUES,
) -> tuple[Column, list[int], list[int]]:
    """``values`` as a column of type ``kind``, the positions not readable as that type and the
    positions out of range (non-finite, or beyond :data:`MAX_ABS_VALUE`).

    Missing values (None, NaN, or a string in ``na_values``) become NaN (None for categories).
    """
    na = frozenset(na_values)
    m = len(values)
    bad: list[int] = []
    out_of_range: list[int] = []
    if kind == "categorical":
        texts = np.empty(m, dtype=object)
        for i, value in enumerate(values):
            texts[i] = None if _is_missing(value, na) else category_text(value)
        return texts, bad, out_of_range
    read = _READERS[kind]
    column = np.full(m, np.nan)
    for i, value in enumerate(values):
        if _is_missing(value, na):
            continue
        number = read(value)
        if number is None:
            bad.append(i)
        elif not math.isfinite(number) or abs(number) > MAX_ABS_VALUE:
            out_of_range.append(i)
        else:
            column[i] = number
    return column, bad, out_of_range


@dataclass(frozen=True)
class CategoryCodes:
    """A categorical column as codes: ``codes[i]`` indexes ``categories`` (sorted, distinct
    texts), -1 where the cell is missing."""

    codes: NDArray[np.int32]
    categories: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    @classmethod
    def from_texts(cls, column: Column) -> CategoryCodes:
        """The codes of an object column of texts (None where missing)."""
        missing = missing_mask(column)
        categories = sorted({str(v) for v in column[~missing]})
        lookup = {text: code for code, text in enumerate(categories)}
        codes = np.fromiter(
            (-1 if v is None else lookup[v] for v in column), dtype=np.int32, count=len(column)
        )
        return cls(codes, tuple(categories))

    def texts(self) -> Column:
        """The column's texts: an object array, None where missing."""
        table = np.array([*self.categories, None], dtype=object)
        return table[np.where(self.codes >= 0, self.codes, len(self.categories))]

    def counts(self) -> NDArray[np.int64]:
        """How many cells hold each category."""
        present = self.codes[self.codes >= 0]
        return np.bincount(present, minlength=len(self.categories)).astype(np.int64)


def missing_mask(column: Column) -> NDArray[np.bool_]:
    """Where ``column`` (of any type) is missing."""
    if column.dtype == object:
        return np.array([v is None for v in column], dtype=bool)
    return np.isnan(column)


DATE_PARTS: tuple[str, ...] = ("year", "month", "day_of_week", "day_of_year", "hour", "minute")


def date_parts(seconds: NDArray[np.float64], parts: Sequence[str]) -> NDArray[np.float64]:
    """``parts`` of epoch ``seconds`` ``(m,)`` as rows ``(len(parts), m)``; NaN stays NaN.

    Day of week counts from Monday = 0 (1970-01-01 was a Thursday, 3); day of year from 1.
    """
    missing = np.isnan(seconds)
    whole = np.where(missing, 0, seconds).astype(np.int64)
    stamps = whole.astype("datetime64[s]")
    days = stamps.astype("datetime64[D]")
    years = stamps.astype("datetime64[Y]")
    values = {
        "year": years.astype(np.int64) + 1970,
        "month": stamps.astype("datetime64[M]").astype(np.int64) % 12 + 1,
        "day_of_week": (days.astype(np.int64) + 3) % 7,
        "day_of_year": (days - years.astype("datetime64[D]")).astype(np.int64) + 1,
        "hour": (whole % 86_400) // 3_600,
        "minute": (whole % 3_600) // 60,
    }
    out = np.array([values[p] for p in parts], dtype=np.float64).reshape(len(parts), -1)
    out[:, missing] = np.nan
    return out


def has_time_of_day(seconds: NDArray[np.float64]) -> bool:
    """Whether any present value of ``seconds`` is not at midnight."""
    present = seconds[~np.isnan(seconds)]
    return bool(present.size and np.any(present.astype(np.int64) % 86_400 != 0))
