"""Every place that serves or scores predictions goes through the one inference entry point
(``core.inference.Inference``), and none runs a forward pass of its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.jobs.recovery import new_worker_id
from app.jobs.runner import run_job
from app.jobs.worker import claim_next
from app.main import create_app
from app.settings import Settings
from app.storage.db import Database
from core.inference import Inference
from core.network import ANN
from tests.app.jobs_support import make_dataset, make_model, start_job


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of the entry point's backends, and of the engine's reference forward pass."""
    counts: Counter[str] = Counter()

    def spy(cls: type, name: str, key: str) -> None:
        original = getattr(cls, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[key] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(cls, name, counted)

    spy(Inference, "outputs", "numpy")
    spy(Inference, "_predict_plain", "plain")
    spy(ANN, "forward_propagation", "reference")
    return counts


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _served(calls: Counter[str], response: Any, backend: str) -> None:
    assert response.status_code == 200, response.text
    assert calls[backend] >= 1, (backend, dict(calls))
    assert calls["reference"] == 0, dict(calls)
    calls.clear()


def test_every_serving_path_goes_through_the_entry_point(
    client: TestClient, settings: Settings, calls: Counter[str]
) -> None:
    dataset = make_dataset(client)
    model = make_model(client, dataset["id"])
    model_id = model["id"]
    calls.clear()

    one_row = {"inputs": [[0.1, 0.2]]}
    _served(calls, client.post(f"/v1/models/{model_id}/predict", json=one_row), "plain")
    many = {"inputs": [[0.1, 0.2]] * 600}  # past the inline limit: the thread pool, numpy
    _served(calls, client.post(f"/v1/models/{model_id}/predict", json=many), "numpy")
    csv = client.post(
        f"/v1/models/{model_id}/predict",
        content=b"x1,x2\n0.1,0.2\n",
        headers={"content-type": "text/csv"},
    )
    _served(calls, csv, "plain")
    tensor = {"name": "input", "shape": [1, 2], "datatype": "FP64", "data": [0.1, 0.2]}
    _served(calls, client.post(f"/v2/models/{model_id}/infer", json={"inputs": [tensor]}), "numpy")
    accuracy = client.get(f"/v1/models/{model_id}/accuracy?dataset_id={dataset['id']}")
    _served(calls, accuracy, "numpy")
    stored = client.post(f"/v1/models/{model_id}/evaluate", json={"dataset_id": dataset["id"]})
    _served(calls, stored, "numpy")
    inline = {"inputs": [[0.1, 0.2], [1.0, 1.0]], "targets": [0, 1]}
    _served(calls, client.post(f"/v1/models/{model_id}/evaluate", json=inline), "numpy")
    boundary = client.get(f"/v1/models/{model_id}/decision-boundary.png?resolution=20")
    _served(calls, boundary, "numpy")

    job = start_job(client, model_id, dataset["id"], n_iter=50, validation="test")
    db = Database(settings.database_url)
    try:
        worker = new_worker_id(settings.hostname)
        assert claim_next(db, worker) == job["id"]
        assert run_job(settings, job["id"], worker, db=db) == "succeeded"
    finally:
        db.dispose()
    assert calls["numpy"] >= 2, dict(calls)  # the job's train and validation scores
    assert calls["reference"] == 0, dict(calls)
