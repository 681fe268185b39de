"""Health, readiness, Prometheus metrics, request ids, JSON access logs and CORS."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.logs import JsonFormatter
from app.main import create_app
from app.settings import Settings
from tests.app.helpers import CIRCLE


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {
        "status": "ready",
        "database": True,
        "database_writable": True,
        "data_dir_writable": True,
        "reason": None,
    }


def test_readyz_reports_unwritable_data_dir(tmp_path: Path) -> None:
    # A data dir under a regular file can never be created, whoever runs the test (root included,
    # for whom permission bits would not stop the write).
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    settings = Settings(
        data_dir=blocker / "data",
        database_url=f"sqlite:///{tmp_path / 'annserve.db'}",
        migrate_on_start=False,
    )
    client = TestClient(create_app(settings))  # no lifespan: the data dir cannot be made
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["database"] is True and body["data_dir_writable"] is False
    assert "data dir cannot be written" in body["reason"]


def test_readyz_reports_unreachable_database(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1",
        migrate_on_start=False,
    )
    client = TestClient(create_app(settings))  # no lifespan: migrations would fail first
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] is False
    assert client.get("/healthz").status_code == 200


def test_metrics_count_requests_by_route_and_status(client: TestClient) -> None:
    client.post("/v1/datasets/generate", json=CIRCLE)
    client.get("/v1/datasets/ds_0123456789abcdef")
    client.get("/v1/datasets/ds_0123456789abcdef")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = 'route="/v1/datasets/{dataset_id}"'
    assert f'annserve_http_requests_total{{method="GET",{route},status="404"}} 2.0' in text
    assert 'route="/v1/datasets/generate",status="201"' in text
    assert "annserve_http_request_duration_seconds_bucket" in text


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    given = client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32
    problem = client.get("/v1/models/mdl_0123456789abcdef", headers={"x-request-id": "r-1"})
    assert problem.json()["request_id"] == "r-1"


def test_access_log_is_json_with_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="annserve.access"):
        client.get("/v1/datasets", headers={"x-request-id": "log-me"})
    records = [r for r in caplog.records if r.name == "annserve.access"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["message"] == "request"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v1/datasets", 200)
    assert line["duration_ms"] >= 0


def test_json_formatter_includes_request_id_and_exception() -> None:
    from app.logs import request_id_var

    token = request_id_var.set("rid")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.getLogger("x").makeRecord(
                "x", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info=sys.exc_info()
            )
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "failed here"
    assert line["request_id"] == "rid"
    assert "ValueError: boom" in line["exception"]


def test_cors_for_configured_origins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cors_origins=["https://ui.example"])
    with TestClient(create_app(settings)) as client:
        preflight = client.options(
            "/v1/datasets",
            headers={
                "origin": "https://ui.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://ui.example"
        other = client.get("/healthz", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_unexpected_errors_are_500_problems_without_internals(client: TestClient) -> None:
    from fastapi import FastAPI

    app: FastAPI = client.app  # type: ignore[assignment]

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret /etc/passwd detail")

    response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text
