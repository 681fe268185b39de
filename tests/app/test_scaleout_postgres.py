"""PostgreSQL metadata: the same migrations and code, and claims that two workers never share."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from app.jobs.worker import claim_next
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.migrate import run_migrations
from app.storage.repositories import JobRepository
from app.storage.tables import utcnow
from tests.scaleout import queue_job


@pytest.fixture
def pg_settings(tmp_path: Path, postgres_schema_url: str) -> Settings:
    """Settings on a fresh PostgreSQL schema, migrated with the same Alembic scripts."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=postgres_schema_url, max_concurrent_jobs=0
    )
    run_migrations(settings.database_url)
    return settings


def race(workers: int, attempt: Callable[[int], None]) -> None:
    """Run ``attempt(index)`` on ``workers`` threads released at the same instant."""
    barrier = threading.Barrier(workers)

    def run(index: int) -> None:
        barrier.wait()
        attempt(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_claims_of_one_job_have_one_winner(pg_settings: Settings) -> None:
    job_id = queue_job(pg_settings)
    databases = [Database(pg_settings.database_url) for _ in range(8)]
    won: list[int] = []

    def attempt(index: int) -> None:
        with databases[index].session() as session:
            if JobQueue(session).claim(job_id, f"host:{index}:t", utcnow()):
                won.append(index)

    try:
        race(len(databases), attempt)
    finally:
        for db in databases:
            db.dispose()
    assert len(won) == 1
    db = Database(pg_settings.database_url)
    with db.session() as session:
        row = JobRepository(session).get(job_id)
        assert row is not None
        assert (row.status, row.worker_id, row.attempts) == ("running", f"host:{won[0]}:t", 1)
    db.dispose()


def test_workers_polling_one_queue_take_every_job_exactly_once(pg_settings: Settings) -> None:
    job_ids = [queue_job(pg_settings) for _ in range(6)]
    databases = [Database(pg_settings.database_url) for _ in range(3)]
    claims: Counter[str] = Counter()
    lock = threading.Lock()

    def attempt(index: int) -> None:
        while (job_id := claim_next(databases[index], f"host:{index}:t")) is not None:
            with lock:
                claims[job_id] += 1

    try:
        race(len(databases), attempt)
    finally:
        for db in databases:
            db.dispose()
    assert claims == Counter(dict.fromkeys(job_ids, 1))
