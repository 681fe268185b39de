"""A running job's heartbeat kept by a thread of its own, for the whole run.

Progress writes (:mod:`app.jobs.reporter`) refresh the heartbeat too, but only when training
calls back: not while the job loads its data and fits its preprocessing, nor during one long
pass, nor while a worker at low CPU priority (``worker_nice``) on a busy host gets little CPU
time. Without another writer the heartbeat then goes stale while the worker is alive and
working; recovery takes the job from it, counts an attempt, and after ``max_job_attempts`` such
takeovers the job fails ``interrupted`` without ever finishing.

:class:`HeartbeatKeeper` writes the heartbeat alone (never the progress) every
``heartbeat_timeout / 6`` s, so a busy worker has several chances per timeout; a dead process
writes nothing, so recovery still finds it. It stops when the run ends, when the job is no
longer this worker's, or after twice the longest job time (``max_job_seconds``), so a process
stuck for good does not hold its job forever.
"""

from __future__ import annotations

import logging
import threading
import time

from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import utcnow

logger = logging.getLogger("annserve.jobs")
BEATS_PER_TIMEOUT = 6


class HeartbeatKeeper:
    """A daemon thread refreshing ``job_id``'s heartbeat for ``worker_id`` until :meth:`stop`."""

    def __init__(self, settings: Settings, db: Database, job_id: str, worker_id: str) -> None:
        self.db, self.job_id, self.worker_id = db, job_id, worker_id
        self.interval = settings.heartbeat_timeout / BEATS_PER_TIMEOUT
        self.deadline = time.monotonic() + 2 * settings.max_job_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="annserve-heartbeat", daemon=True)

    def __enter__(self) -> HeartbeatKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the thread (waits for a write in flight)."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval) and time.monotonic() < self.deadline:
            try:
                with self.db.session() as session:
                    owned = JobQueue(session).heartbeat(self.job_id, self.worker_id, utcnow())
            except Exception:
                # A locked or unavailable database: the next beat may pass; the run itself
                # meets the same fault and handles it.
                logger.warning("heartbeat write failed", extra={"job": self.job_id})
                continue
            if owned is None:
                return  # ended, paused, or taken over: nothing left to keep alive
