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
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.faults import storage_fault
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


def _release_pending(db: Database, worker_id: str, pending: set[str]) -> None:
    """Put back in the queue the jobs whose run a storage fault stopped before they could be."""
    for job_id in sorted(pending):
        with db.session() as session:
            JobQueue(session).release(job_id, worker_id, graceful=True)
        pending.discard(job_id)
        logger.info("job requeued after a storage fault", extra={"job": job_id})


def _run_claimed(
    settings: Settings, db: Database, job_id: str, worker_id: str, signals: Signals
) -> bool:
    """Run ``job_id``; False when a storage fault left it to be requeued later."""
    try:
        return run_job(settings, job_id, worker_id, db=db, signals=signals) != "queued"
    except Exception as error:
        # Even ending the job failed (the database cannot be written): this worker lives on.
        logger.exception("ending a job failed", extra={"job": job_id, "worker": worker_id})
        if storage_fault(error) is None:
            return True
        raise _Requeue(job_id) from error


class _Requeue(Exception):  # noqa: N818 - a control-flow signal
    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def work(settings: Settings, stop: StopFlag, parent_pid: int | None = None) -> None:
    """The poll-claim-run loop, until ``stop`` is set (or the parent dies: ``ParentGone``).

    Nothing but ``ParentGone`` ends it: after a storage fault (full or read-only disk) it waits
    ``storage_retry_interval`` seconds between tries, and jobs it could not requeue then are
    requeued as soon as the database takes writes again.
    """

    def parent_alive() -> bool:
        return parent_pid is None or os.getppid() == parent_pid

    signals = Signals(should_stop=stop, parent_alive=parent_alive)
    worker_id = new_worker_id(settings.hostname)
    db = Database(settings.database_url)
    next_recovery = 0.0
    pending: set[str] = set()
    job_changes = ArrayStore(settings.data_dir).job_changes
    logger.info("worker started", extra={"worker": worker_id})
    try:
        while not stop.stopping:
            if not parent_alive():
                raise ParentGone
            pause = settings.job_poll_interval
            seen = job_changes.token()  # before looking: a job queued after it wakes us
            try:
                _release_pending(db, worker_id, pending)
                if time.monotonic() >= next_recovery:
                    reclaim_stale(db, settings)
                    next_recovery = time.monotonic() + RECOVERY_INTERVAL
                job_id = claim_next(db, worker_id)
                if job_id is not None:
                    logger.info("job claimed", extra={"job": job_id, "worker": worker_id})
                    ran = _run_claimed(settings, db, job_id, worker_id, signals)
                    job_changes.touch()  # the job ended (or went back to the queue)
                    if ran:
                        continue
                    pause = settings.storage_retry_interval
            except _Requeue as requeue:
                pending.add(requeue.job_id)
                pause = settings.storage_retry_interval
            except Exception as error:
                # The database may be briefly unavailable (locked, restarting, full): try again.
                logger.exception("polling the job queue failed", extra={"worker": worker_id})
                if storage_fault(error) is not None:
                    pause = settings.storage_retry_interval
            if pause == settings.job_poll_interval:
                job_changes.wait(seen, pause)
            else:
                time.sleep(pause)
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
    from app.process_metrics import MULTIPROCESS_DIR, ProcessGauges

    metrics_dir = os.environ.get(MULTIPROCESS_DIR)
    if metrics_dir:  # the server's shared metrics: this worker's memory, CPU and descriptors
        ProcessGauges(metrics_dir)
    stop = StopFlag()
    stop.install()
    try:
        work(settings, stop, parent_pid)
    except ParentGone:
        # Exit without cleanup: the job keeps its checkpoint and is resumed after restart.
        logger.warning("server process gone; worker exiting")
        os._exit(0)
