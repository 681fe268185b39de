"""A Celery worker's own heartbeat, by which any host tells a lost worker from a hung job.

A job's heartbeat stops both when the job hangs or dies on a live worker (the job's failure,
counted as an attempt) and when its whole worker or host goes away (not the job's doing). This
host can tell them apart by pid; another host cannot. So the worker process registers a row of
its own in ``workers`` (``host:pid:token``, its host's boot id, its start) and a daemon thread
refreshes its ``heartbeat_at`` every sixth of ``heartbeat_timeout``, as the jobs' heartbeats go;
the ids of its jobs name it, and recovery (:func:`app.jobs.recovery.lost_run`) compares the two
heartbeats. A warm shutdown marks the row stopped. Rows no running job names any more are
removed once stopped or silent, whenever a worker registers or stops: the table holds about the
live workers.

With the ``solo`` and ``threads`` pools the job runs in the worker process itself, so a job that
starves every thread of its process silences the worker too and is taken for a lost worker; its
time budget (:func:`app.jobs.recovery.over_budget`) still bounds it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.jobs.heartbeat import BEATS_PER_TIMEOUT
from app.jobs.recovery import registered_worker
from app.processes import boot_id
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import WorkerRow, utcnow
from app.storage.workers import WorkerRegistry

logger = logging.getLogger("annserve.jobs.celery")


class WorkerLiveness:
    """This worker process's row in ``workers``, kept fresh by a daemon thread until :meth:`stop`.

    ``pid`` and ``token`` go into the ids of the jobs run for it (``new_worker_id``). Built in
    the worker process before its pool forks, so prefork children know them too.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid, self.token = os.getpid(), secrets.token_hex(4)
        self.row = WorkerRow(
            id=f"{settings.hostname}:{self.pid}:{self.token}",
            host=settings.hostname,
            boot_id=boot_id(),
            pid=self.pid,
            started_at=utcnow(),
        )
        self.interval = settings.heartbeat_timeout / BEATS_PER_TIMEOUT
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="annserve-liveness", daemon=True)

    @property
    def worker_id(self) -> str:
        """``host:pid:token``, the row's id."""
        return self.row.id

    def start(self) -> None:
        """Register, forget the rows of workers gone, and heartbeat from now on.

        Called once the pool has forked, so that no child inherits the thread.
        """
        self._write(self._register)
        self._thread.start()

    def stop(self) -> None:
        """End the heartbeat and mark the row stopped (a warm shutdown); no-op unless started."""
        if self._thread.ident is None:
            return
        self._stopped.set()
        self._thread.join()
        self._write(self._retire)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self._write(self._beat)

    def _write(self, action: Callable[[Session, datetime], None]) -> None:
        # A database of its own each time, disposed at once: the worker process forks pool
        # children, which must not inherit open connections.
        db = Database(self.settings.database_url)
        try:
            with db.session() as session:
                action(session, utcnow())
        except Exception:
            # The database may be briefly away: the next beat tries again.
            logger.warning("worker heartbeat write failed", extra={"worker": self.worker_id})
        finally:
            db.dispose()

    def _beat(self, session: Session, now: datetime) -> None:
        WorkerRegistry(session).beat(self.row, now)

    def _register(self, session: Session, now: datetime) -> None:
        self._beat(session, now)
        self._forget(session, now)

    def _retire(self, session: Session, now: datetime) -> None:
        WorkerRegistry(session).stop(self.worker_id, now)
        self._forget(session, now)

    def _forget(self, session: Session, now: datetime) -> None:
        """Remove the rows of workers stopped or silent for a timeout that no running job
        names (a row recovery still needs stays)."""
        named = {
            worker
            for job in JobQueue(session).running()
            if (worker := registered_worker(job.worker_id)) is not None
        }
        silent = now - timedelta(seconds=self.settings.heartbeat_timeout)
        WorkerRegistry(session).forget(silent, named)
