"""Every kind of bad input gets a clear 4xx problem and leaves nothing behind (rows or files)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.app.helpers import CIRCLE, assert_problem, stored_files

GOOD_ROWS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]


def _nothing_stored(client: TestClient, settings: Settings) -> None:
    assert stored_files(settings) == []
    assert client.get("/v1/datasets").json()["total"] == 0
    assert client.get("/v1/models").json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"features": [[0.0, 0.0], [1.0]], "targets": [0, 1]}, "ragged_rows"),
        ({"features": [], "targets": []}, "empty_data"),
        ({"features": [[], []], "targets": [0, 1]}, "empty_data"),
        ({"features": [[1.0]], "targets": [1]}, "too_few_samples"),
        ({"features": GOOD_ROWS, "targets": [1, 1, 1, 1]}, "single_class"),
        ({"features": GOOD_ROWS, "targets": ["a", "b", "a"]}, "targets_length_mismatch"),
        ({"features": GOOD_ROWS, "targets": [0, "b", 0, "b"]}, "mixed_labels"),
        (
            {"features": GOOD_ROWS, "targets": ["a", "b", "c", "a"], "task": "binary"},
            "labels_do_not_fit_task",
        ),
        (
            {"features": GOOD_ROWS, "targets": ["a", "b", "a", "b"], "task": "regression"},
            "labels_do_not_fit_task",
        ),
        (
            {"features": GOOD_ROWS, "targets": [0, 1, 0, 1], "task": "multiclass"},
            "labels_do_not_fit_task",
        ),
        (
            {"features": GOOD_ROWS, "targets": [0.5, 1.5, 0.5, 1.5], "task": "binary"},
            "labels_do_not_fit_task",
        ),
        (
            {"features": GOOD_ROWS, "targets": [0, 1, 0, 1], "feature_names": ["a"]},
            "feature_names_length_mismatch",
        ),
        (
            {"features": GOOD_ROWS, "targets": [0, 1, 0, 1], "feature_names": ["a", "a"]},
            "duplicate_feature_names",
        ),
    ],
)
def test_semantic_errors_on_rows(
    client: TestClient, settings: Settings, body: dict[str, Any], code: str
) -> None:
    assert_problem(client.post("/v1/datasets", json={"name": "bad", **body}), 422, code)
    _nothing_stored(client, settings)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_values_are_refused(
    client: TestClient, settings: Settings, literal: bytes
) -> None:
    body = b'{"name": "x", "features": [[1, 2], [3, %s]], "targets": [0, 1]}' % literal
    response = client.post(
        "/v1/datasets", content=body, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"].startswith("body.features.1.1")
    target = b'{"name": "x", "features": [[1, 2], [3, 4]], "targets": [0.5, %s]}' % literal
    response = client.post(
        "/v1/datasets", content=target, headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation_error")
    _nothing_stored(client, settings)


def test_limits_on_rows(tmp_path: Any) -> None:
    from app.main import create_app

    settings = Settings(data_dir=tmp_path, max_samples=5, max_features=2)
    with TestClient(create_app(settings)) as small:
        too_many = {"name": "x", "features": [[0.0]] * 6, "targets": [0, 1] * 3}
        assert_problem(small.post("/v1/datasets", json=too_many), 422, "too_many_samples")
        too_wide = {"name": "x", "features": [[0.0, 1.0, 2.0]] * 2, "targets": [0, 1]}
        assert_problem(small.post("/v1/datasets", json=too_wide), 422, "too_many_features")
        generated = {**CIRCLE, "n_samples": 6}
        assert_problem(small.post("/v1/datasets/generate", json=generated), 422, "too_many_samples")
        csv_text = b"a,y\n" + b"1,0\n2,1\n" * 3
        upload = small.post("/v1/datasets/upload", files={"file": ("x.csv", csv_text)})
        assert_problem(upload, 422, "too_many_samples")
        assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("text", "form", "code"),
    [
        (b"a,b,y\n1,2,0\n3,x,1\n", {"column_types": '{"b": "numeric"}'}, "invalid_csv_cells"),
        (b"a,b,y\n1,2,0\n3,nan,1\n", {}, "invalid_csv_cells"),
        (b"a,b,y\n1,2,0\n3,1e301,1\n", {}, "invalid_csv_cells"),
        (b"a,b,y\n1,2,0\n3,4,1\n", {"column_types": '{"b": "colour"}'}, "invalid_column_type"),
        (b"a,b,y\n1,2,0\n3,4,1\n", {"drop": '["z"]'}, "unknown_column"),
        (b"a,b,y\n1,2,0\n3,4,1\n", {"column_types": "{"}, "invalid_form_field"),
        (b"a,b,y\n1,2,0\n3,1\n", {}, "ragged_rows"),
        (b"", {}, "empty_data"),
        (b"a,b,y\n", {}, "empty_data"),
        (b"a,b,y\n1,2,0\n3,4,0\n", {}, "single_class"),
        (b"a,b,y\n1,2,0\n3,4,1\n", {"target": "z"}, "unknown_target"),
        (b"a,a,y\n1,2,0\n3,4,1\n", {}, "invalid_csv"),
        (b"y\n0\n1\n", {}, "invalid_csv"),
        (b"a,y\n\xff\xfe,1\n", {}, "invalid_csv"),
        (b"a,y\n1,\n2,1\n", {}, "too_few_samples"),
    ],
)
def test_bad_csv(
    client: TestClient, settings: Settings, text: bytes, form: dict[str, str], code: str
) -> None:
    response = client.post("/v1/datasets/upload", files={"file": ("x.csv", text)}, data=form)
    assert_problem(response, 422, code)
    _nothing_stored(client, settings)


def test_bad_csv_names_every_column_with_count_and_lines(client: TestClient) -> None:
    rows = "".join(
        f"{i},{'oops' if i % 2 else i},{'inf' if i > 5 else i},{i % 2}\n" for i in range(9)
    )
    response = client.post(
        "/v1/datasets/upload",
        files={"file": ("x.csv", f"a,b,c,y\n{rows}".encode())},
        data={"column_types": '{"b": "numeric"}'},
    )
    problem = assert_problem(response, 422, "invalid_csv_cells")
    assert problem["detail"] == "7 bad cell(s) in 2 column(s)"
    assert problem["errors"] == [
        {
            "field": "file.b",
            "message": "4 cell(s) are not numbers (lines 3, 5, 7, 9)",
            "code": "not_numeric",
        },
        {
            "field": "file.c",
            "message": "3 cell(s) are NaN or infinite (lines 8, 9, 10)",
            "code": "not_finite",
        },
    ]


def test_oversized_bodies(tmp_path: Any) -> None:
    from app.main import create_app

    settings = Settings(data_dir=tmp_path, max_body_bytes=2_000, max_upload_bytes=3_000)
    with TestClient(create_app(settings)) as small:
        big = {"name": "x", "features": [[0.5, 0.5]] * 300, "targets": [0, 1] * 150}
        assert_problem(small.post("/v1/datasets", json=big), 413, "payload_too_large")
        csv_text = b"a,y\n" + b"0.5,1\n0.25,0\n" * 400
        upload = small.post("/v1/datasets/upload", files={"file": ("x.csv", csv_text)})
        assert_problem(upload, 413, "payload_too_large")

        def chunks() -> Any:  # no Content-Length: the limit applies while streaming
            for _ in range(10):
                yield b" " * 500

        streamed = small.post(
            "/v1/datasets", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(streamed, 413, "payload_too_large")
        assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/datasets", {"name": "x", "features": [[0.0]], "targets": [0], "extra": 1}),
        ("/v1/datasets/generate", {"kind": "donut"}),
        ("/v1/datasets/generate", {"kind": "circle", "noise": 2}),
        ("/v1/datasets/generate", {"kind": "circle", "n_samples": 1}),
        ("/v1/datasets/generate", {"kind": "circle", "test_fraction": 1.0}),
    ],
)
def test_schema_violations_list_the_fields(client: TestClient, path: str, body: Any) -> None:
    problem = assert_problem(client.post(path, json=body), 422, "validation_error")
    assert problem["errors"]
    assert all({"field", "message", "code"} == set(e) for e in problem["errors"])


def test_generator_options_core_refuses(client: TestClient) -> None:
    body = {"kind": "circle", "n_samples": 50, "n_classes": 3}
    assert_problem(
        client.post("/v1/datasets/generate", json=body), 422, "invalid_generator_options"
    )


@pytest.mark.parametrize(
    "bad_id",
    ["ds_123", "ds_0123456789ABCDEF", "ds_%2e%2e", "mdl_0123456789abcdef", "ds_0123456789abcdef0"],
)
def test_ids_that_are_not_ids(client: TestClient, bad_id: str) -> None:
    for method, suffix in [("GET", ""), ("DELETE", ""), ("GET", "/data"), ("GET", "/plot.png")]:
        response = client.request(method, f"/v1/datasets/{bad_id}{suffix}")
        assert_problem(response, 404, "invalid_id")


def test_wrong_content_types(client: TestClient) -> None:
    as_form = client.post("/v1/datasets", data={"name": "x"})
    assert_problem(as_form, 415, "unsupported_media_type")
    as_text = client.post(
        "/v1/datasets/generate", content=b"{}", headers={"content-type": "text/plain"}
    )
    assert_problem(as_text, 415, "unsupported_media_type")
    json_upload = client.post("/v1/datasets/upload", json={"file": "a,b"})
    assert_problem(json_upload, 415, "unsupported_media_type")
    no_type = client.post("/v1/datasets", content=b'{"name": "x"}')
    assert_problem(no_type, 415, "unsupported_media_type")


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/v1/datasets", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
