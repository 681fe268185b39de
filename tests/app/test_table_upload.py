"""Uploads of real tables: delimiters, quoting, BOM, CRLF, Parquet, typed columns and profiles."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.helpers import assert_problem


def upload(client: TestClient, data: bytes, name: str = "t.csv", **form: str) -> Any:
    return client.post("/v1/datasets/upload", files={"file": (name, data)}, data=form)


def profile(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in body["stats"]["columns"] if p["name"] == name)


MIXED = (
    "\ufeffid;size;colour;when;member;note;y\r\n"
    + "".join(
        f'u{i};{"" if i % 5 == 0 else i * 1.5};"{["red", "gr;een", "blue"][i % 3]}";'
        f"2021-03-{i % 28 + 1:02d};{'yes' if i % 2 else 'no'};same;{'NA' if i == 7 else i % 2}\r\n"
        for i in range(30)
    )
).encode()


MIXED_TYPES = {
    "id": "ignored",
    "size": "numeric",
    "colour": "categorical",
    "when": "datetime",
    "member": "boolean",
    "note": "ignored",
}


def test_types_are_inferred_and_profiled(client: TestClient) -> None:
    response = upload(client, MIXED)
    assert response.status_code == 201, response.text
    body = response.json()
    assert {p["name"]: p["type"] for p in body["stats"]["columns"]} == MIXED_TYPES
    assert body["feature_names"] == ["size", "colour", "when", "member"]
    assert body["n_samples"] == 29
    assert body["stats"]["rows_dropped_missing_target"] == 1
    size = profile(body, "size")
    assert size["missing"] == 6 and size["min"] == 1.5 and size["max"] == 43.5
    colour = profile(body, "colour")
    assert colour["distinct"] == 3 and {t["value"] for t in colour["top"]} == {
        "red",
        "gr;een",
        "blue",
    }
    assert profile(body, "when")["min_iso"] == "2021-03-01T00:00:00"


def test_types_can_be_overridden(client: TestClient) -> None:
    form = {
        "column_types": '{"size": "categorical", "id": "categorical"}',
        "drop": '["when"]',
        "target": "y",
    }
    body = upload(client, MIXED, **form).json()
    types = {p["name"]: p["type"] for p in body["stats"]["columns"]}
    assert types["size"] == "categorical" and types["id"] == "categorical"
    assert types["when"] == "ignored"


def test_na_values_and_a_given_delimiter(client: TestClient) -> None:
    text = b"a|b|y\n1|-|0\n2|3|1\n4|5|0\n6|-|1\n"
    body = upload(client, text, delimiter="|", na_values='["-"]').json()
    assert profile(body, "b")["missing"] == 2


def test_parquet_upload(client: TestClient) -> None:
    table = pa.table(
        {
            "x": [1.0, None, 3.0, 4.0],
            "kind": ["a", "b", None, "a"],
            "flag": [True, False, True, None],
            "y": [0.5, 1.5, 2.5, 3.5],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    response = upload(client, buffer.getvalue(), name="t.parquet")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["task"] == "regression"
    assert [p["type"] for p in body["stats"]["columns"]] == ["numeric", "categorical", "boolean"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (b"a,b,y\n1,2,0\n3,1e301,1\n", "out_of_range"),
        (b"a,b,y\n1,2,0\n3,99999999999999999999,1\n", "out_of_range"),
    ],
)
def test_out_of_range_values_name_column_and_line(
    client: TestClient, text: bytes, code: str
) -> None:
    problem = assert_problem(upload(client, text), 422, "invalid_csv_cells")
    error = problem["errors"][0]
    assert error["field"] == "file.b" and error["code"] == code
    assert "line" in error["message"] and "3" in error["message"]


def test_json_rows_may_mix_values_and_nulls(client: TestClient) -> None:
    body = {
        "name": "mixed",
        "features": [[1, "a", None], [2.5, "b", True], [None, "a", False], [4, None, True]] * 2,
        "targets": [0, 1, 0, None] * 2,
        "feature_names": ["n", "c", "b"],
    }
    response = client.post("/v1/datasets", json=body)
    assert response.status_code == 201, response.text
    read = response.json()
    assert [p["type"] for p in read["stats"]["columns"]] == ["numeric", "categorical", "boolean"]
    assert read["stats"]["rows_dropped_missing_target"] == 2
    data = client.get(f"/v1/datasets/{read['id']}/data").json()
    assert data["features"][0] == [1.0, "a", None]


def test_year_first_dates_with_slashes_are_dates_not_identifiers(client: TestClient) -> None:
    rows = "".join(f"2012/{i // 28 + 1:02d}/{i % 28 + 1:02d},{i % 7},{i % 2}\n" for i in range(40))
    body = upload(client, f"date,x,y\n{rows}".encode()).json()
    assert profile(body, "date")["type"] == "datetime"
    assert body["feature_names"] == ["date", "x"]


def test_dataset_rows_show_dates_as_iso_text_that_uploads_back(client: TestClient) -> None:
    rows = "".join(
        f"{'' if i == 3 else f'2012/01/{i + 1:02d}'},2013-05-0{i % 9 + 1} 0{i % 10}:30,{i % 2}\n"
        for i in range(20)
    )
    dataset = upload(client, f"day,stamp,y\n{rows}".encode()).json()
    data = client.get(f"/v1/datasets/{dataset['id']}/data").json()
    assert data["features"][0] == ["2012-01-01", "2013-05-01T00:30:00"]
    assert data["features"][3][0] is None
    csv = client.get(f"/v1/datasets/{dataset['id']}/data", headers={"accept": "text/csv"})
    again = upload(client, csv.content).json()
    assert [profile(again, n)["type"] for n in ("day", "stamp")] == ["datetime", "datetime"]
    assert client.get(f"/v1/datasets/{again['id']}/data").json()["features"] == data["features"]


def test_text_mostly_distinct_is_an_identifier(client: TestClient) -> None:
    # 40 rows: "name" has 21 distinct values (more than half), "model" has 20 (half).
    rows = "".join(f"car {min(i, 20)},m{i % 20},{i % 3},{i % 2}\n" for i in range(40))
    body = upload(client, f"name,model,x,y\n{rows}".encode()).json()
    assert profile(body, "name")["type"] == "ignored"
    assert profile(body, "model")["type"] == "categorical"
    assert body["feature_names"] == ["model", "x"]


def test_categories_are_trimmed_counted_and_stored_as_their_texts(client: TestClient) -> None:
    cells = [" red", "red ", "blue", "", "red", "  green  ", "blue", "red"] * 3
    rows = "".join(f"{c},{i % 4},{i % 2}\n" for i, c in enumerate(cells))
    body = upload(client, f"colour,x,y\n{rows}".encode()).json()
    colour = profile(body, "colour")
    assert colour["type"] == "categorical" and colour["missing"] == 3
    assert colour["top"] == [
        {"value": "red", "count": 12},
        {"value": "blue", "count": 6},
        {"value": "green", "count": 3},
    ]
    data = client.get(f"/v1/datasets/{body['id']}/data").json()
    assert [row[0] for row in data["features"][:8]] == [
        "red", "red", "blue", None, "red", "green", "blue", "red",
    ]  # fmt: skip


def test_a_word_among_dates_makes_a_category_not_a_refusal(client: TestClient) -> None:
    # Sorted, the dates come before the word: the sample must still see the word.
    days = [f"2020-01-{i % 28 + 1:02d}" for i in range(60)] + ["unknown"] * 3
    rows = "".join(f"{d},{i % 5},{i % 2}\n" for i, d in enumerate(days))
    response = upload(client, f"when,x,y\n{rows}".encode())
    assert response.status_code == 201, response.text
    assert profile(response.json(), "when")["type"] == "categorical"


def test_text_forced_numeric_names_each_bad_cell_line(client: TestClient) -> None:
    rows = "".join(f"{'n/a' if i in (2, 9) else i},{i % 2}\n" for i in range(12))
    response = upload(client, f"a,y\n{rows}".encode(), column_types='{"a": "numeric"}')
    error = assert_problem(response, 422, "invalid_csv_cells")["errors"][0]
    assert error["field"] == "file.a" and error["code"] == "not_numeric"
    assert error["message"] == "2 cell(s) are not numbers (lines 4, 11)"


def test_text_forced_datetime_reads_each_distinct_text_once(client: TestClient) -> None:
    rows = "".join(f"2021/{i % 12 + 1}/1 ,{i % 3},{i % 2}\n" for i in range(30))
    body = upload(client, f"d,x,y\n{rows}".encode(), column_types='{"d": "datetime"}').json()
    when = profile(body, "d")
    assert when["type"] == "datetime" and when["distinct"] == 12
    assert when["min_iso"] == "2021-01-01T00:00:00" and when["max_iso"] == "2021-12-01T00:00:00"


def test_text_class_labels_are_sorted_classes(client: TestClient) -> None:
    rows = "".join(f"{i},{['cat', 'ant', 'bee'][i % 3]}\n" for i in range(30))
    body = upload(client, f"x,kind\n{rows}".encode()).json()
    assert body["task"] == "multiclass" and body["classes"] == ["ant", "bee", "cat"]
    counts = body["stats"]["target"]["class_counts"]
    assert counts == [{"label": c, "count": 10} for c in ("ant", "bee", "cat")]
    single = upload(client, b"x,kind\n1,a\n2,a\n3,a\n")
    assert_problem(single, 422, "single_class")


@pytest.mark.parametrize("stream_above", [0, 10**9])
def test_block_by_block_parsing_gives_the_whole_file_readers_table(
    settings: Settings, stream_above: int
) -> None:
    """Types from the first block that a later block breaks (integers, then a fraction and a
    word; empty cells, then numbers) fall back to the whole-file reader: same answer."""
    rows = [f"{i},{i % 7},,{['a', 'b'][i % 2]},{i % 2}" for i in range(100_000)]
    rows[-2:] = ["0.5,word,3.5,a,0", "2,3,4.5,b,1"]
    data = ("n,k,late,c,y\n" + "\n".join(rows) + "\n").encode()
    steady = ("n,c,y\n" + "".join(f"{i},{'ab'[i % 2]},{i % 2}\n" for i in range(150_000))).encode()
    streaming = settings.model_copy(update={"upload_stream_bytes": stream_above})
    with TestClient(create_app(streaming)) as client:
        body = upload(client, data).json()
        types = {p["name"]: p["type"] for p in body["stats"]["columns"]}
        assert types == {"n": "numeric", "k": "categorical", "late": "numeric", "c": "categorical"}
        assert profile(body, "late")["missing"] == 99_998 and profile(body, "n")["min"] == 0.0
        again = upload(client, steady).json()
        assert profile(again, "n")["max"] == 149_999 and profile(again, "c")["distinct"] == 2


@pytest.mark.parametrize("in_memory", [0, 1_000, 10**8])
def test_a_multipart_file_is_received_in_memory_or_on_disk_alike(
    settings: Settings, in_memory: int
) -> None:
    rows = "".join(f"{i},{'abc'[i % 3]},{i % 2}\n" for i in range(2_000))  # ~16 kB
    configured = settings.model_copy(update={"upload_memory_bytes": in_memory})
    with TestClient(create_app(configured)) as client:
        body = upload(client, f"n,c,y\n{rows}".encode()).json()
    assert body["n_samples"] == 2_000 and profile(body, "c")["distinct"] == 3
