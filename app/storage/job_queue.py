"""Queries of the job queue: atomic claims, progress and heartbeats, history chunks, recovery.

The ``jobs`` table is the queue. Every state change a worker makes is a conditional ``UPDATE``
(``WHERE status = ... AND worker_id = ...``) whose row count says whether it won, so two workers
never run the same job and a worker that lost its job (reclaimed after a stale heartbeat) cannot
overwrite the new owner's state. This works alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.storage.tables import JobHistoryRow, JobRow, ModelRow, utcnow

_INT = np.dtype("<i8")
_FLOAT = np.dtype("<f8")


def _count(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class JobQueue:
    """Queue operations on one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # Submission ---------------------------------------------------------------------------
    def mark_model_training(self, model_id: str) -> bool:
        """Flip the model from ``ready`` to ``training``; False if it is missing or busy.

        Issued first in the submitting transaction: the conditional write is what makes "one
        active job per model" atomic, without a read-then-write race.
        """
        query = (
            update(ModelRow)
            .where(ModelRow.id == model_id, ModelRow.status == "ready")
            .values(status="training", updated_at=utcnow())
        )
        return _count(self.session.execute(query)) == 1

    def mark_model_ready(self, model_id: str) -> None:
        """The model has no active job any more."""
        query = update(ModelRow).where(ModelRow.id == model_id).values(status="ready")
        self.session.execute(query)

    def withdraw(self, job_id: str, model_id: str) -> bool:
        """Remove a job that was never handed to an executor, and free its model."""
        query = delete(JobRow).where(JobRow.id == job_id, JobRow.status == "queued")
        withdrawn = _count(self.session.execute(query)) == 1
        if withdrawn:
            self.mark_model_ready(model_id)
        return withdrawn

    # Claiming -----------------------------------------------------------------------------
    def oldest_queued(self, limit: int = 4) -> Sequence[str]:
        """Ids of the oldest queued jobs, first in first out."""
        query = (
            select(JobRow.id)
            .where(JobRow.status == "queued")
            .order_by(JobRow.created_at, JobRow.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

    def claim(self, job_id: str, worker_id: str, now: datetime) -> bool:
        """Take a queued job for ``worker_id``; False if another worker was faster."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "queued")
            .values(
                status="running",
                worker_id=worker_id,
                attempts=JobRow.attempts + 1,
                heartbeat_at=now,
            )
        )
        claimed = _count(self.session.execute(query)) == 1
        if claimed:
            self.session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.started_at.is_(None))
                .values(started_at=now)
            )
        return claimed

    # While running ------------------------------------------------------------------------
    def heartbeat(
        self, job_id: str, worker_id: str, now: datetime, progress: dict[str, Any] | None = None
    ) -> bool | None:
        """Refresh the heartbeat (and progress) of an owned job.

        Returns whether cancellation was requested, or None when the job is no longer this
        worker's (it must stop without touching the job again).
        """
        values: dict[str, Any] = {"heartbeat_at": now}
        if progress is not None:
            values["progress"] = progress
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.worker_id == worker_id, JobRow.status == "running")
            .values(**values)
            .returning(JobRow.cancel_requested)
        )
        # One round trip: the write and the cancel flag (RETURNING: SQLite >= 3.35, PostgreSQL).
        flags = self.session.execute(query).scalars().all()
        return bool(flags[0]) if len(flags) == 1 else None

    def append_history(
        self,
        job_id: str,
        iterations: Sequence[int],
        costs: Sequence[float],
        val_iterations: Sequence[int],
        val_costs: Sequence[float],
    ) -> None:
        """Append one chunk of recorded costs (nothing when the chunk is empty)."""
        if not iterations and not val_iterations:
            return
        last = max([*iterations[-1:], *val_iterations[-1:]])
        # A Core insert: the ORM unit of work costs more than the write itself here.
        self.session.execute(
            insert(JobHistoryRow).values(
                job_id=job_id,
                last_iteration=last,
                iterations=np.asarray(iterations, dtype=_INT).tobytes(),
                costs=np.asarray(costs, dtype=_FLOAT).tobytes(),
                val_iterations=np.asarray(val_iterations, dtype=_INT).tobytes(),
                val_costs=np.asarray(val_costs, dtype=_FLOAT).tobytes(),
            )
        )

    def clear_history(self, job_id: str) -> None:
        """Drop every chunk (a resumed job rewrites its history from its checkpoint)."""
        self.session.execute(delete(JobHistoryRow).where(JobHistoryRow.job_id == job_id))

    def history(self, job_id: str) -> tuple[list[int], list[float], list[int], list[float]]:
        """The whole recorded history: iterations, costs, validation iterations and costs."""
        query = (
            select(
                JobHistoryRow.iterations,
                JobHistoryRow.costs,
                JobHistoryRow.val_iterations,
                JobHistoryRow.val_costs,
            )
            .where(JobHistoryRow.job_id == job_id)
            .order_by(JobHistoryRow.id)
        )
        parts: list[list[bytes]] = [[], [], [], []]
        for chunk in self.session.execute(query):
            for part, blob in zip(parts, chunk, strict=True):
                part.append(blob)
        its, costs, val_its, val_costs = (b"".join(part) for part in parts)
        return (
            np.frombuffer(its, dtype=_INT).tolist(),
            np.frombuffer(costs, dtype=_FLOAT).tolist(),
            np.frombuffer(val_its, dtype=_INT).tolist(),
            np.frombuffer(val_costs, dtype=_FLOAT).tolist(),
        )

    # Ending -------------------------------------------------------------------------------
    def finish(self, job_id: str, worker_id: str, status: str, **values: Any) -> bool:
        """Move an owned running job to a final ``status``; False if it is no longer ours."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.worker_id == worker_id, JobRow.status == "running")
            .values(status=status, finished_at=utcnow(), **values)
        )
        return _count(self.session.execute(query)) == 1

    def release(self, job_id: str, worker_id: str | None = None, *, graceful: bool = False) -> bool:
        """Put a running job back in the queue to be resumed (by any worker).

        ``worker_id`` restricts it to that owner; ``graceful`` (a worker shutting down cleanly)
        does not count the interrupted run as an attempt.
        """
        conditions = [JobRow.id == job_id, JobRow.status == "running"]
        if worker_id is not None:
            conditions.append(JobRow.worker_id == worker_id)
        values: dict[str, Any] = {
            "status": "queued",
            "worker_id": None,
            "heartbeat_at": None,
            "sent_at": utcnow(),
        }
        if graceful:
            values["attempts"] = JobRow.attempts - 1
        return _count(self.session.execute(update(JobRow).where(*conditions).values(**values))) == 1

    def fail_interrupted(self, job_id: str, message: str) -> bool:
        """End a running job that cannot be resumed any more: ``failed`` with ``interrupted``."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "running")
            .values(
                status="failed",
                finished_at=utcnow(),
                worker_id=None,
                error={"code": "interrupted", "message": message},
            )
        )
        return _count(self.session.execute(query)) == 1

    # Recovery -----------------------------------------------------------------------------
    def running(self) -> Sequence[JobRow]:
        """Every running job (recovery inspects their owners and heartbeats)."""
        return self.session.scalars(select(JobRow).where(JobRow.status == "running")).all()

    def stale(self, before: datetime) -> Sequence[JobRow]:
        """Running jobs whose last heartbeat is older than ``before``."""
        query = select(JobRow).where(JobRow.status == "running", JobRow.heartbeat_at < before)
        return self.session.scalars(query).all()

    def claim_resends(self, before: datetime, now: datetime) -> list[str]:
        """Queued jobs last queued (or re-sent) before ``before``, now marked sent at ``now``.

        One conditional ``UPDATE``: of several processes sweeping at once, each job goes to one
        of them, and to none again until another ``before`` has passed.
        """
        last_sent = func.coalesce(JobRow.sent_at, JobRow.created_at)
        query = (
            update(JobRow)
            .where(JobRow.status == "queued", last_sent < before)
            .values(sent_at=now)
            .returning(JobRow.id)
        )
        return list(self.session.scalars(query).all())

    # Cancellation -------------------------------------------------------------------------
    def cancel_queued(self, job_id: str) -> bool:
        """Cancel a job that has not started; False if it is no longer queued."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "queued")
            .values(status="cancelled", finished_at=utcnow(), cancel_requested=True)
        )
        return _count(self.session.execute(query)) == 1

    def request_cancel(self, job_id: str) -> bool:
        """Ask the worker of a running job to stop; False if it is not running."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "running")
            .values(cancel_requested=True)
        )
        return _count(self.session.execute(query)) == 1
