"""Helpers for the search tests: a search request, and a driver that runs a search to its end
in this process (scheduler ticks and the queued jobs, one after another: deterministic)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from app.jobs.local import LocalExecutor
from app.jobs.recovery import new_worker_id
from app.jobs.runner import run_job
from app.jobs.worker import claim_next
from app.services.search_scheduler import SearchScheduler
from app.settings import Settings
from app.storage.db import Database

FINAL = {"succeeded", "failed", "cancelled"}
SMALL_TRAIN = {"n_iter": 300, "record_every": 10}


def start_search(client: httpx.Client, dataset_id: str, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/searches", json={"dataset_id": dataset_id, **body})
    assert response.status_code == 202, response.text
    search: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/searches/{search['id']}"
    return search


def run_queued_jobs(settings: Settings, db: Database) -> int:
    """Train every queued job in this process; how many ran."""
    worker_id, count = new_worker_id(settings.hostname), 0
    while (job_id := claim_next(db, worker_id)) is not None:
        run_job(settings, job_id, worker_id, db=db)
        count += 1
    return count


def drive(
    client: httpx.Client, settings: Settings, search_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Tick the scheduler and run its jobs until the search ends; the final search."""
    scheduler = SearchScheduler(settings, LocalExecutor(settings, processes=0))
    db = Database(settings.database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            scheduler.tick(db)
            search: dict[str, Any] = client.get(f"/v1/searches/{search_id}").json()
            if search["status"] in FINAL:
                return search
            assert time.monotonic() < deadline, f"search never ended: {search}"
            run_queued_jobs(settings, db)
    finally:
        db.dispose()


def wait_search(
    client: httpx.Client, search_id: str, condition: Any, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll the search until ``condition(search)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        search: dict[str, Any] = client.get(f"/v1/searches/{search_id}").json()
        if condition(search):
            return search
        assert time.monotonic() < deadline, f"search never reached the condition: {search}"
        time.sleep(0.1)


def board(search: dict[str, Any]) -> list[tuple[int, Any, Any]]:
    """The leaderboard as (trial, params, value) triples."""
    return [(t["number"], t["params"], t["value"]) for t in search["leaderboard"]]
