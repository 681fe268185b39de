"""The job runner and recovery in process: claims, success, resume after an interruption,
divergence, cancel, stale heartbeats and dead workers (the live tests repeat these over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.jobs.recovery import local_pid, new_worker_id, reclaim_dead_local, reclaim_stale
from app.jobs.runner import Signals, run_job
from app.jobs.worker import claim_next
from app.main import create_app
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import JobRepository
from app.storage.tables import JobRow, utcnow
from tests.app.jobs_support import (
    assert_same_parameters,
    make_dataset,
    make_model,
    reference_parameters,
    start_job,
    stored_parameters,
)


@dataclass
class Env:
    client: TestClient
    settings: Settings
    db: Database

    def job(self, job_id: str) -> JobRow:
        with self.db.session() as session:
            row = JobRepository(session).get(job_id)
        assert row is not None
        return row


@pytest.fixture
def env(settings: Settings) -> Iterator[Env]:
    fast = settings.model_copy(
        update={"progress_interval": 0.02, "checkpoint_interval": 0.05, "heartbeat_timeout": 5.0}
    )
    with TestClient(create_app(fast)) as client:
        db = Database(fast.database_url)
        yield Env(client, fast, db)
        db.dispose()


def _new(env: Env, **params: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    dataset = make_dataset(env.client)
    model = make_model(env.client, dataset["id"])
    return dataset, model, start_job(env.client, model["id"], dataset["id"], **params)


def test_the_notes_network_trains_and_becomes_the_current_version(env: Env) -> None:
    _, model, job = _new(env, n_iter=4000, validation="test")
    worker = new_worker_id(env.settings.hostname)
    assert claim_next(env.db, worker) == job["id"]
    assert claim_next(env.db, new_worker_id(env.settings.hostname)) is None  # nobody else gets it
    assert run_job(env.settings, job["id"], worker, db=env.db) == "succeeded"
    body = env.client.get(f"/v1/jobs/{job['id']}").json()
    assert body["status"] == "succeeded" and body["attempts"] == 1
    result = body["result"]
    assert result["version"] == 1 and result["stop_reason"] == "completed"
    assert result["train"]["accuracy"] >= 0.9 and result["validation"]["accuracy"] >= 0.9
    assert body["progress"]["iteration"] == 4000 and body["progress"]["fraction"] == 1.0
    model_now = env.client.get(f"/v1/models/{model['id']}").json()
    assert model_now["current_version"] == 1 and model_now["status"] == "ready"
    assert model_now["latest_metrics"]["job_id"] == job["id"]
    assert_same_parameters(
        stored_parameters(env.settings.data_dir, model["id"], 1),
        reference_parameters(env.settings, job["id"]),
    )
    history = env.client.get(f"/v1/jobs/{job['id']}/history").json()
    # 4000 recorded costs, stored as at most history_max_points evenly spread ones.
    its = history["iterations"]
    assert its[0] == 1 and its[-1] == 4000 and len(its) <= env.settings.history_max_points + 1
    assert len({b - a for a, b in pairwise(its[:-1])}) == 1
    assert len(history["val_costs"]) == len(history["val_iterations"]) <= 2001
    assert not ArrayStore(env.settings.data_dir).checkpoint_path(job["id"]).exists()
    curve = env.client.get(f"/v1/models/{model['id']}/cost-curve.png?format=svg&log_y=true")
    assert curve.status_code == 200 and curve.headers["content-type"] == "image/svg+xml"


def test_an_interrupted_job_resumes_to_the_same_parameters(env: Env) -> None:
    _, model, job = _new(env, n_iter=2000, batch_size=64, optimizer="adam", lambd=0.01)
    calls = {"n": 0}

    def stop_soon() -> bool:
        calls["n"] += 1
        return calls["n"] > 40

    first = new_worker_id(env.settings.hostname)
    claim_next(env.db, first)
    status = run_job(env.settings, job["id"], first, db=env.db, signals=Signals(stop_soon))
    assert status == "queued"
    paused = env.job(job["id"])
    assert paused.status == "queued" and paused.worker_id is None and paused.attempts == 0
    assert ArrayStore(env.settings.data_dir).checkpoint_path(job["id"]).exists()
    assert 0 < paused.progress["iteration"] < 2000  # type: ignore[index]
    second = new_worker_id(env.settings.hostname)
    assert claim_next(env.db, second) == job["id"]
    assert run_job(env.settings, job["id"], second, db=env.db) == "succeeded"
    done = env.client.get(f"/v1/jobs/{job['id']}").json()
    assert done["result"]["resumed_from_iteration"] == paused.progress["iteration"]  # type: ignore[index]
    assert_same_parameters(
        stored_parameters(env.settings.data_dir, model["id"], 1),
        reference_parameters(env.settings, job["id"]),
    )
    history = env.client.get(f"/v1/jobs/{job['id']}/history").json()
    assert history["iterations"] == list(range(1, 2001))  # no gap, no duplicate


def test_divergence_fails_with_its_code_and_keeps_the_version(env: Env) -> None:
    dataset = make_dataset(env.client)
    # ReLU units are unbounded, so a huge step sends the cost to infinity.
    relu = [{"units": 4, "activation": "relu"}]
    model = make_model(env.client, dataset["id"], hidden_layers=relu)
    job = start_job(env.client, model["id"], dataset["id"], n_iter=2000, lambd=1e6)
    worker = new_worker_id(env.settings.hostname)
    claim_next(env.db, worker)
    assert run_job(env.settings, job["id"], worker, db=env.db) == "failed"
    body = env.client.get(f"/v1/jobs/{job['id']}").json()
    assert body["error"]["code"] == "diverged"
    assert "learning rate" in body["error"]["message"] and body["error"]["iteration"] >= 1
    model_now = env.client.get(f"/v1/models/{model['id']}").json()
    assert model_now["current_version"] == 0 and model_now["status"] == "ready"


def test_cancel_of_a_running_job_stops_it(env: Env) -> None:
    _, model, job = _new(env, n_iter=1_000_000)
    worker = new_worker_id(env.settings.hostname)
    claim_next(env.db, worker)
    cancelled = env.client.post(f"/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "running" and cancelled["cancel_requested"]
    assert run_job(env.settings, job["id"], worker, db=env.db) == "cancelled"
    body = env.client.get(f"/v1/jobs/{job['id']}").json()
    assert body["status"] == "cancelled" and body["progress"]["iteration"] < 1_000_000
    assert env.client.get(f"/v1/models/{model['id']}").json()["current_version"] == 0


def test_stale_jobs_are_requeued_then_failed_after_too_many_attempts(env: Env) -> None:
    settings = env.settings.model_copy(update={"max_job_attempts": 2})
    _, model, job = _new(env)
    long_ago = utcnow() - timedelta(seconds=60)
    for attempt in (1, 2):
        worker = new_worker_id(env.settings.hostname)
        assert claim_next(env.db, worker) == job["id"]
        with env.db.session() as session:
            session.execute(
                update(JobRow).where(JobRow.id == job["id"]).values(heartbeat_at=long_ago)
            )
        reclaim_stale(env.db, settings)
        row = env.job(job["id"])
        assert row.attempts == attempt
        assert row.status == ("queued" if attempt == 1 else "failed")
    assert row.error == {"code": "interrupted", "message": row.error["message"]}  # type: ignore[index]
    assert env.client.get(f"/v1/models/{model['id']}").json()["status"] == "ready"


def test_jobs_of_dead_local_workers_are_requeued(env: Env) -> None:
    _, _, job = _new(env)
    host = env.settings.hostname
    dead = f"{host}:999999999:abcd"  # no such pid
    assert local_pid(dead, host) == 999999999 and local_pid("elsewhere:12:ab", host) is None
    assert claim_next(env.db, dead) == job["id"]
    reclaim_dead_local(env.db, env.settings)
    assert env.job(job["id"]).status == "queued"
    alive = new_worker_id(env.settings.hostname)  # this very process
    claim_next(env.db, alive)
    reclaim_dead_local(env.db, env.settings)
    assert env.job(job["id"]).status == "running"


def test_a_worker_that_lost_its_job_stops_without_touching_it(env: Env) -> None:
    _, model, job = _new(env, n_iter=1_000_000)
    worker = new_worker_id(env.settings.hostname)
    claim_next(env.db, worker)
    with env.db.session() as session:  # another worker took it over meanwhile
        session.execute(update(JobRow).where(JobRow.id == job["id"]).values(worker_id="other"))
    assert run_job(env.settings, job["id"], worker, db=env.db) == "lost"
    row = env.job(job["id"])
    assert row.status == "running" and row.worker_id == "other"
    assert env.client.get(f"/v1/models/{model['id']}").json()["current_version"] == 0


def test_reporting_costs_under_a_tenth_of_training_time(env: Env) -> None:
    defaults = Settings(data_dir=env.settings.data_dir)
    _, _, job = _new(env, n_iter=40000, validation="test")
    worker = new_worker_id(env.settings.hostname)
    claim_next(env.db, worker)
    assert run_job(defaults, job["id"], worker, db=env.db) == "succeeded"
    result = env.client.get(f"/v1/jobs/{job['id']}").json()["result"]
    # Time spent in the callback (progress, history, heartbeat, cancel checks) vs training.
    assert 0 < result["reporting_s"] < 0.10 * result["elapsed_s"], result
    history = env.client.get(f"/v1/jobs/{job['id']}/history").json()
    assert history["iterations"][-1] == history["val_iterations"][-1] == 40000
    assert len(history["iterations"]) <= defaults.history_max_points + 1


def test_warm_start_continues_from_the_current_version(env: Env) -> None:
    dataset, model, job = _new(env, n_iter=300)
    worker = new_worker_id(env.settings.hostname)
    claim_next(env.db, worker)
    run_job(env.settings, job["id"], worker, db=env.db)
    cold = start_job(env.client, model["id"], dataset["id"], n_iter=300)
    claim_next(env.db, worker)
    run_job(env.settings, cold["id"], worker, db=env.db)
    warm = start_job(env.client, model["id"], dataset["id"], n_iter=300, warm_start=True)
    assert warm["params"]["base_version"] == 2
    claim_next(env.db, worker)
    run_job(env.settings, warm["id"], worker, db=env.db)
    first_cost = {
        j["id"]: env.client.get(f"/v1/jobs/{j['id']}/history").json()["costs"][0]
        for j in (job, cold, warm)
    }
    # A cold start repeats version 0 exactly; a warm start begins where version 2 ended.
    assert first_cost[cold["id"]] == first_cost[job["id"]]
    assert first_cost[warm["id"]] < first_cost[cold["id"]]
    versions = env.client.get(f"/v1/models/{model['id']}/versions").json()
    assert [v["version"] for v in versions] == [0, 1, 2, 3]
    assert versions[-1]["job_id"] == warm["id"] and versions[-1]["current"]


def test_a_regression_job_reports_regression_metrics(env: Env) -> None:
    dataset = make_dataset(env.client, kind="reg-plane", n_samples=200)
    model = make_model(env.client, dataset["id"], hidden_layers=[], init="auto")
    job = start_job(env.client, model["id"], dataset["id"], n_iter=500, validation=0.25)
    worker = new_worker_id(env.settings.hostname)
    claim_next(env.db, worker)
    assert run_job(env.settings, job["id"], worker, db=env.db) == "succeeded"
    result = env.client.get(f"/v1/jobs/{job['id']}").json()["result"]
    train, validation = result["train"], result["validation"]
    assert set(train) == {"n_samples", "mse", "rmse", "mae", "r2"}
    assert train["n_samples"] + validation["n_samples"] == round(200 * 0.8)
    assert train["r2"] > 0.9 and validation["r2"] > 0.9  # a plane is linear
