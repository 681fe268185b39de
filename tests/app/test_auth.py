"""API keys: every /v1 endpoint needs one when configured; health endpoints stay open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.helpers import assert_problem

KEYS = ["first-key-0123456789", "second-key-0123456789"]


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    # Every route is probed without a key from one address: a budget that never runs out.
    settings = Settings(data_dir=tmp_path, api_keys=KEYS, auth_failure_budget=10_000)
    with TestClient(create_app(settings)) as client:
        yield client


def _v1_routes(client: TestClient) -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []
    for path, item in client.get("/openapi.json").json()["paths"].items():
        if path.startswith("/v1"):
            concrete = path.replace("{dataset_id}", "ds_0123456789abcdef")
            concrete = concrete.replace("{model_id}", "mdl_0123456789abcdef")
            routes.extend((method.upper(), concrete) for method in item)
    return routes


def test_every_v1_route_requires_a_key(secured: TestClient) -> None:
    routes = _v1_routes(secured)
    assert len(routes) >= 13
    for method, path in routes:
        response = secured.request(method, path)
        body = assert_problem(response, 401, "missing_api_key")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert body["title"] == "Unauthorized"


@pytest.mark.parametrize(
    "header",
    ["Bearer wrong-key-0123456789", "Basic Zm9vOmJhcg==", "Bearer", KEYS[0], f"Bearer {KEYS[0]}x"],
)
def test_bad_credentials(secured: TestClient, header: str) -> None:
    response = secured.get("/v1/datasets", headers={"authorization": header})
    assert_problem(response, 401)
    assert "www-authenticate" in response.headers


def test_each_configured_key_works(secured: TestClient) -> None:
    for key in KEYS:
        response = secured.get("/v1/models", headers={"authorization": f"Bearer {key}"})
        assert response.status_code == 200
    lower = secured.get("/v1/models", headers={"authorization": f"bearer {KEYS[1]}"})
    assert lower.status_code == 200


def test_open_endpoints(secured: TestClient) -> None:
    open_paths = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]
    for path in [*open_paths, "/v2/health/live", "/v2/health/ready"]:
        assert secured.get(path).status_code == 200, path


def test_open_without_keys(client: TestClient) -> None:
    assert client.get("/v1/datasets").status_code == 200
