"""Recovery's judgement of a stale job run for a worker of another host: lost with its worker
(not counted as an attempt) or stopped while its worker lived on (counted), told apart by the
worker's own heartbeat in ``workers``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, update

from app.jobs.recovery import (
    local_worker_pid,
    new_worker_id,
    reclaim_stale,
    registered_worker,
)
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.migrate import run_migrations
from app.storage.repositories import JobRepository
from app.storage.tables import JobRow, WorkerRow, utcnow
from app.storage.workers import WorkerRegistry
from tests.scaleout import queue_job

# Never this host: the pids in its ids mean nothing here, only its rows do.
REMOTE = "remote-host"
TIMEOUT = 10.0


@pytest.fixture
def quick(settings: Settings) -> Settings:
    """Settings on a migrated SQLite database; two attempts, a 10 s heartbeat timeout."""
    run_migrations(settings.database_url)
    return settings.model_copy(update={"heartbeat_timeout": TIMEOUT, "max_job_attempts": 2})


@pytest.fixture
def db(quick: Settings) -> Iterator[Database]:
    database = Database(quick.database_url)
    yield database
    database.dispose()


def ago(seconds: float) -> datetime:
    return utcnow() - timedelta(seconds=seconds)


def register(
    db: Database,
    beat: datetime,
    *,
    started: datetime | None = None,
    boot: str | None = "boot-a",
    host: str = REMOTE,
) -> WorkerRow:
    """A worker's row whose last heartbeat was at ``beat``."""
    pid = 1000 + secrets.randbelow(1000)
    worker = WorkerRow(
        id=f"{host}:{pid}:{secrets.token_hex(4)}",
        host=host,
        boot_id=boot,
        pid=pid,
        started_at=started or ago(3600),
    )
    with db.session() as session:
        WorkerRegistry(session).beat(worker, beat)
    return worker


def run_for(db: Database, job_id: str, worker: WorkerRow, beat: datetime) -> str:
    """Make ``job_id`` run for ``worker`` (as its task would), last heartbeat at ``beat``."""
    _, pid, token = worker.id.split(":")
    worker_id = new_worker_id(worker.host, int(pid), token)
    assert registered_worker(worker_id) == worker.id
    with db.session() as session:
        assert JobQueue(session).claim(job_id, worker_id, beat)
    return worker_id


def job(db: Database, job_id: str) -> JobRow:
    with db.session() as session:
        row = JobRepository(session).get(job_id)
    assert row is not None
    return row


def test_a_job_lost_with_its_silent_remote_worker_is_never_counted(
    quick: Settings, db: Database
) -> None:
    job_id = queue_job(quick)
    # More whole-worker losses than the job has attempts: kill -9 of the worker, a crash of
    # the host. The job's last heartbeat and its worker's came together.
    for _ in range(quick.max_job_attempts + 2):
        worker = register(db, beat=ago(60) + timedelta(seconds=0.3))
        run_for(db, job_id, worker, beat=ago(60))
        assert reclaim_stale(db, quick) == [job_id]
        row = job(db, job_id)
        assert (row.status, row.attempts, row.worker_id) == ("queued", 0, None)


def test_a_job_that_stopped_on_a_live_remote_worker_is_counted(
    quick: Settings, db: Database
) -> None:
    job_id = queue_job(quick)
    worker = register(db, beat=utcnow())  # its worker heartbeats on; the job went silent
    run_for(db, job_id, worker, beat=ago(60))
    assert reclaim_stale(db, quick) == [job_id]
    assert (job(db, job_id).status, job(db, job_id).attempts) == ("queued", 1)
    run_for(db, job_id, worker, beat=ago(60))
    assert reclaim_stale(db, quick) == []
    row = job(db, job_id)
    assert (row.status, row.attempts) == ("failed", 2)
    assert row.error is not None and row.error["code"] == "interrupted"
    assert "heartbeat timed out while its worker lived on" in row.error["message"]


def test_a_worker_that_fell_silent_soon_after_its_job_takes_the_job_along(
    quick: Settings, db: Database
) -> None:
    # The worker beat once more after the job's last heartbeat, less than half a timeout later:
    # both stopped together (the beats are a sixth of a timeout apart).
    job_id = queue_job(quick)
    worker = register(db, beat=ago(60) + timedelta(seconds=0.4 * TIMEOUT))
    run_for(db, job_id, worker, beat=ago(60))
    reclaim_stale(db, quick)
    assert (job(db, job_id).status, job(db, job_id).attempts) == ("queued", 0)


def test_a_reboot_of_the_jobs_host_is_not_counted(quick: Settings, db: Database) -> None:
    job_id = queue_job(quick)
    # Whatever the old worker's heartbeat said, a worker of the same host that started later
    # under another boot id shows that the host rebooted and took every process along.
    old = register(db, beat=utcnow(), started=ago(3600), boot="boot-a")
    register(db, beat=utcnow(), started=ago(5), boot="boot-b")
    for _ in range(quick.max_job_attempts + 1):
        run_for(db, job_id, old, beat=ago(60))
        assert reclaim_stale(db, quick) == [job_id]
        assert (job(db, job_id).status, job(db, job_id).attempts) == ("queued", 0)


def test_a_later_worker_of_the_same_boot_excuses_nothing(quick: Settings, db: Database) -> None:
    job_id = queue_job(quick)
    # Several workers run on one host: a second one starting is no restart of the first.
    old = register(db, beat=utcnow(), started=ago(3600), boot="boot-a")
    register(db, beat=utcnow(), started=ago(5), boot="boot-a")
    register(db, beat=utcnow(), started=ago(5), boot="boot-b", host="another-host")
    run_for(db, job_id, old, beat=ago(60))
    reclaim_stale(db, quick)
    assert (job(db, job_id).status, job(db, job_id).attempts) == ("queued", 1)


def test_a_job_of_a_worker_that_stopped_is_not_counted(quick: Settings, db: Database) -> None:
    job_id = queue_job(quick)
    worker = register(db, beat=utcnow())
    run_for(db, job_id, worker, beat=ago(60))
    with db.session() as session:
        WorkerRegistry(session).stop(worker.id, utcnow())
    reclaim_stale(db, quick)
    assert (job(db, job_id).status, job(db, job_id).attempts) == ("queued", 0)


def test_a_job_whose_worker_has_no_row_is_counted(quick: Settings, db: Database) -> None:
    job_id = queue_job(quick)
    # Forgotten, or an id of an older version (``host:pid:token:worker_pid``): as before.
    with db.session() as session:
        assert JobQueue(session).claim(job_id, f"{REMOTE}:1:ab:2", ago(60))
    reclaim_stale(db, quick)
    assert (job(db, job_id).status, job(db, job_id).attempts) == ("queued", 1)
    unregistered = register(db, beat=utcnow())
    with db.session() as session:
        session.execute(delete(WorkerRow).where(WorkerRow.id == unregistered.id))
    run_for(db, job_id, unregistered, beat=ago(60))
    reclaim_stale(db, quick)
    assert (job(db, job_id).status, job(db, job_id).attempts) == ("failed", 2)


def test_a_lost_job_past_its_time_budget_fails(quick: Settings, db: Database) -> None:
    job_id = queue_job(quick)
    worker = register(db, beat=ago(60))
    run_for(db, job_id, worker, beat=ago(60))
    budget = 2 * quick.max_job_seconds
    with db.session() as session:
        query = update(JobRow).where(JobRow.id == job_id).values(started_at=ago(budget + 10))
        session.execute(query)
    assert reclaim_stale(db, quick) == []
    row = job(db, job_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error is not None and row.error["code"] == "interrupted"
    assert "its worker went silent" in row.error["message"]
    assert "time budget" in row.error["message"]


def test_a_fresh_job_is_left_alone_whatever_its_worker(quick: Settings, db: Database) -> None:
    job_id = queue_job(quick)
    worker = register(db, beat=ago(3600))
    run_for(db, job_id, worker, beat=utcnow())
    assert reclaim_stale(db, quick) == []
    assert job(db, job_id).status == "running"


def test_worker_ids_name_their_registered_worker() -> None:
    assert registered_worker("h:11:aa:22:bb") == "h:22:bb"
    # A local pool's process, and a task of an older version, name no registered worker.
    assert registered_worker("h:11:aa") is None
    assert registered_worker("h:11:aa:22") is None
    assert registered_worker(None) is None
    assert local_worker_pid("h:11:aa:22:bb", "h") == 22
    assert local_worker_pid("h:11:aa:22", "h") == 22
    assert local_worker_pid("h:11:aa:22:bb", "elsewhere") is None
    assert new_worker_id("h").startswith("h:") and len(new_worker_id("h").split(":")) == 3
