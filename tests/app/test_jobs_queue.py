"""The job queue's SQL on SQLite and PostgreSQL: atomic claims in FIFO order, heartbeats that
notice lost ownership and cancel requests, binary history chunks, release and final states."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from app.jobs.worker import claim_next
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.repositories import DatasetRepository, JobRepository, ModelRepository
from app.storage.tables import DatasetRow, JobRow, ModelRow, utcnow


def _seed(database: Database, n_jobs: int) -> list[str]:
    now = utcnow()
    with database.session() as session:
        DatasetRepository(session).add(
            DatasetRow(
                id="ds_0000000000000001",
                name="d",
                task="binary",
                n_samples=4,
                n_features=2,
                feature_names=["a", "b"],
                target_name="y",
                classes=[0, 1],
                test_fraction=0.0,
                split_seed=0,
                source={},
                stats={},
            )
        )
        for k in range(n_jobs):
            model_id = f"mdl_{k:016x}"
            ModelRepository(session).add(
                ModelRow(
                    id=model_id,
                    name="m",
                    task="binary",
                    n_inputs=2,
                    n_outputs=1,
                    classes=[0, 1],
                    architecture={},
                    init="glorot",
                    distribution="normal",
                    seed=2,
                    dtype="float64",
                    n_parameters=17,
                )
            )
            JobRepository(session).add(
                JobRow(
                    id=f"job_{k:016x}",
                    model_id=model_id,
                    dataset_id="ds_0000000000000001",
                    status="queued",
                    params={},
                    created_at=now + timedelta(seconds=k),
                )
            )
    return [f"job_{k:016x}" for k in range(n_jobs)]


def test_claims_are_fifo_and_exclusive(database: Database) -> None:
    first, second = _seed(database, 2)
    with database.session() as session:
        assert list(JobQueue(session).oldest_queued()) == [first, second]
    with database.session() as session:
        assert JobQueue(session).claim(first, "w1", utcnow())
    with database.session() as session:
        assert not JobQueue(session).claim(first, "w2", utcnow())  # already taken
        assert list(JobQueue(session).oldest_queued()) == [second]
    with database.session() as session:
        job = JobRepository(session).get(first)
        assert job is not None and (job.worker_id, job.attempts) == ("w1", 1)
        assert job.started_at is not None


def test_heartbeats_report_cancel_and_lost_ownership(database: Database) -> None:
    (job_id,) = _seed(database, 1)
    with database.session() as session:
        JobQueue(session).claim(job_id, "w1", utcnow())
    with database.session() as session:
        assert JobQueue(session).heartbeat(job_id, "w1", utcnow(), {"iteration": 5}) is False
        assert JobQueue(session).heartbeat(job_id, "w2", utcnow()) is None
    with database.session() as session:
        assert JobQueue(session).request_cancel(job_id)
    with database.session() as session:
        assert JobQueue(session).heartbeat(job_id, "w1", utcnow()) is True
    with database.session() as session:
        assert JobQueue(session).release(job_id, "w1", graceful=True)
        assert not JobQueue(session).finish(job_id, "w1", "succeeded")  # not running any more
    with database.session() as session:
        job = JobRepository(session).get(job_id)
        assert job is not None and job.status == "queued" and job.attempts == 0
        assert job.progress == {"iteration": 5}


def test_history_chunks_round_trip_exactly(database: Database) -> None:
    (job_id,) = _seed(database, 1)
    costs = [0.1 + 1e-17, 1 / 3, 2.5e-300]
    with database.session() as session:
        queue = JobQueue(session)
        queue.append_history(job_id, [1, 2], costs[:2], [1], [0.7])
        queue.append_history(job_id, [], [], [], [])
        queue.append_history(job_id, [3], costs[2:], [3], [0.5])
    with database.session() as session:
        assert JobQueue(session).history(job_id) == ([1, 2, 3], costs, [1, 3], [0.7, 0.5])
    with database.session() as session:
        JobQueue(session).clear_history(job_id)
    with database.session() as session:
        assert JobQueue(session).history(job_id) == ([], [], [], [])


def test_one_active_job_per_model_is_a_conditional_write(database: Database) -> None:
    _seed(database, 1)
    model_id = f"mdl_{0:016x}"
    with database.session() as session:
        assert JobQueue(session).mark_model_training(model_id)
    with database.session() as session:
        assert not JobQueue(session).mark_model_training(model_id)
        JobQueue(session).mark_model_ready(model_id)
    with database.session() as session:
        assert JobQueue(session).mark_model_training(model_id)


def test_concurrent_workers_never_share_a_job(database: Database) -> None:
    jobs = _seed(database, 3)
    barrier = threading.Barrier(6)
    won: list[tuple[str, str | None]] = []

    def worker(name: str) -> None:
        barrier.wait()
        won.append((name, claim_next(database, name)))

    threads = [threading.Thread(target=worker, args=(f"w{k}",)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    claimed = [job for _, job in won if job is not None]
    assert sorted(claimed) == jobs  # each job exactly once, the rest found the queue empty
    with database.session() as session:
        for job_id in jobs:
            row = JobRepository(session).get(job_id)
            assert row is not None and row.status == "running" and row.attempts == 1
            assert (row.worker_id, job_id) in won


def test_resends_are_claimed_once_per_interval_and_only_for_waiting_jobs(
    database: Database,
) -> None:
    early, late, running = _seed(database, 3)  # created now, now + 1 s, now + 2 s
    start = utcnow()
    with database.session() as session:
        assert JobQueue(session).claim(running, "host:1:w", start)

    def sweep(at: float, interval: float = 1.0) -> list[str]:
        """A sweep ``at`` seconds after ``start``: jobs last sent over ``interval`` s before."""
        now = start + timedelta(seconds=at)
        with database.session() as session:
            return sorted(JobQueue(session).claim_resends(now - timedelta(seconds=interval), now))

    assert sweep(1.5) == [early]  # late was created too recently; running is not waiting
    assert sweep(1.6) == []  # early was just sent: not again within the interval
    assert sweep(3.0) == [early, late]
    # A job put back in the queue counts as sent then, however old it is (the sweep that
    # requeues it sends its task at once).
    with database.session() as session:
        session.execute(
            update(JobRow).where(JobRow.id == running).values(created_at=start - timedelta(hours=1))
        )
        assert JobQueue(session).release(running, "host:1:w")
    with database.session() as session:
        now = utcnow()
        assert JobQueue(session).claim_resends(now - timedelta(minutes=1), now) == []
