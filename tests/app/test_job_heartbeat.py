"""A worker that is alive keeps its job while it cannot call back: a data load (or a pass) longer
than the heartbeat timeout, with recovery sweeping all along, does not lose the job."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

import app.jobs.runner as runner
from app.jobs.heartbeat import HeartbeatKeeper
from app.jobs.recovery import new_worker_id, reclaim_stale
from app.jobs.worker import claim_next
from app.main import create_app
from app.settings import Settings
from app.storage.db import Database
from app.storage.repositories import JobRepository
from tests.app.jobs_support import make_dataset, make_model, start_job

TIMEOUT = 0.6


def _slow(original: Any, seconds: float) -> Any:
    def slow_training_data(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)  # no training callback meanwhile: no progress write
        return original(*args, **kwargs)

    return slow_training_data


def test_a_slow_setup_outlasting_the_timeout_keeps_its_job(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = settings.model_copy(update={"heartbeat_timeout": TIMEOUT, "progress_interval": 0.1})
    monkeypatch.setattr(runner, "training_data", _slow(runner.training_data, 4 * TIMEOUT))
    with TestClient(create_app(quick)) as client:
        db = Database(quick.database_url)
        try:
            dataset = make_dataset(client)
            model = make_model(client, dataset["id"])
            job = start_job(client, model["id"], dataset["id"], n_iter=200)
            worker = new_worker_id(quick.hostname)
            assert claim_next(db, worker) == job["id"]
            outcome: list[str] = []
            run = threading.Thread(
                target=lambda: outcome.append(runner.run_job(quick, job["id"], worker, db=db))
            )
            run.start()
            reclaimed: list[str] = []
            while run.is_alive():  # another worker's recovery sweep, as often as it runs
                reclaimed += reclaim_stale(db, quick)
                time.sleep(0.05)
            run.join()
            assert reclaimed == []
            assert outcome == ["succeeded"]
            with db.session() as session:
                row = JobRepository(session).get(job["id"])
            assert row is not None and row.attempts == 1
        finally:
            db.dispose()


def test_the_keeper_writes_nothing_once_the_job_is_not_its_own(settings: Settings) -> None:
    quick = settings.model_copy(update={"heartbeat_timeout": TIMEOUT, "progress_interval": 0.1})
    with TestClient(create_app(quick)) as client:
        db = Database(quick.database_url)
        try:
            dataset = make_dataset(client)
            model = make_model(client, dataset["id"])
            job = start_job(client, model["id"], dataset["id"], n_iter=200)
            # Queued, not this worker's: the first beat finds nothing and the thread ends.
            keeper = HeartbeatKeeper(quick, db, job["id"], new_worker_id(quick.hostname))
            with keeper:
                keeper._thread.join(timeout=5 * keeper.interval)
                assert not keeper._thread.is_alive()
            with db.session() as session:
                row = JobRepository(session).get(job["id"])
            assert row is not None and row.heartbeat_at is None and row.status == "queued"
        finally:
            db.dispose()
