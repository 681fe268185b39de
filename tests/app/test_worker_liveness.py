"""A Celery worker's own row in ``workers``: registered, kept fresh by its thread, marked stopped
on a warm shutdown, and removed once no running job names it (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from app.jobs.recovery import new_worker_id
from app.jobs.worker_liveness import WorkerLiveness
from app.processes import boot_id
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import WorkerRow, utcnow
from app.storage.workers import WorkerRegistry
from tests.scaleout import queue_job, wait_for

TIMEOUT = 0.6  # beats every 0.1 s


@pytest.fixture
def quick(database: Database, tmp_path: Path) -> Settings:
    """Settings on the (migrated) ``database`` with a heartbeat timeout of 0.6 s."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        heartbeat_timeout=TIMEOUT,
        progress_interval=0.1,
    )


@pytest.fixture
def liveness(quick: Settings) -> Iterator[WorkerLiveness]:
    worker = WorkerLiveness(quick)
    yield worker
    worker.stop()


def row(database: Database, worker_id: str) -> WorkerRow | None:
    with database.session() as session:
        return WorkerRegistry(session).get(worker_id)


def rows(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.scalars(select(WorkerRow.id)))


def test_a_worker_registers_heartbeats_and_retires(
    database: Database, liveness: WorkerLiveness, quick: Settings
) -> None:
    assert row(database, liveness.worker_id) is None  # nothing is written before start
    liveness.start()
    first = row(database, liveness.worker_id)
    assert first is not None
    assert liveness.worker_id == f"{quick.hostname}:{os.getpid()}:{liveness.token}"
    assert (first.host, first.pid, first.boot_id) == (quick.hostname, os.getpid(), boot_id())
    assert first.stopped_at is None

    def beat_again() -> bool:
        now = row(database, liveness.worker_id)
        return now is not None and now.heartbeat_at > first.heartbeat_at

    wait_for(beat_again, 5, lambda: "no second heartbeat")
    liveness.stop()
    # A warm shutdown with no job left running: nothing needs the row any more.
    assert row(database, liveness.worker_id) is None


def test_a_stopped_worker_whose_job_still_runs_keeps_its_row_marked_stopped(
    database: Database, liveness: WorkerLiveness, quick: Settings
) -> None:
    job_id = queue_job(quick)
    liveness.start()
    worker_id = new_worker_id(quick.hostname, liveness.pid, liveness.token)
    with database.session() as session:
        assert JobQueue(session).claim(job_id, worker_id, utcnow())
    liveness.stop()
    stopped = row(database, liveness.worker_id)
    assert stopped is not None and stopped.stopped_at is not None


def test_registration_forgets_the_workers_gone_unless_a_running_job_names_them(
    database: Database, liveness: WorkerLiveness, quick: Settings
) -> None:
    long_ago = utcnow() - timedelta(hours=1)

    def worker(name: str, beat_ago: float) -> WorkerRow:
        found = WorkerRow(id=f"{name}:1:aa", host=name, boot_id=None, pid=1, started_at=long_ago)
        with database.session() as session:
            WorkerRegistry(session).beat(found, utcnow() - timedelta(seconds=beat_ago))
        return found

    gone, named, alive, stopped = (
        worker("gone", 3600),
        worker("named", 3600),
        worker("alive", 0),
        worker("stopped", 0),
    )
    job_id = queue_job(quick)
    with database.session() as session:
        assert JobQueue(session).claim(job_id, "named:7:bb:1:aa", long_ago)
        WorkerRegistry(session).stop(stopped.id, utcnow())
    liveness.start()
    assert rows(database) == {named.id, alive.id, liveness.worker_id}
    assert gone.id not in rows(database)


def test_a_row_removed_by_mistake_comes_back_with_the_next_beat(
    database: Database, liveness: WorkerLiveness
) -> None:
    liveness.start()
    registered = row(database, liveness.worker_id)
    assert registered is not None
    with database.session() as session:
        session.execute(delete(WorkerRow).where(WorkerRow.id == liveness.worker_id))
    wait_for(
        lambda: row(database, liveness.worker_id) is not None, 5, lambda: "not registered again"
    )
    again = row(database, liveness.worker_id)
    assert again is not None and again.started_at == registered.started_at


def test_a_worker_never_started_writes_nothing_when_stopped(
    database: Database, quick: Settings
) -> None:
    WorkerLiveness(quick).stop()
    assert rows(database) == set()
