"""CSV parsing: header, target column, numeric cells, label types, errors naming line and column."""

from __future__ import annotations

import numpy as np
import pytest

from app.errors import InvalidInput, LimitExceeded
from app.services.csv_table import parse_csv
from app.settings import Settings


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return Settings(data_dir=tmp_path, max_samples=10, max_features=3)


def test_default_target_is_last_column(settings: Settings) -> None:
    table = parse_csv(b"a,b,y\n1,2,0\n3,4,1\n\n", None, settings)
    assert table.feature_names == ["a", "b"]
    assert table.target_name == "y"
    assert np.array_equal(table.features, [[1.0, 2.0], [3.0, 4.0]])
    assert table.labels == [0, 1]


@pytest.mark.parametrize(
    ("cells", "labels"),
    [
        (["1", "2"], [1, 2]),
        (["1.5", "2"], [1.5, 2.0]),
        (["cat", "2"], ["cat", "2"]),
        ([" dog ", "cat"], ["dog", "cat"]),
    ],
)
def test_label_types(settings: Settings, cells: list[str], labels: list[object]) -> None:
    text = "y,x\n" + "\n".join(f"{c},{i}" for i, c in enumerate(cells)) + "\n"
    assert parse_csv(text.encode(), "y", settings).labels == labels


def test_bom_and_crlf(settings: Settings) -> None:
    table = parse_csv("\ufeffa,y\r\n1,u\r\n2,v\r\n".encode(), None, settings)
    assert table.feature_names == ["a"]
    assert table.labels == ["u", "v"]


def test_errors_name_line_and_column(settings: Settings) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_csv(b"a,b,y\n1,2,0\n1,inf,1\nx,2,0\n", None, settings)
    assert info.value.errors == [
        {"field": "file.line3.b", "message": "is NaN or infinite", "code": "not_finite"},
        {"field": "file.line4.a", "message": "is not a number", "code": "not_numeric"},
    ]


def test_limits(settings: Settings) -> None:
    with pytest.raises(LimitExceeded):
        parse_csv(b"a,b,c,d,y\n1,2,3,4,0\n", None, settings)
    with pytest.raises(LimitExceeded):
        parse_csv(b"a,y\n" + b"1,0\n" * 11, None, settings)


def test_overlong_column_names(settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="at most 200"):
        parse_csv(b"a," + b"y" * 201 + b"\n1,0\n2,1\n", None, settings)
    with pytest.raises(InvalidInput, match="printable"):
        parse_csv(b"a,y\x00\n1,0\n2,1\n", None, settings)
