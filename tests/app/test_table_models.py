"""Table models over HTTP: the stage fitted on training rows, predictions from records, rows
and CSV matched by header, unseen categories, and the ONNX export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.jobs.runner import run_job
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import utcnow
from core.pipeline import pipeline_from_bytes
from tests.app.helpers import assert_problem

ROWS = ["size,colour,flag,y"] + [
    f"{'' if i % 10 == 0 else i * 100},{['red', 'blue', 'green'][i % 3]},"
    f"{'true' if i % 2 else 'false'},{'yes' if (i * 100 > 2000) ^ (i % 3 == 0) else 'no'}"
    for i in range(40)
]


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    from app.main import create_app

    settings = Settings(data_dir=tmp_path / "data", max_concurrent_jobs=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, settings


def train(client: TestClient, settings: Settings, model_id: str, dataset_id: str) -> Any:
    job = client.post(
        f"/v1/models/{model_id}/train", json={"dataset_id": dataset_id, "n_iter": 300}
    ).json()
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            assert JobQueue(session).claim(job["id"], "test", utcnow())
        assert run_job(settings, job["id"], "test", db=db) == "succeeded"
    finally:
        db.dispose()
    return client.get(f"/v1/jobs/{job['id']}").json()


def table_model(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    dataset = client.post(
        "/v1/datasets/upload", files={"file": ("t.csv", "\n".join(ROWS).encode())}
    ).json()
    response = client.post(
        "/v1/models",
        json={"name": "t", "dataset_id": dataset["id"], "derived_features": ["size^2"]},
    )
    assert response.status_code == 201, response.text
    return dataset, response.json()


def test_schema_training_and_predictions(quiet: tuple[TestClient, Settings]) -> None:
    client, settings = quiet
    dataset, model = table_model(client)
    schema = model["input_schema"]
    assert [(c["name"], c["type"], c["encoded_width"]) for c in schema] == [
        ("size", "numeric", 1),
        ("colour", "categorical", 4),
        ("flag", "boolean", 1),
    ]
    assert model["n_inputs"] == 7  # 1 + 4 + 1 + the derived size^2
    job = train(client, settings, model["id"], dataset["id"])
    assert job["result"]["train"]["accuracy"] > 0.6
    url = f"/v1/models/{model['id']}/predict"
    records = client.post(
        url,
        json={"records": [{"flag": True, "colour": "red", "size": 1500, "y": "no"}, {}]},
    ).json()
    assert len(records["predictions"]) == 2
    assert any("'y'" in w for w in records["warnings"])
    rows = client.post(url, json={"inputs": [[1500, "red", True], [None, "purple", None]]})
    body = rows.json()
    assert body["predictions"][0] == records["predictions"][0]
    assert body["probabilities"][0] == records["probabilities"][0]
    assert any("purple" in w for w in body["warnings"])
    csv = b"flag,y,colour,size\ntrue,no,red,1500\n"
    reordered = client.post(url, content=csv, headers={"content-type": "text/csv"}).json()
    assert reordered["probabilities"][0] == records["probabilities"][0]
    missing = client.post(url, content=b"colour\nred\n", headers={"content-type": "text/csv"})
    problem = assert_problem(missing, 422, "missing_columns")
    assert "'size'" in problem["detail"] and "'flag'" in problem["detail"]
    bad = client.post(url, json={"inputs": [["big", "red", True]]})
    assert assert_problem(bad, 422, "invalid_inputs")["errors"][0]["field"] == "inputs.size"
    onnx = client.get(f"/v1/models/{model['id']}/export", params={"format": "onnx"})
    assert onnx.status_code == 200, onnx.text  # its parity: tests/app/test_export_tables_api.py
    assert onnx.headers["content-type"] == "application/onnx"


def test_statistics_come_from_training_rows_only(quiet: tuple[TestClient, Settings]) -> None:
    client, settings = quiet
    dataset, model = table_model(client)
    train(client, settings, model["id"], dataset["id"])
    stored = (settings.data_dir / "models" / model["id"] / "v1.npz").read_bytes()
    stage = pipeline_from_bytes(stored).preprocessor
    assert stage is not None
    data = client.get(f"/v1/datasets/{dataset['id']}/data", params={"subset": "train"}).json()
    sizes = np.array([r[0] for r in data["features"]], dtype=float)
    present = sizes[~np.isnan(sizes)]
    filled = np.where(np.isnan(sizes), np.median(present), sizes)
    encoder = stage.encoders[0]
    assert encoder.to_dict()["scale"] == pytest.approx(
        [np.median(present), filled.mean(), filled.std()]
    )
    everything = client.get(f"/v1/datasets/{dataset['id']}/data").json()
    assert len(everything["features"]) > len(data["features"])


def test_numeric_models_keep_their_rows(quiet: tuple[TestClient, Settings]) -> None:
    client, _ = quiet
    dataset = client.post("/v1/datasets/generate", json={"kind": "xor", "n_samples": 40}).json()
    model = client.post("/v1/models", json={"name": "n", "dataset_id": dataset["id"]}).json()
    assert model["input_schema"] is None
    url = f"/v1/models/{model['id']}/predict"
    assert client.post(url, json={"inputs": [[0.5, -1.0]]}).status_code == 200
    assert_problem(client.post(url, json={"records": [{"x1": 1}]}), 422, "invalid_inputs")
