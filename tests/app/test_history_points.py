"""The bounded stored history: first, last and evenly spread points, at most the bound, the
same points however the recorded costs arrive."""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import func, select

from app.jobs.history_points import BoundedHistory
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import JobHistoryRow
from core.training_state import History
from tests.app.test_jobs_queue import _seed


def _store(database: Database, job_id: str, n: int, chunk: int, max_points: int) -> BoundedHistory:
    stored = BoundedHistory(max_points)
    with database.session() as session:
        stored.reset(JobQueue(session), job_id, History())
    for start in range(1, n + 1, chunk):
        its = list(range(start, min(n, start + chunk - 1) + 1))
        costs = [1.0 / i for i in its]
        val_its = [i for i in its if i % 10 == 1]
        chunk_ = (its, costs, val_its, [1.0 / i for i in val_its])
        with database.session() as session:
            stored.write(JobQueue(session), job_id, chunk_, final=its[-1] == n)
    return stored


def test_a_long_history_is_stored_as_a_bounded_even_sample(database: Database) -> None:
    (job_id,) = _seed(database, 1)
    _store(database, job_id, 100_000, 997, max_points=100)
    with database.session() as session:
        its, costs, val_its, _ = JobQueue(session).history(job_id)
        rows = session.scalar(select(func.count()).where(JobHistoryRow.job_id == job_id))
    assert its[0] == 1 and its[-1] == 100_000 and len(its) <= 101
    assert len(its) > 50  # the bound is used, not wasted
    steps = {b - a for a, b in pairwise(its[:-1])}
    assert len(steps) == 1  # evenly spread
    assert costs == [1.0 / i for i in its]
    assert val_its[0] == 1 and len(val_its) <= 101
    assert rows is not None and rows < 200  # rewrites replace the chunks, they do not pile up


def test_the_stored_points_do_not_depend_on_how_costs_arrive(database: Database) -> None:
    first, second = _seed(database, 2)
    _store(database, first, 5_000, 1, max_points=64)
    _store(database, second, 5_000, 700, max_points=64)
    with database.session() as session:
        assert JobQueue(session).history(first) == JobQueue(session).history(second)


def test_a_short_history_is_stored_whole(database: Database) -> None:
    (job_id,) = _seed(database, 1)
    _store(database, job_id, 50, 7, max_points=100)
    with database.session() as session:
        assert JobQueue(session).history(job_id)[0] == list(range(1, 51))
