"""Queries that pause, resume and step jobs; each is a conditional ``UPDATE`` like the queue's.

A ``queued`` job pauses at once (no worker holds it); a ``running`` one is asked to
(``pause_requested``) and its worker checkpoints, writes ``paused`` and gives its slot back.
Resuming puts a paused job back in the queue; ``pause_at`` makes the resumed run pause again at
that iteration (step mode).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.storage.tables import JobRow, utcnow


def _won(result: Any) -> bool:
    assert isinstance(result, CursorResult)
    return int(result.rowcount) == 1


class JobControl:
    """Pause-control operations on one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # From the API ---------------------------------------------------------------------------
    def pause_queued(self, job_id: str) -> bool:
        """A queued job becomes ``paused`` at once; False if it is not queued."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "queued")
            .values(status="paused", pause_requested=False, pause_at=None)
        )
        return _won(self.session.execute(query))

    def request_pause(self, job_id: str) -> bool:
        """Ask the worker of a running job to pause; False if it is not running."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "running")
            .values(pause_requested=True)
        )
        return _won(self.session.execute(query))

    def resume(self, job_id: str, pause_at: int | None) -> bool:
        """Queue a paused job again (pausing at ``pause_at`` if given); False if not paused."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "paused")
            .values(status="queued", pause_requested=False, pause_at=pause_at, sent_at=utcnow())
        )
        return _won(self.session.execute(query))

    def withdraw_pause(self, job_id: str) -> bool:
        """Forget the pause request of a running job; False if it is not running."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "running")
            .values(pause_requested=False, pause_at=None)
        )
        return _won(self.session.execute(query))

    def set_pause_at(self, job_id: str, pause_at: int) -> bool:
        """A queued job will pause at ``pause_at``; False if it is not queued."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "queued")
            .values(pause_at=pause_at)
        )
        return _won(self.session.execute(query))

    def cancel_paused(self, job_id: str) -> bool:
        """Cancel a paused job now; False if it is not paused."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "paused")
            .values(status="cancelled", finished_at=utcnow(), cancel_requested=True)
        )
        return _won(self.session.execute(query))

    # From the worker ------------------------------------------------------------------------
    def pause_requested(self, job_id: str) -> bool:
        """Whether the running job was asked to pause."""
        query = select(JobRow.pause_requested).where(JobRow.id == job_id)
        return bool(self.session.scalar(query))

    def mark_paused(self, job_id: str, worker_id: str, progress: dict[str, Any]) -> bool:
        """An owned running job is now ``paused`` at ``progress``; False if no longer ours."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.worker_id == worker_id, JobRow.status == "running")
            .values(
                status="paused",
                progress=progress,
                worker_id=None,
                heartbeat_at=None,
                pause_requested=False,
                pause_at=None,
                # A pause is no failed attempt (as a graceful shutdown is not).
                attempts=JobRow.attempts - 1,
            )
        )
        return _won(self.session.execute(query))
