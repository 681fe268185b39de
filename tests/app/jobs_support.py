"""Helpers for the job tests: datasets, the notes' model, jobs, and the reference training."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from numpy.typing import NDArray

from app.jobs.data import training_data
from app.jobs.job_spec import JobSpec
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import DatasetRepository, JobRepository, ModelRepository
from core.serialization import model_from_bytes
from core.training import train

CIRCLE_400 = {"kind": "circle", "n_samples": 400, "noise": 0.1, "seed": 0}
NOTES_MODEL = {
    "name": "notes-2-4-1",
    "hidden_layers": [{"units": 4, "activation": "tanh"}],
    "init": "glorot",
    "seed": 2,
}
FINAL = {"succeeded", "failed", "cancelled"}


def make_dataset(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/datasets/generate", json={**CIRCLE_400, **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def make_model(client: httpx.Client, dataset_id: str, **overrides: Any) -> dict[str, Any]:
    body = {**NOTES_MODEL, "dataset_id": dataset_id, **overrides}
    response = client.post("/v1/models", json=body)
    assert response.status_code == 201, response.text
    model: dict[str, Any] = response.json()
    return model


def start_job(
    client: httpx.Client, model_id: str, dataset_id: str, **params: Any
) -> dict[str, Any]:
    response = client.post(
        f"/v1/models/{model_id}/train", json={"dataset_id": dataset_id, **params}
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    return job


def wait_for(
    client: httpx.Client, job_id: str, condition: Any, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll the job until ``condition(job)`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        if condition(job):
            return job
        assert time.monotonic() < deadline, f"job never reached the condition: {job}"
        time.sleep(0.05)


def wait_final(client: httpx.Client, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    return wait_for(client, job_id, lambda job: job["status"] in FINAL, timeout)


def stored_parameters(data_dir: Path, model_id: str, version: int) -> dict[str, NDArray[Any]]:
    ann = model_from_bytes(ArrayStore(data_dir).model_version_bytes(model_id, version))
    return ann.parameters


def reference_parameters(settings: Settings, job_id: str) -> dict[str, NDArray[Any]]:
    """The parameters of the job's training with core called directly, uninterrupted."""
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            job = JobRepository(session).get(job_id)
            assert job is not None
            dataset = DatasetRepository(session).get(job.dataset_id)
            model = ModelRepository(session).get(job.model_id)
    finally:
        db.dispose()
    assert dataset is not None and model is not None
    spec = JobSpec.from_dict(job.params)
    store = ArrayStore(settings.data_dir)
    arrays, _ = store.load_dataset(dataset.id)
    data = training_data(arrays, dataset, model, spec)
    ann = model_from_bytes(store.model_version_bytes(model.id, spec.base_version))
    train(ann, data.X, data.Y, spec.options, X_val=data.X_val, Y_val=data.Y_val)
    return ann.parameters


def assert_same_parameters(
    actual: dict[str, NDArray[Any]], expected: dict[str, NDArray[Any]]
) -> None:
    assert actual.keys() == expected.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)
