"""Searches on real servers (``python -m app serve``): trials on the worker pool, median
pruning, cancel, a ``kill -9`` mid-search and a restart, and Celery with two workers."""

from __future__ import annotations

import signal
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.app.jobs_support import make_dataset
from tests.app.search_support import start_search, wait_search
from tests.conftest import StartServer

pytestmark = pytest.mark.slow
FAST = {"ANNSERVE_PROGRESS_INTERVAL": "0.05", "ANNSERVE_HEARTBEAT_TIMEOUT": "2"}


def _final(search: dict[str, Any]) -> bool:
    return search["status"] in {"succeeded", "failed", "cancelled"}


def _interval(client: httpx.Client, job_id: str) -> tuple[datetime, datetime]:
    job = client.get(f"/v1/jobs/{job_id}").json()
    return datetime.fromisoformat(job["started_at"]), datetime.fromisoformat(job["finished_at"])


def test_median_pruning_stops_a_hopeless_trial(live_server: StartServer) -> None:
    server = live_server(env=FAST)
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        dataset = make_dataset(client)
        created = start_search(
            client,
            dataset["id"],
            strategy="grid",
            space={"learning_rate": [0.5, 0.4, 1e-6]},
            train={"n_iter": 40_000, "record_every": 20},
            max_parallel=1,
            metric="val_cost",
            pruning="median",
        )
        search = wait_search(client, created["id"], _final, timeout=90)
    assert search["status"] == "succeeded", server.log()
    statuses = [t["status"] for t in search["trials"]]
    assert statuses == ["succeeded", "succeeded", "pruned"], search["trials"]
    pruned = search["trials"][2]
    assert 4_000 <= pruned["pruned_at"] < 40_000 and search["progress"]["pruned"] == 1


def test_cancel_stops_running_trials_and_keeps_finished_ones(live_server: StartServer) -> None:
    server = live_server(env=FAST)
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        dataset = make_dataset(client)
        created = start_search(
            client,
            dataset["id"],
            strategy="grid",
            space={"n_iter": [200, 900_000, 900_000]},
            max_parallel=2,
        )

        def first_done(search: dict[str, Any]) -> bool:
            return search["progress"]["succeeded"] == 1

        wait_search(client, created["id"], first_done, timeout=60)
        response = client.post(f"/v1/searches/{created['id']}/cancel")
        assert response.status_code == 200 and response.json()["cancel_requested"]
        search = wait_search(client, created["id"], _final, timeout=30)
        assert search["status"] == "cancelled"
        assert [t["status"] for t in search["trials"]] == ["succeeded", "cancelled", "cancelled"]
        assert search["best_model_id"] == search["trials"][0]["model_id"]
        assert client.get(f"/v1/models/{search['best_model_id']}").status_code == 200
        job = client.get(f"/v1/jobs/{search['trials'][0]['job_ids'][0]}").json()
        assert job["status"] == "succeeded"


def test_a_search_survives_kill_9_and_no_trial_runs_twice(live_server: StartServer) -> None:
    server = live_server(env=FAST)
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        dataset = make_dataset(client)
        created = start_search(
            client,
            dataset["id"],
            strategy="random",
            space={"learning_rate": {"log_uniform": [0.05, 1.0]}},
            train={"n_iter": 8_000},
            max_trials=5,
            max_parallel=2,
            keep="all",
            seed=3,
        )
        before = wait_search(client, created["id"], lambda s: s["progress"]["succeeded"] >= 2, 60)
        assert before["status"] == "running"  # killed mid-search
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    again = live_server(data_dir=server.data_dir, env=FAST)
    with httpx.Client(base_url=again.base_url, timeout=10) as client:
        search = wait_search(client, created["id"], _final, timeout=90)
        assert search["status"] == "succeeded", again.log()
        trials = search["trials"]
        assert [t["number"] for t in trials] == list(range(5))
        assert all(t["status"] == "succeeded" and len(t["job_ids"]) == 1 for t in trials)
        names = [m["name"] for m in client.get("/v1/models", params={"limit": 100}).json()["items"]]
        trial_models = [n for n in names if n.startswith(created["id"])]
        assert sorted(trial_models) == sorted({*trial_models}) and len(trial_models) == 5
        jobs = client.get("/v1/jobs", params={"limit": 100}).json()
        assert jobs["total"] == 5


@pytest.mark.services
def test_celery_workers_run_trials_in_parallel(live_server: StartServer) -> None:
    env = {**FAST, "ANNSERVE_EXECUTOR": "celery", "ANNSERVE_MAX_CONCURRENT_JOBS": "2"}
    server = live_server(env=env)
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        dataset = make_dataset(client)
        created = start_search(
            client,
            dataset["id"],
            strategy="grid",
            space={"learning_rate": [0.3, 0.6]},
            train={"n_iter": 30_000},
            max_parallel=2,
            keep="all",
        )
        search = wait_search(client, created["id"], _final, timeout=90)
        assert search["status"] == "succeeded", server.log()
        (a_start, a_end), (b_start, b_end) = (
            _interval(client, t["job_ids"][0]) for t in search["trials"]
        )
        assert a_start < b_end and b_start < a_end  # the two trials trained at the same time
