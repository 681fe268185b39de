"""The embedded executor: a pool of local worker processes polling the shared database.

``annserve serve`` starts the pool next to uvicorn (not inside the ASGI app, so uvicorn's own
``--workers`` do not multiply it). A supervisor thread replaces a worker process that dies and
requeues its job at once; it survives any error (a full disk, a database away) and keeps the
pool at its size. ``stop`` sends SIGTERM: running jobs checkpoint and go back to the queue.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess

from app.jobs.recovery import reclaim_dead_local
from app.jobs.worker import StopFlag, lower_priority, work, worker_main
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database

logger = logging.getLogger("annserve.executor")
SUPERVISE_INTERVAL = 0.5
# One BLAS thread per worker: the pool already has one process per core it is allowed to use.
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Children started inside inherit one-thread BLAS settings (unless the user chose)."""
    added = [name for name in _BLAS_THREADS if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


class LocalExecutor:
    """``processes`` worker processes on this machine (``settings.max_concurrent_jobs``)."""

    name = "local"

    def __init__(self, settings: Settings, processes: int | None = None) -> None:
        self.settings = settings
        self.processes = settings.max_concurrent_jobs if processes is None else processes
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[BaseProcess] = []
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._job_changes = ArrayStore(settings.data_dir).job_changes

    def submit(self, job_id: str) -> None:
        """The job's queued row is the message, and workers poll for it; the data dir's job
        marker wakes an idle worker at once."""
        self._job_changes.touch()

    def _spawn(self) -> BaseProcess:
        process = self._context.Process(
            target=worker_main,
            args=(self.settings.model_dump(), os.getpid()),
            name="annserve-worker",
            daemon=False,
        )
        with _single_threaded_blas():
            process.start()
        return process

    def start(self) -> None:
        """Requeue jobs of dead local workers, then start the pool and its supervisor."""
        db = Database(self.settings.database_url)
        try:
            reclaim_dead_local(db, self.settings)
        finally:
            db.dispose()
        if self.processes == 0:
            return
        self._workers = [self._spawn() for _ in range(self.processes)]
        self._supervisor = threading.Thread(
            target=self._supervise, name="annserve-pool", daemon=True
        )
        self._supervisor.start()
        logger.info("worker pool started", extra={"processes": self.processes})

    def _supervise(self) -> None:
        db = Database(self.settings.database_url)
        dead: set[int] = set()
        try:
            while not self._stopping.wait(SUPERVISE_INTERVAL):
                try:
                    self._replace_dead(dead)
                    if dead:
                        # The jobs of dead workers go back to the queue; a database that cannot
                        # be written now (full disk) is tried again at the next round.
                        reclaim_dead_local(db, self.settings, dead)
                        dead.clear()
                except Exception:
                    logger.exception("supervising the worker pool failed; trying again")
        finally:
            db.dispose()

    def _replace_dead(self, dead: set[int]) -> None:
        """Start a new process in the place of each dead one, noting the dead pids."""
        for index, process in enumerate(self._workers):
            if process.is_alive() or self._stopping.is_set():
                continue
            if process.pid is not None and process.pid not in dead:
                logger.error(
                    "worker process died; replacing it",
                    extra={"pid": process.pid, "exitcode": process.exitcode},
                )
                dead.add(process.pid)
            self._workers[index] = self._spawn()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every worker (jobs checkpoint and requeue), wait, then kill stragglers."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=SUPERVISE_INTERVAL * 4)
        for process in self._workers:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in self._workers:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.error("worker did not stop in time; killing it", extra={"pid": process.pid})
                process.kill()
                process.join(timeout=5.0)
        self._workers = []

    def run_worker(self, processes: int | None = None) -> int:
        """``annserve worker``: one worker in this process, or a pool of ``processes``."""
        if processes is None or processes <= 1:
            stop = StopFlag()
            stop.install()
            lower_priority(self.settings)
            work(self.settings, stop)
            return 0
        pool = LocalExecutor(self.settings, processes)
        stopped = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopped.set())
        pool.start()
        try:
            while not stopped.wait(0.5):
                pass
        finally:
            pool.stop()
        return 0
