"""Checks of numbers where they enter: labels that fit their type, values that convert to
finite float64, and data whose spread a plot can show.

JSON and CSV carry integers of any size; Python keeps them exactly, numpy does not. Each check
here turns what would later be an ``OverflowError`` or an unrepresentable label into a 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import MAX_REPORTED_ERRORS, FieldError, InvalidInput

INT64 = np.iinfo(np.int64)
# A plot pads its axes by a few percent of the data's spread; that padded spread must be finite.
_PLOT_MARGIN = 2.0


def float64_values(values: Sequence[Any], field: str) -> NDArray[np.float64]:
    """``values`` as finite float64, or ``InvalidInput`` naming the first values that are not
    (NaN, infinite, or integers too large for float64)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except OverflowError:
        array = np.asarray([_float_or_inf(v) for v in values], dtype=np.float64)
    if not np.isfinite(array).all():
        bad = np.flatnonzero(~np.isfinite(array))
        errors = [
            FieldError(
                field=f"{field}.{i}", message="is NaN, infinite or too big", code="not_finite"
            )
            for i in bad[:MAX_REPORTED_ERRORS]
        ]
        raise InvalidInput(
            f"{len(bad)} {field} value(s) are NaN, infinite or too large for float64",
            code="not_finite",
            errors=errors,
        )
    return array


def _float_or_inf(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf")


def check_float64_ints(values: Sequence[Any], field: str) -> None:
    """``InvalidInput`` when an integer in ``values`` (or in a row of them) is too large to be
    a float64, so that a later conversion cannot overflow."""
    bad = [
        i
        for i, v in enumerate(values)
        if any(
            isinstance(x, int) and not isinstance(x, bool) and not _fits_float(x)
            for x in (v if isinstance(v, list) else [v])
        )
    ]
    if bad:
        raise InvalidInput(
            f"{len(bad)} {field} value(s) are too large for float64",
            code="not_finite",
            errors=[
                FieldError(
                    field=f"{field}.{i}", message="is too big for float64", code="not_finite"
                )
                for i in bad[:MAX_REPORTED_ERRORS]
            ],
        )


def _fits_float(value: int) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


def check_int_labels(labels: Sequence[Any], field: str = "targets") -> None:
    """``InvalidInput`` when an integer class label does not fit in int64."""
    bad = [
        i
        for i, v in enumerate(labels)
        if isinstance(v, int) and not isinstance(v, bool) and not INT64.min <= v <= INT64.max
    ]
    if bad:
        raise InvalidInput(
            f"{len(bad)} integer class label(s) do not fit in 64 bits",
            code="label_out_of_range",
            errors=[
                FieldError(
                    field=f"{field}.{i}",
                    message=f"is outside [{INT64.min}, {INT64.max}]",
                    code="label_out_of_range",
                )
                for i in bad[:MAX_REPORTED_ERRORS]
            ],
        )


def check_plottable(values: NDArray[Any], what: str) -> None:
    """``InvalidInput`` when the spread of ``values`` (per column) is too large to plot."""
    if values.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        high, low = np.max(values, axis=0), np.min(values, axis=0)
        spread = (high - low) * _PLOT_MARGIN
        reach = np.maximum(np.abs(high), np.abs(low)) * _PLOT_MARGIN
    if not (np.isfinite(spread).all() and np.isfinite(reach).all()):
        raise InvalidInput(
            f"the {what} span too large a range to plot (beyond float64 once padded)",
            code="not_plottable",
        )
