"""Pause, resume and step, snapshots and neuron maps in process (no worker runs: jobs stay
queued or paused): state changes, errors as problem+json, grids computed through core."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from app.api.routers.job_control import router
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


def test_neuron_maps_of_a_model_are_its_layers_on_the_grid(client: Client) -> None:
    dataset = make_dataset(client, n_samples=60)
    model = make_model(
        client,
        dataset["id"],
        hidden_layers=[{"units": 3, "activation": "relu"}, {"units": 2, "activation": "tanh"}],
    )
    params = {"resolution": 5, "x1_min": -2, "x1_max": 2, "x2_min": -1, "x2_max": 3}
    response = client.get(f"/v1/models/{model['id']}/neuron-maps", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 0 and body["resolution"] == 5 and body["extent"] == [-2, 2, -1, 3]
    assert [layer["units"] for layer in body["layers"]] == [3, 2, 1]
    assert [layer["activation"] for layer in body["layers"]] == ["relu", "tanh", "sigmoid"]
    # Grid point k: x1 = column k % 5, x2 = row k // 5 (bottom to top).
    G1, G2 = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 5))
    rows = np.column_stack([G1.ravel(), G2.ravel()])
    # An independent reference: the notes' forward pass from the returned W and b.
    A = rows.T
    for layer, g in zip(body["layers"], (relu, np.tanh, sigmoid), strict=True):
        W, b = np.asarray(layer["W"]), np.asarray(layer["b"])[:, None]
        A = g(W @ A + b)
        np.testing.assert_allclose(layer["values"], A, atol=1e-4)
        assert layer["min"] <= np.min(A) + 1e-4 and layer["max"] >= np.max(A) - 1e-4
    predicted = client.post(f"/v1/models/{model['id']}/predict", json={"inputs": rows.tolist()})
    assert predicted.status_code == 200, predicted.text
    outputs = np.asarray(predicted.json()["probabilities"])[:, 1]
    np.testing.assert_allclose(body["layers"][-1]["values"][0], outputs, atol=1e-4)


def relu(Z: Any) -> Any:
    return np.maximum(Z, 0.0)


def sigmoid(Z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-Z))


def test_neuron_maps_errors(client: Client) -> None:
    dataset = make_dataset(client, n_samples=60)
    model = make_model(client, dataset["id"])
    url = f"/v1/models/{model['id']}/neuron-maps"
    for bad in ({"resolution": 1}, {"resolution": 65}, {"x1_min": "left"}):
        assert_problem(client.get(url, params=bad), 422)
    empty = assert_problem(client.get(url, params={"x2_min": 1, "x2_max": 1}), 422)
    assert empty["code"] == "empty_extent" and empty["errors"][0]["field"] == "x2_min"
    assert_problem(client.get(url, params={"version": 9}), 404)
    assert_problem(client.get("/v1/models/mdl_0000000000000000/neuron-maps"), 404)
    assert_problem(client.get("/v1/jobs/job_0000000000000000/neuron-maps"), 404)
    features = [[float(i), 1.0, 2.0] for i in range(20)]
    targets = [float(i) for i in range(20)]
    three = client.post(
        "/v1/datasets", json={"name": "three", "features": features, "targets": targets}
    )
    assert three.status_code == 201, three.text
    wide = make_model(client, three.json()["id"], output_activation="linear")
    body = assert_problem(client.get(f"/v1/models/{wide['id']}/neuron-maps"), 422)
    assert body["code"] == "not_two_inputs"


def test_the_routes_are_documented() -> None:
    paths = {route.path for route in router.routes}  # type: ignore[attr-defined]
    assert "/v1/jobs/{job_id}/pause" in paths and "/v1/models/{model_id}/neuron-maps" in paths
