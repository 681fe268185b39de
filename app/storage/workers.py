"""Queries of the ``workers`` table: a Celery worker's registration, heartbeat and retirement.

Only a worker writes its own row (its heartbeat is an upsert, so a row removed by mistake comes
back with the next beat); any process reads the rows, to judge the jobs of other hosts.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import CursorResult, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from app.storage.tables import WorkerRow


class WorkerRegistry:
    """Worker rows on one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def beat(self, worker: WorkerRow, now: datetime) -> None:
        """Refresh ``worker``'s heartbeat to ``now``, registering it when it has no row."""
        query = update(WorkerRow).where(WorkerRow.id == worker.id).values(heartbeat_at=now)
        result = self.session.execute(query)
        assert isinstance(result, CursorResult)
        if result.rowcount == 0:
            self.session.execute(
                insert(WorkerRow).values(
                    id=worker.id,
                    host=worker.host,
                    boot_id=worker.boot_id,
                    pid=worker.pid,
                    started_at=worker.started_at,
                    heartbeat_at=now,
                )
            )

    def get(self, worker_id: str) -> WorkerRow | None:
        """The row of ``worker_id``, or None when it never registered or was forgotten."""
        return self.session.get(WorkerRow, worker_id)

    def rebooted(self, worker: WorkerRow) -> bool:
        """Whether a worker registered on ``worker``'s host later, under another boot id: the
        host rebooted since, and no process of ``worker``'s boot is left."""
        if worker.boot_id is None:
            return False
        query = select(WorkerRow.id).where(
            WorkerRow.host == worker.host,
            WorkerRow.boot_id.is_not(None),
            WorkerRow.boot_id != worker.boot_id,
            WorkerRow.started_at > worker.started_at,
        )
        return self.session.scalars(query.limit(1)).first() is not None

    def stop(self, worker_id: str, now: datetime) -> None:
        """Mark ``worker_id`` stopped (a warm shutdown): whatever it still owns was lost with
        it, not by the job's own doing."""
        query = update(WorkerRow).where(WorkerRow.id == worker_id).values(stopped_at=now)
        self.session.execute(query)

    def forget(self, silent_before: datetime, keep: Collection[str]) -> int:
        """Remove the rows of workers stopped or silent since ``silent_before``, except those in
        ``keep`` (the workers running jobs name: recovery still needs them); how many."""
        query = delete(WorkerRow).where(
            or_(WorkerRow.stopped_at.is_not(None), WorkerRow.heartbeat_at < silent_before)
        )
        if keep:
            query = query.where(WorkerRow.id.not_in(list(keep)))
        result = self.session.execute(query)
        assert isinstance(result, CursorResult)
        return int(result.rowcount)
