"""Reading table cells: dates in ISO form and year-first with slashes or dots."""

from __future__ import annotations

import numpy as np
import pytest

from core.table_values import CategoryCodes, coerce, parse_datetime

JAN_31_2012 = 1327968000.0


@pytest.mark.parametrize(
    "text", ["2012-01-31", "2012/01/31", "2012/1/31", "2012.01.31", " 2012/01/31 "]
)
def test_year_first_dates_read_as_the_same_day(text: str) -> None:
    assert parse_datetime(text) == JAN_31_2012


def test_a_year_first_date_keeps_its_time() -> None:
    assert parse_datetime("2012/01/31 10:30") == JAN_31_2012 + 10.5 * 3600
    assert parse_datetime("2012/01/31T10:30:15") == JAN_31_2012 + 10.5 * 3600 + 15


@pytest.mark.parametrize(
    "text", ["2012/13/01", "2012/02/30", "31/01/2012", "01/31/2012", "2012/01/31x", "2012/01"]
)
def test_impossible_or_ambiguous_dates_are_not_dates(text: str) -> None:
    assert parse_datetime(text) is None


def test_coerce_names_the_cells_it_cannot_read() -> None:
    column, bad, _ = coerce(["2012/01/31", "soon", None], "datetime")
    assert column[0] == JAN_31_2012
    assert bad == [1]


def test_category_codes_round_trip_their_texts() -> None:
    column = np.array(["b", None, "a", "b", "c", None], dtype=object)
    coded = CategoryCodes.from_texts(column)
    assert coded.categories == ("a", "b", "c")
    assert coded.codes.tolist() == [1, -1, 0, 1, 2, -1]
    assert coded.counts().tolist() == [1, 2, 1]
    assert len(coded) == 6
    assert coded.texts().tolist() == column.tolist()
    empty = CategoryCodes.from_texts(np.array([None, None], dtype=object))
    assert empty.categories == () and empty.texts().tolist() == [None, None]
