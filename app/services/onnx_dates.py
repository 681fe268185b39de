"""Date parts as ONNX nodes: :func:`core.table_values.date_parts` of epoch seconds.

The input is float64 seconds since 1970-01-01 UTC (NaN where missing), the encoding
:mod:`core.table_values` gives a datetime column. Whole seconds are taken as numpy takes them
(``astype(int64)``, towards zero) and everything after is exact int64 arithmetic: ONNX ``Mod``
with ``fmod=0`` takes the divisor's sign, as Python's ``%`` does, so
:math:`\\lfloor a / b \\rfloor = (a - a \\bmod b) / b` for ``b > 0``. Year, month and day of
year come from the day count by H. Hinnant's ``civil_from_days`` and ``days_from_civil``
(proleptic Gregorian calendar, years counted from March in 400-year eras of 146,097 days),
which is the calendar of numpy's ``datetime64``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from app.services.onnx_graph import GraphBuilder

SECONDS_PER_DAY = 86_400
DAYS_PER_ERA = 146_097
EPOCH_SHIFT = 719_468  # days from 0000-03-01 to 1970-01-01
MARCH_TO_JANUARY = 306  # days from 1 March to the next 1 January


def date_part_nodes(g: GraphBuilder, seconds: str, parts: Sequence[str]) -> dict[str, str]:
    """Int64 tensors of ``parts`` (names of :data:`core.table_values.DATE_PARTS`) of the
    float64 tensor ``seconds``; a missing value gives the parts of 0 (callers impute it)."""
    INT64 = g.onnx.TensorProto.INT64

    def floor_div(a: str, b: int) -> str:
        return g.op("Div", g.op("Sub", a, g.op("Mod", a, g.i64(b), fmod=0)), g.i64(b))

    def div(a: str, b: int) -> str:  # for a >= 0, where truncation is the floor
        return g.op("Div", a, g.i64(b))

    def add(a: str, b: int) -> str:
        return g.op("Add", a, g.i64(b))

    present = g.op("Where", g.op("IsNaN", seconds), g.f64(0.0), seconds)
    whole = g.op("Cast", present, to=INT64)

    @cache
    def days() -> str:
        return floor_div(whole, SECONDS_PER_DAY)

    @cache
    def civil() -> tuple[str, str, str]:
        """``(year, month, March-based day of year)`` of ``days()``."""
        z = add(days(), EPOCH_SHIFT)
        era = floor_div(z, DAYS_PER_ERA)
        doe = g.op("Mod", z, g.i64(DAYS_PER_ERA), fmod=0)  # day of era, [0, 146096]
        leaps = g.op("Add", g.op("Sub", div(doe, 1460), div(doe, 36_524)), div(doe, 146_096))
        yoe = div(g.op("Sub", doe, leaps), 365)  # year of era, [0, 399]
        start = g.op("Add", g.op("Mul", yoe, g.i64(365)), g.op("Sub", div(yoe, 4), div(yoe, 100)))
        doy = g.op("Sub", doe, start)  # from 1 March, [0, 365]
        mp = div(add(g.op("Mul", doy, g.i64(5)), 2), 153)  # month from March, [0, 11]
        month = add(g.op("Mod", add(mp, 2), g.i64(12), fmod=0), 1)
        year = g.op("Add", g.op("Add", yoe, g.op("Mul", era, g.i64(400))), div(mp, 10))
        return year, month, doy

    def january_first(year: str) -> str:
        """Days since the epoch of 1 January of ``year`` (day 306 of the March-based year
        before)."""
        before = add(year, -1)
        era = floor_div(before, 400)
        yoe = g.op("Mod", before, g.i64(400), fmod=0)
        doe = g.op("Add", g.op("Mul", yoe, g.i64(365)), g.op("Sub", div(yoe, 4), div(yoe, 100)))
        doe = add(doe, MARCH_TO_JANUARY)
        return add(g.op("Add", g.op("Mul", era, g.i64(DAYS_PER_ERA)), doe), -EPOCH_SHIFT)

    builders: dict[str, Callable[[], str]] = {
        "year": lambda: civil()[0],
        "month": lambda: civil()[1],
        "day_of_week": lambda: g.op("Mod", add(days(), 3), g.i64(7), fmod=0),
        "day_of_year": lambda: add(g.op("Sub", days(), january_first(civil()[0])), 1),
        "hour": lambda: div(g.op("Mod", whole, g.i64(SECONDS_PER_DAY), fmod=0), 3_600),
        "minute": lambda: div(g.op("Mod", whole, g.i64(3_600), fmod=0), 60),
    }
    return {part: builders[part]() for part in parts}
