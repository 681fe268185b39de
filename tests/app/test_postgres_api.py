"""The same service on PostgreSQL: datasets and models survive a new app on the same database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.services


def test_service_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    with TestClient(create_app(settings)) as client:
        dataset = client.post(
            "/v1/datasets/generate", json={"kind": "moons", "n_samples": 50, "seed": 5}
        ).json()
        model = client.post("/v1/models", json={"name": "pg", "dataset_id": dataset["id"]}).json()
        renamed = client.patch(f"/v1/models/{model['id']}", json={"name": "pg2"})
        assert renamed.status_code == 200
        parameters = client.get(f"/v1/models/{model['id']}/parameters").json()
        assert client.get("/readyz").json()["database"] is True
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/v1/datasets/{dataset['id']}").json() == dataset
        again = client.get(f"/v1/models/{model['id']}").json()
        assert again["name"] == "pg2"
        assert again["created_at"] == model["created_at"]
        assert client.get(f"/v1/models/{model['id']}/parameters").json() == parameters
        assert client.delete(f"/v1/models/{model['id']}").status_code == 204
        assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 204


def test_extreme_values_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """Statistics that overflow are stored as null: PostgreSQL's json type has no Infinity."""
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    rows = [[1.7e308, 0.0], [1.7e308, 1.0], [-1.7e308, 2.0], [1.7e308, 3.0]]
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/datasets", json={"name": "big", "features": rows, "targets": [0, 1, 0, 1]}
        )
        assert response.status_code == 201, response.text
        first = response.json()["stats"]["features"][0]
        assert (first["max"], first["mean"], first["std"]) == (1.7e308, None, None)


def test_control_characters_are_refused_before_the_database(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    with TestClient(create_app(settings)) as client:
        bad_name = {"name": "a\u0000b", "features": [[0.0], [1.0]], "targets": [0, 1]}
        assert client.post("/v1/datasets", json=bad_name).status_code == 422
        bad_label = {"name": "ok", "features": [[0.0], [1.0]], "targets": ["a\u0000", "b"]}
        assert client.post("/v1/datasets", json=bad_label).status_code == 422
        model = {"name": "m", "task": "binary", "n_inputs": 1, "description": "x\u0000"}
        assert client.post("/v1/models", json=model).status_code == 422
        upload = client.post(
            "/v1/datasets/upload", files={"file": ("a\u0000b.csv", b"a,y\n1,0\n2,1\n")}
        )
        assert upload.status_code == 201, upload.text
        assert "\x00" not in upload.json()["name"]
