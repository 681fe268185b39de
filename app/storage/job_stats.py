"""What the jobs table says about the queue right now, for the operators' metrics.

One read per scrape, whatever the number of jobs: counts by status in SQL, and the progress of
the running jobs (few: at most one per worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.storage.tables import JobRow, utcnow


@dataclass(frozen=True)
class JobStats:
    """Jobs by status, and the running jobs' speed and liveness."""

    by_status: dict[str, int]
    iterations_per_second: float
    """Summed over the running jobs: iterations done over the seconds they trained."""
    oldest_heartbeat_age: float | None
    """Seconds since the stalest running job last reported (None: nothing runs)."""


def job_stats(session: Session, now: datetime | None = None) -> JobStats:
    """The current :class:`JobStats`."""
    now = now or utcnow()
    counts = session.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
    running = session.execute(
        select(JobRow.progress, JobRow.heartbeat_at).where(JobRow.status == "running")
    ).all()
    speed = 0.0
    ages: list[float] = []
    for progress, heartbeat in running:
        progress = progress or {}
        elapsed = float(progress.get("elapsed_s") or 0.0)
        if elapsed > 0:
            speed += float(progress.get("iteration") or 0) / elapsed
        if heartbeat is not None:
            ages.append(max(0.0, (now - heartbeat).total_seconds()))
    return JobStats(
        by_status={str(status): int(n) for status, n in counts},
        iterations_per_second=speed,
        oldest_heartbeat_age=max(ages) if ages else None,
    )
