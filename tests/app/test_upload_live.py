"""Uploads to a real server process, as clients send them: multipart from httpx and from curl,
a Parquet file, and bad files that leave nothing behind."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.app.helpers import assert_problem
from tests.app.test_table_upload import MIXED, MIXED_TYPES, profile
from tests.conftest import LiveServer, StartServer


def _files(server: LiveServer) -> set[Path]:
    """Every file under the data dir but the database and the markers."""
    return {
        p
        for p in server.data_dir.rglob("*")
        if p.is_file() and not p.name.startswith(("annserve.db", ".changes"))
    }


def _check_mixed(body: dict[str, Any]) -> None:
    assert {p["name"]: p["type"] for p in body["stats"]["columns"]} == MIXED_TYPES
    assert body["n_samples"] == 29 and body["stats"]["rows_dropped_missing_target"] == 1
    assert profile(body, "size")["missing"] == 6
    assert profile(body, "when")["min_iso"] == "2021-03-01T00:00:00"


@pytest.fixture
def server(live_server: StartServer) -> LiveServer:
    return live_server()


def test_multipart_uploads_from_httpx_and_curl(server: LiveServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        sent = http.post(
            "/v1/datasets/upload",
            files={"file": ("members.csv", io.BytesIO(MIXED), "text/csv")},
            data={"target": "y", "name": "members"},
        )
        assert sent.status_code == 201, sent.text
        body = sent.json()
        _check_mixed(body)
        assert sent.headers["location"] == f"/v1/datasets/{body['id']}"
        read = http.get(f"/v1/datasets/{body['id']}").json()
        assert read["stats"] == body["stats"] and read["name"] == "members"
        rows = http.get(f"/v1/datasets/{body['id']}/data", params={"subset": "all"}).json()
        assert len(rows["targets"]) == 29
        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        path = tmp_path / "members.csv"
        path.write_bytes(MIXED)
        result = subprocess.run(
            [
                "curl",
                "-sS",
                "-X",
                "POST",
                f"{server.base_url}/v1/datasets/upload",
                "-F",
                f"file=@{path};type=text/csv",
                "-F",
                "target=y",
            ],
            capture_output=True,
            timeout=30,
            check=True,
        )
        by_curl = json.loads(result.stdout)
        _check_mixed(by_curl)
        assert by_curl["name"] == "members.csv"  # the file's name by default
        assert by_curl["stats"] == body["stats"]


def test_a_parquet_file_keeps_its_types(server: LiveServer) -> None:
    table = pa.table(
        {
            "height": pa.array([1.5, None, 2.5, 3.0, 4.5, 5.0] * 5),
            "kind": pa.array(["a", "b", None, "a", "c", "b"] * 5),
            "flag": pa.array([True, False, None, True, True, False] * 5),
            "day": pa.array([f"2024-01-{d:02d}" for d in range(1, 7)] * 5).cast(pa.date32()),
            "label": pa.array(["x", "y"] * 15),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        sent = http.post(
            "/v1/datasets/upload",
            files={"file": ("t.parquet", buffer.getvalue(), "application/vnd.apache.parquet")},
            data={"target": "label"},
        )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    types = {p["name"]: p["type"] for p in body["stats"]["columns"]}
    assert types == {
        "height": "numeric",
        "kind": "categorical",
        "flag": "boolean",
        "day": "datetime",
    }
    assert body["classes"] == ["x", "y"] and body["task"] == "binary"
    assert profile(body, "height")["missing"] == 5 and profile(body, "flag")["missing"] == 5


@pytest.mark.parametrize(
    ("content", "form", "status", "code"),
    [
        (b"", {}, 422, "empty_data"),
        (b"a,b,y\n1,2\n3,4,5\n", {}, 422, "ragged_rows"),
        (b"a,y\n\xff\xfe,1\n2,0\n", {}, 422, None),
        (b"a,y\n1,0\n2,1\n", {"target": "nope"}, 422, "unknown_target"),
        (b"a,y\n1,0\n2,1\n", {"column_types": "{not json"}, 422, "invalid_form_field"),
        (b"a,y\n1e400,0\n2,1\n3,0\n", {}, 422, None),
    ],
)
def test_a_bad_file_is_refused_and_leaves_nothing(
    server: LiveServer, content: bytes, form: dict[str, str], status: int, code: str | None
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        before_files = _files(server)
        before = http.get("/v1/datasets").json()["total"]
        sent = http.post(
            "/v1/datasets/upload", files={"file": ("bad.csv", content, "text/csv")}, data=form
        )
        problem = assert_problem(sent, status)
        assert code is None or problem["code"] == code, problem
        assert http.get("/v1/datasets").json()["total"] == before
        assert _files(server) == before_files  # no dataset file, no spooled upload
        assert http.get("/healthz").status_code == 200  # the connection and server are fine


def test_a_broken_parquet_file_is_422_without_the_servers_paths(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        sent = http.post(
            "/v1/datasets/upload",
            files={
                "file": ("t.parquet", b"PAR1 not really parquet PAR1", "application/octet-stream")
            },
        )
    problem = assert_problem(sent, 422)
    assert problem["code"] == "invalid_parquet"
    assert str(server.data_dir) not in sent.text and ".upload." not in sent.text


def test_raw_body_uploads_from_curl_and_a_streamed_httpx_body(
    server: LiveServer, tmp_path: Path
) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(MIXED)
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "--data-binary",
            f"@{path}",
            "-H",
            "Content-Type: text/csv",
            f"{server.base_url}/v1/datasets/upload/raw?target=y&filename=members.csv",
        ],
        capture_output=True,
        timeout=30,
        check=True,
    )
    by_curl = json.loads(result.stdout)
    _check_mixed(by_curl)
    assert by_curl["source"] == {"kind": "upload", "filename": "members.csv", "bytes": len(MIXED)}

    def chunks() -> Any:  # a body of unknown length: sent chunked
        for start in range(0, len(MIXED), 100):
            yield MIXED[start : start + 100]

    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        sent = http.post(
            "/v1/datasets/upload/raw",
            params={"target": "y", "name": "streamed", "column_types": '{"id": "categorical"}'},
            content=chunks(),
            headers={"content-type": "text/csv; charset=utf-8"},
        )
        assert sent.status_code == 201, sent.text
        body = sent.json()
        assert body["name"] == "streamed" and profile(body, "id")["type"] == "categorical"
        assert sent.headers["location"] == f"/v1/datasets/{body['id']}"


def test_a_raw_parquet_body_is_read_as_parquet(server: LiveServer) -> None:
    table = pa.table({"x": [1.0, 2.0, None, 4.0] * 5, "kind": ["a", "b"] * 10})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        for media in ("application/vnd.apache.parquet", "application/octet-stream"):
            sent = http.post(
                "/v1/datasets/upload/raw",
                content=buffer.getvalue(),
                headers={"content-type": media},
            )
            assert sent.status_code == 201, sent.text
            body = sent.json()
            assert body["classes"] == ["a", "b"] and profile(body, "x")["missing"] == 5


BAD_RAW_BODIES: list[tuple[bytes, dict[str, str], dict[str, str], int, str | None]] = [
    (b"a,y\n1,0\n2,1\n", {"content-type": "application/json"}, {}, 415, None),
    (b"a,y\n1,0\n2,1\n", {"content-type": "application/x-www-form-urlencoded"}, {}, 415, None),
    (b"", {"content-type": "text/csv"}, {}, 422, "empty_data"),
    (b"a,b,y\n1,2\n3,4,5\n", {"content-type": "text/csv"}, {}, 422, "ragged_rows"),
    (b"a,y\n1,0\n2,1\n", {"content-type": "text/csv"}, {"target": "nope"}, 422, None),
    (b"a,y\n1,0\n2,1\n", {"content-type": "text/csv"}, {"drop": "[1]"}, 422, None),
    (b"a,y\n1,0\n2,1\n", {"content-type": "text/csv"}, {"test_fraction": "2"}, 422, None),
    (b"PAR1 no PAR1", {"content-type": "application/octet-stream"}, {}, 422, "invalid_parquet"),
]


def test_a_bad_raw_body_is_refused_and_leaves_nothing(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        for content, headers, params, status, code in BAD_RAW_BODIES:
            before_files = _files(server)
            sent = http.post(
                "/v1/datasets/upload/raw", content=content, headers=headers, params=params
            )
            problem = assert_problem(sent, status)
            assert code is None or problem["code"] == code, problem
            assert http.get("/v1/datasets").json()["total"] == 0
            assert _files(server) == before_files
            assert http.get("/healthz").status_code == 200


def test_a_raw_body_is_held_to_the_upload_limit_before_and_while_it_is_read(
    live_server: StartServer,
) -> None:
    limits = {"ANNSERVE_MAX_UPLOAD_BYTES": "5000", "ANNSERVE_MAX_BODY_BYTES": "1000"}
    server = live_server(env=limits)
    fits = b"a,y\n" + b"".join(b"%d,%d\n" % (i, i % 2) for i in range(400))  # ~2.5 kB
    big = b"a,y\n" + b"1,0\n" * 2000

    def chunks() -> Any:  # no Content-Length: refused once 5,000 bytes have arrived
        yield big

    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        sent = http.post(
            "/v1/datasets/upload/raw", content=fits, headers={"content-type": "text/csv"}
        )
        assert sent.status_code == 201, sent.text  # over max_body_bytes, within the upload limit
        declared = http.post(
            "/v1/datasets/upload/raw", content=big, headers={"content-type": "text/csv"}
        )
        assert_problem(declared, 413)
        streamed = http.post(
            "/v1/datasets/upload/raw", content=chunks(), headers={"content-type": "text/csv"}
        )
        assert_problem(streamed, 413)
        assert not list((server.data_dir / "uploads").glob(".upload.*"))
