"""HTTP conventions every resource follows: HEAD, CORS headers, pagination links, SSE ends."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.serving_support import create_dataset, create_model


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
