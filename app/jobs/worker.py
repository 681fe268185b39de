"""A worker process: poll the database for the oldest queued job, claim it, run it, repeat.

Polling every ``job_poll_interval`` s keeps queue latency low; FIFO order and the concurrency
limit (one job per worker process) follow from the claim. SIGTERM or SIGINT make a running job
checkpoint and go back to the queue, then the worker exits. A worker started by a server exits at
once when that server dies (its parent pid changes), leaving its job to recovery.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from types import FrameType
from typing import Any

from app.jobs.recovery import new_worker_id, reclaim_stale
from app.jobs.reporter import ParentGone
from app.jobs.runner import Signals, run_job
from app.logs import configure_logging
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import utcnow

logger = logging.getLogger("annserve.worker")
RECOVERY_INTERVAL = 1.0


class StopFlag:
    """Set by SIGTERM/SIGINT; read by the poll loop and the training callback."""

    def __init__(self) -> None:
        self.stopping = False

    def install(self) -> None:
        """Handle SIGTERM and SIGINT by setting the flag (this process only)."""
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def __call__(self) -> bool:
        return self.stopping


def claim_next(db: Database, worker_id: str) -> str | None:
    """Claim the oldest queued job for ``worker_id``; None when the queue is empty."""
    with db.session() as session:
        candidates = JobQueue(session).oldest_queued()
    for job_id in candidates:
        with db.session() as session:
            if JobQueue(session).claim(job_id, worker_id, utcnow()):
                return job_id
    return None


def work(settings: Settings, stop: StopFlag, parent_pid: int | None = None) -> None:
    """The poll-claim-run loop, until ``stop`` is set (or the parent dies: ``ParentGone``)."""

    def parent_alive() -> bool:
        return parent_pid is None or os.getppid() == parent_pid

    signals = Signals(should_stop=stop, parent_alive=parent_alive)
    worker_id = new_worker_id()
    db = Database(settings.database_url)
    next_recovery = 0.0
    logger.info("worker started", extra={"worker": worker_id})
    try:
        while not stop.stopping:
            if not parent_alive():
                raise ParentGone
            try:
                if time.monotonic() >= next_recovery:
                    reclaim_stale(db, settings)
                    next_recovery = time.monotonic() + RECOVERY_INTERVAL
                job_id = claim_next(db, worker_id)
            except Exception:
                # The database may be briefly unavailable (locked, restarting): try again.
                logger.exception("polling the job queue failed", extra={"worker": worker_id})
                job_id = None
            if job_id is None:
                time.sleep(settings.job_poll_interval)
                continue
            logger.info("job claimed", extra={"job": job_id, "worker": worker_id})
            run_job(settings, job_id, worker_id, db=db, signals=signals)
    finally:
        db.dispose()
    logger.info("worker stopped", extra={"worker": worker_id})


def lower_priority(settings: Settings) -> None:
    """Run this process at ``settings.worker_nice``, so API requests on the host come first."""
    if settings.worker_nice:
        os.nice(settings.worker_nice)


def worker_main(settings_data: dict[str, Any], parent_pid: int | None) -> None:
    """Entry point of a spawned worker process."""
    settings = Settings(**settings_data)
    configure_logging(settings.log_level)
    lower_priority(settings)
    stop = StopFlag()
    stop.install()
    try:
        work(settings, stop, parent_pid)
    except ParentGone:
        # Exit without cleanup: the job keeps its checkpoint and is resumed after restart.
        logger.warning("server process gone; worker exiting")
        os._exit(0)
