"""Pause, step and resume through a real server process (both executors): the paused job frees
its worker slot, a step trains exactly that many passes, and the job resumed ends with the
parameters of an uninterrupted run; live snapshots and neuron maps follow the training."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest

from app.settings import Settings
from tests.app.jobs_support import (
    assert_same_parameters,
    make_dataset,
    make_model,
    reference_parameters,
    start_job,
    stored_parameters,
    wait_final,
    wait_for,
)
from tests.app.test_jobs_live import http, job_server, sse_events
from tests.conftest import StartServer

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=["local", pytest.param("celery", marks=pytest.mark.services)])
def executor_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def _iteration(job: dict[str, Any]) -> int:
    return int((job["progress"] or {}).get("iteration", 0))


def _first_event(client: httpx.Client, job_id: str) -> dict[str, Any]:
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        event = next(iter(sse_events(stream)))
    return {"event": event["event"], **json.loads(event["data"])}


def test_pause_step_resume_ends_as_an_uninterrupted_run(
    live_server: StartServer, executor_name: str
) -> None:
    server = job_server(live_server, executor_name, max_concurrent_jobs=1)
    with http(server) as client:
        dataset = make_dataset(client, n_samples=200)
        model = make_model(client, dataset["id"])
        job = start_job(client, model["id"], dataset["id"], n_iter=60_000, validation=0.2)
        url = f"/v1/jobs/{job['id']}"
        wait_for(client, job["id"], lambda j: _iteration(j) > 0)
        live = client.get(f"{url}/snapshot").json()
        assert 0 <= live["iteration"] < 60_000 and live["status"] == "running"
        maps = client.get(f"{url}/neuron-maps", params={"resolution": 4}).json()
        assert [layer["units"] for layer in maps["layers"]] == [4, 1]

        assert client.post(f"{url}/pause").status_code == 200
        paused = wait_for(client, job["id"], lambda j: j["status"] in ("paused", "succeeded"))
        assert paused["status"] == "paused", "the job ended before the pause landed"
        at = _iteration(paused)
        assert 0 < at < 60_000
        state = {"event": "state", "status": "paused", "iteration": at}
        assert _first_event(client, job["id"]) == state
        snapshot = client.get(f"{url}/snapshot").json()
        assert snapshot["iteration"] == at and snapshot["status"] == "paused"

        # The paused job gave its only worker slot back: another job runs to the end.
        other_model = make_model(client, dataset["id"], seed=5)
        other = start_job(client, other_model["id"], dataset["id"], n_iter=200)
        assert wait_final(client, other["id"])["status"] == "succeeded"

        stepped = client.post(f"{url}/step", json={"iterations": 25}).json()
        assert stepped["pause_at"] == at + 25
        again = wait_for(
            client, job["id"], lambda j: j["status"] == "paused" and _iteration(j) > at
        )
        assert _iteration(again) == at + 25
        after_step = client.get(f"{url}/snapshot").json()
        assert after_step["iteration"] == at + 25
        assert not np.array_equal(after_step["parameters"]["W1"], snapshot["parameters"]["W1"])

        assert client.post(f"{url}/resume").json()["status"] in ("queued", "running")
        done = wait_final(client, job["id"], timeout=120)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 1  # pauses are no failed attempts
    assert done["result"]["resumed_from_iteration"] == at + 25
    assert_same_parameters(
        stored_parameters(server.data_dir, model["id"], 1),
        reference_parameters(Settings(data_dir=server.data_dir), job["id"]),
    )


def test_live_maps_of_a_derived_model_use_the_stage_its_job_fitted(
    live_server: StartServer,
) -> None:
    server = job_server(live_server, "local", max_concurrent_jobs=1)
    with http(server) as client:
        dataset = make_dataset(client, n_samples=120)
        model = make_model(client, dataset["id"], derived_features=["x1^2", "sin(x1)"])
        # A validation share carved from the training rows: the job refits the stage on fewer
        # rows than the model's version 0 was fitted on, so the scaled inputs differ.
        # The one worker is busy, so the job waits queued and pauses at once.
        other = make_model(client, dataset["id"])
        blocker = start_job(client, other["id"], dataset["id"], n_iter=1_000_000)
        job = start_job(client, model["id"], dataset["id"], n_iter=100, validation=0.3)
        url = f"/v1/jobs/{job['id']}"
        assert client.post(f"{url}/pause").json()["status"] == "paused"
        client.post(f"/v1/jobs/{blocker['id']}/cancel")
        assert client.post(f"{url}/step", json={"iterations": 50}).status_code == 200
        wait_for(client, job["id"], lambda j: j["status"] == "paused" and _iteration(j) == 50)
        grid = {"resolution": 5, "x1_min": -2, "x1_max": 2, "x2_min": -2, "x2_max": 2}
        live = client.get(f"{url}/neuron-maps", params=grid).json()
        assert live["iteration"] == 50
        assert live["input_names"] == ["x1", "x2", "x1^2", "sin(x1)"]
        start = client.get(f"/v1/models/{model['id']}/neuron-maps", params=grid).json()
        assert not np.allclose(live["inputs"], start["inputs"], atol=1e-3)
        client.post(f"{url}/resume")
        assert wait_final(client, job["id"])["status"] == "succeeded"
        final = client.get(f"{url}/neuron-maps", params=grid).json()
        assert final["iteration"] == 100
        # The version the job produced keeps the stage it fitted: the same inputs as live.
        np.testing.assert_allclose(final["inputs"], live["inputs"], atol=1e-4)
        trained = client.get(f"/v1/models/{model['id']}/neuron-maps", params=grid).json()
        assert trained["version"] == 1
        np.testing.assert_allclose(trained["layers"][-1]["values"], final["layers"][-1]["values"])
