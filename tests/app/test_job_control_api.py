"""Pause, resume and step and snapshots in process (no worker runs: jobs stay queued or
paused): state changes and errors as problem+json."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from app.api.routers import job_control, neuron_maps
from tests.app.helpers import assert_problem
from tests.app.jobs_support import make_dataset, make_model, start_job

Client = TestClient


def _queued(client: Client, **model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    dataset = make_dataset(client, n_samples=60)
    created = make_model(client, dataset["id"], **model)
    return created, start_job(client, created["id"], dataset["id"], n_iter=100)


def test_a_queued_job_pauses_at_once_steps_and_resumes(client: Client) -> None:
    model, job = _queued(client)
    url = f"/v1/jobs/{job['id']}"
    paused = client.post(f"{url}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    assert client.post(f"{url}/pause").json()["status"] == "paused"  # idempotent
    # A paused job still holds its model.
    assert client.get(f"/v1/models/{model['id']}").json()["status"] == "training"
    stepped = client.post(f"{url}/step", json={"iterations": 7}).json()
    assert stepped["status"] == "queued" and stepped["pause_at"] == 7
    client.post(f"{url}/pause")
    resumed = client.post(f"{url}/resume").json()
    assert resumed["status"] == "queued" and resumed["pause_at"] is None
    assert client.get("/v1/jobs", params={"status": "queued"}).json()["total"] == 1


def test_a_paused_job_can_be_cancelled_and_then_not_resumed(client: Client) -> None:
    model, job = _queued(client)
    url = f"/v1/jobs/{job['id']}"
    client.post(f"{url}/pause")
    assert client.post(f"{url}/cancel").json()["status"] == "cancelled"
    assert client.get(f"/v1/models/{model['id']}").json()["status"] == "ready"
    for action in ("pause", "resume", "step"):
        body = assert_problem(client.post(f"{url}/{action}"), 409)
        assert body["code"] == "job_finished"


def test_pause_control_errors(client: Client) -> None:
    missing = "/v1/jobs/job_0000000000000000"
    for action in ("pause", "resume", "step"):
        assert_problem(client.post(f"{missing}/{action}"), 404)
    assert_problem(client.get(f"{missing}/snapshot"), 404)
    assert_problem(client.post("/v1/jobs/not-an-id/pause"), 404)
    _, job = _queued(client)
    for bad in ({"iterations": 0}, {"iterations": "many"}, {"steps": 3}):
        assert_problem(client.post(f"/v1/jobs/{job['id']}/step", json=bad), 422)


def test_the_snapshot_of_a_job_not_started_is_its_starting_parameters(client: Client) -> None:
    _, job = _queued(client)
    snapshot = client.get(f"/v1/jobs/{job['id']}/snapshot")
    assert snapshot.status_code == 200, snapshot.text
    body = snapshot.json()
    assert body["iteration"] == 0 and body["n_iter"] == 100 and body["status"] == "queued"
    assert set(body["parameters"]) == {"W1", "b1", "W2", "b2"}
    assert np.asarray(body["parameters"]["W1"]).shape == (4, 2)
    assert np.asarray(body["parameters"]["b1"]).shape == (4, 1)


def test_the_routes_are_documented() -> None:
    routes = [*job_control.router.routes, *neuron_maps.router.routes]
    paths = {route.path for route in routes}  # type: ignore[attr-defined]
    assert "/v1/jobs/{job_id}/pause" in paths and "/v1/models/{model_id}/neuron-maps" in paths
