"""Tenants: every resource belongs to the tenant whose key created it; another tenant gets 404 on
every route of the schema (read from /openapi.json, so a new route is covered at once) and never
sees it in a list; a read key may read and score but not write. Against a real server."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from tests.app.jobs_support import CIRCLE_400, NOTES_MODEL
from tests.conftest import StartServer

KEY_A = "tenant-a-key-0123456789"
KEY_B = "tenant-b-key-0123456789"
KEY_A_READ = "tenant-a-read-0123456789"
KEYS = f"team-a:write:{KEY_A},team-b:write:{KEY_B},team-a:read:{KEY_A_READ}"
# Path parameters that name a tenant's resource, and which of tenant A's ids fills each.
OWNED = {
    "dataset_id": "dataset",
    "model_id": "model",
    "job_id": "job",
    "name": "model",
    "search_id": "search",
}


def _client(base_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}, timeout=30.0)


def _resources(http: httpx.Client) -> dict[str, str]:
    dataset = http.post("/v1/datasets/generate", json={**CIRCLE_400, "n_samples": 60})
    assert dataset.status_code == 201, dataset.text
    model = http.post("/v1/models", json={**NOTES_MODEL, "dataset_id": dataset.json()["id"]})
    assert model.status_code == 201, model.text
    job = http.post(
        f"/v1/models/{model.json()['id']}/train",
        json={"dataset_id": dataset.json()["id"], "n_iter": 20},
    )
    assert job.status_code == 202, job.text
    search = http.post(
        "/v1/searches",
        json={
            "dataset_id": dataset.json()["id"],
            "space": {"learning_rate": [0.1, 0.5]},
            "strategy": "grid",
            "max_trials": 2,
            "train": {"n_iter": 20},
        },
    )
    assert search.status_code == 202, search.text
    return {
        "dataset": dataset.json()["id"],
        "model": model.json()["id"],
        "job": job.json()["id"],
        "search": search.json()["id"],
    }


def _example_body(operation: dict[str, Any], schema: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    if media is None:
        return None
    if "example" in media:
        return media["example"]
    body = media.get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return (body.get("examples") or [{}])[0]


def _owned_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in schema["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        if not names & set(OWNED):
            continue
        for method, operation in item.items():
            found.append((method.upper(), path, operation))
    return found


@pytest.mark.slow
def test_another_tenant_finds_nothing_on_any_route(live_server: StartServer) -> None:
    server = live_server(env={"ANNSERVE_API_KEYS": KEYS})
    with _client(server.base_url, KEY_A) as a, _client(server.base_url, KEY_B) as b:
        mine = _resources(a)
        theirs = _resources(b)
        # A's model is in the server's cache of loaded networks before B asks for it.
        warm = a.post(f"/v1/models/{mine['model']}/predict", json={"inputs": [[0.0, 0.0]]})
        assert warm.status_code == 200
        schema = a.get("/openapi.json").json()
        operations = _owned_operations(schema)
        assert len(operations) >= 25  # datasets, models, jobs, predictions, images, export, v2
        for method, template, operation in operations:
            path = re.sub(r"\{(\w+)\}", lambda m: mine.get(OWNED.get(m[1], ""), "0"), template)
            body = _example_body(operation, schema)
            if isinstance(body, dict) and "dataset_id" in body:
                body = {**body, "dataset_id": theirs["dataset"]}  # only A's id is foreign
            response = b.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            for value in mine.values():
                assert value not in response.text or value in path, (method, path)
        for listing, key in (
            ("/v1/datasets", "dataset"),
            ("/v1/models", "model"),
            ("/v1/jobs", "job"),
        ):
            page = b.get(listing).json()
            ids = {item["id"] for item in page["items"]}
            assert mine[key] not in ids and theirs[key] in ids, listing
            assert page["total"] == len(ids), listing  # B's own: its search adds trial models
            assert a.get(f"{listing}/{mine[key]}").status_code == 200
        # The name of A's model does not resolve for B on /v2 either.
        named = a.patch(f"/v1/models/{mine['model']}", json={"name": "only-in-a"})
        assert named.status_code == 200
        assert b.get("/v2/models/only-in-a").status_code == 404
        assert a.get("/v2/models/only-in-a").status_code == 200
        # Runs compared by id (in the query or the body) are the tenant's own too.
        refs = {"models": [{"model_id": mine["model"]}]}
        assert b.post("/v1/compare", json=refs).status_code == 404
        assert a.post("/v1/compare", json=refs).status_code == 200
        for route in ("/v1/models/compare", "/v1/models/compare.png"):
            assert b.get(route, params={"ids": mine["model"]}).status_code == 404, route
            assert a.get(route, params={"ids": mine["model"]}).status_code == 200, route


@pytest.mark.slow
def test_a_read_key_reads_and_scores_but_cannot_write(live_server: StartServer) -> None:
    server = live_server(env={"ANNSERVE_API_KEYS": KEYS})
    with _client(server.base_url, KEY_A) as a, _client(server.base_url, KEY_A_READ) as reader:
        mine = _resources(a)
        assert reader.get(f"/v1/models/{mine['model']}").status_code == 200
        predicted = reader.post(
            f"/v1/models/{mine['model']}/predict", json={"inputs": [[0.0, 0.0]]}
        )
        assert predicted.status_code == 200, predicted.text
        evaluated = reader.post(f"/v1/models/{mine['model']}/evaluate", json={})
        assert evaluated.status_code == 200, evaluated.text
        for method, path, body in (
            ("POST", "/v1/datasets/generate", CIRCLE_400),
            ("PATCH", f"/v1/models/{mine['model']}", {"name": "renamed"}),
            ("DELETE", f"/v1/models/{mine['model']}", None),
            ("POST", f"/v1/jobs/{mine['job']}/cancel", None),
        ):
            response = reader.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
            problem = json.loads(response.text)
            assert problem["code"] == "read_only_key"
        assert a.get(f"/v1/models/{mine['model']}").json()["name"] == NOTES_MODEL["name"]
