"""HTTP conventions every resource follows: HEAD, CORS headers, pagination links, SSE ends."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.jobs_support import make_dataset, make_model, start_job, wait_for
from tests.app.serving_support import create_dataset, create_model
from tests.app.test_jobs_live import sse_events
from tests.conftest import StartServer


def test_head_wherever_get_is_served(client: TestClient) -> None:
    dataset = create_dataset(client, n_samples=40)
    model = create_model(client, dataset_id=dataset["id"])
    urls = [
        "/healthz",
        "/v1/datasets",
        f"/v1/datasets/{dataset['id']}",
        f"/v1/datasets/{dataset['id']}/plot.png",
        f"/v1/models/{model['id']}/export?format=npz",
        f"/v1/models/{model['id']}/versions",
        "/v1/activations/relu.png",
    ]
    for url in urls:
        get, head = client.get(url), client.head(url)
        assert head.status_code == get.status_code == 200, url
        assert head.content == b"", url
        assert head.headers["content-type"] == get.headers["content-type"], url
        assert head.headers.get("etag") == get.headers.get("etag"), url
        assert head.headers["content-length"] == str(len(get.content)), url
    missing = client.head("/v1/models/mdl_0000000000000000")
    assert missing.status_code == 404 and missing.content == b""
    refused = client.delete("/v1/datasets")
    assert refused.status_code == 405 and "HEAD" in refused.headers["allow"]


def test_cors_exposes_the_headers_clients_read(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cors_origins=["https://app.example"])
    with TestClient(create_app(settings)) as client:
        response = client.get("/v1/datasets", headers={"origin": "https://app.example"})
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "content-disposition", "location", "x-request-id", "link"} <= exposed


def _links(header: str | None) -> dict[str, str]:
    links: dict[str, str] = {}
    for part in (header or "").split(","):
        if part.strip():
            target, rel = part.split(";")
            links[rel.strip().removeprefix('rel="').removesuffix('"')] = target.strip()[1:-1]
    return links


def test_lists_carry_next_and_prev_links(client: TestClient) -> None:
    for seed in range(5):
        create_dataset(client, n_samples=20, seed=seed)
    first = client.get("/v1/datasets", params={"limit": 2, "task": "binary"})
    assert first.json()["total"] == 5
    links = _links(first.headers.get("link"))
    assert set(links) == {"next"}
    middle = client.get(links["next"])
    assert middle.json()["offset"] == 2 and middle.json()["items"]
    assert set(_links(middle.headers["link"])) == {"next", "prev"}
    assert "task=binary" in _links(middle.headers["link"])["prev"]
    last = client.get(_links(middle.headers["link"])["next"])
    assert len(last.json()["items"]) == 1 and set(_links(last.headers["link"])) == {"prev"}
    ids = [d["id"] for page in (first, middle, last) for d in page.json()["items"]]
    assert len(set(ids)) == 5
    assert "link" not in client.get("/v1/models").headers
    assert "link" not in client.get("/v1/jobs", params={"limit": 100}).headers


def test_versions_are_paginated_and_stay_a_list(client: TestClient) -> None:
    model = create_model(client)
    url = f"/v1/models/{model['id']}/versions"
    everything = client.get(url)
    assert [v["version"] for v in everything.json()] == [0]
    assert everything.headers["x-total-count"] == "1" and "link" not in everything.headers
    empty = client.get(url, params={"offset": 1, "limit": 1})
    assert empty.json() == [] and set(_links(empty.headers["link"])) == {"prev"}


@pytest.mark.slow
def test_sse_queued_status_at_once_and_204_after_the_end(live_server: StartServer) -> None:
    server = live_server(env={"ANNSERVE_MAX_CONCURRENT_JOBS": "1"})
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        dataset = make_dataset(client)
        busy = start_job(client, make_model(client, dataset["id"])["id"], dataset["id"])
        queued = start_job(
            client, make_model(client, dataset["id"], name="second")["id"], dataset["id"]
        )
        wait_for(client, busy["id"], lambda job: job["status"] == "running")
        url = f"/v1/jobs/{queued['id']}/events"
        with client.stream("GET", url) as stream:
            events = sse_events(stream)
            first = next(events)
            assert first["event"] == "status"
            assert json.loads(first["data"])["status"] == "queued"
            client.post(f"/v1/jobs/{queued['id']}/cancel")
            rest = list(events)
        assert rest[-1]["event"] == "status"
        assert json.loads(rest[-1]["data"])["status"] == "cancelled"
        for last_event_id in (rest[-1]["id"], "0", "not-a-number"):
            again = client.get(url, headers={"Last-Event-ID": last_event_id})
            assert again.status_code == 204 and again.content == b""
        assert client.get(url).text.count("event: status") == 1  # a new client still hears it
        client.post(f"/v1/jobs/{busy['id']}/cancel")
