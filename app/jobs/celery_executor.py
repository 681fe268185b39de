"""The Celery executor: training jobs run as ``annserve.run_job`` tasks on a Redis broker.

The database stays the queue's source of truth. ``submit`` only sends a message naming the job;
the task claims the job row atomically before training, so a message delivered twice (Redis
redelivery, a sweep's re-send) trains the job at most once at a time. A worker that dies mid-job
is noticed through the job's stale heartbeat: a periodic sweep, run by every API process and
every worker, puts the job back in the queue and sends its task again; the next worker resumes
from the checkpoint. Each worker keeps a heartbeat of its own too
(:mod:`app.jobs.worker_liveness`), by which the sweep tells a whole worker lost on any host (not
counted as an attempt of its job) from a job that stopped on a live worker (counted).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from app.jobs.celery_app import RUN_JOB_TASK, create_celery_app
from app.jobs.recovery import reclaim_and_resend
from app.jobs.worker_liveness import WorkerLiveness
from app.settings import Settings
from app.storage.db import Database

logger = logging.getLogger("annserve.jobs.celery")


class StaleJobSweeper:
    """A daemon thread that re-queues and re-sends jobs whose worker stopped heartbeating, and
    re-sends the tasks of jobs queued for ``queued_resend_after`` seconds (a lost message)."""

    def __init__(
        self,
        settings: Settings,
        resubmit: Callable[[str], None],
        sweep: Callable[[Database, Settings], Sequence[str]] = reclaim_and_resend,
    ) -> None:
        self.settings, self.resubmit, self.sweep = settings, resubmit, sweep
        # A fraction of the timeout, so a dead worker's job waits at most ~1.25 timeouts.
        self.interval = max(0.2, settings.heartbeat_timeout / 4)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Requeued jobs whose task could not be sent yet (broker away): retried every sweep,
        # since nothing else would ever send them.
        self._unsent: list[str] = []

    def start(self) -> None:
        """Start sweeping in the background (no-op when already started)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="annserve-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sweeping and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def sweep_once(self) -> list[str]:
        """One sweep: re-queue the stale jobs and send their tasks again; the ids sent."""
        # A database of its own, disposed at once: the thread may live in a process that forks
        # pool children, which must not inherit open connections.
        db = Database(self.settings.database_url)
        try:
            self._unsent += self.sweep(db, self.settings)
        finally:
            db.dispose()
        sent: list[str] = []
        while self._unsent:
            job_id = self._unsent[0]
            self.resubmit(job_id)
            sent.append(self._unsent.pop(0))
            logger.warning("re-sent the task of a requeued job", extra={"job": job_id})
        return sent

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep_once()
            except Exception:
                # The database or broker may be briefly away; the next sweep tries again.
                logger.exception("stale-job sweep failed")


class CeleryExecutor:
    """Sends jobs to Celery workers; ``run_worker`` is the worker side (``annserve worker``)."""

    name = "celery"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Registered and kept alive only by ``run_worker``; named by the jobs it runs.
        self.liveness = WorkerLiveness(settings)
        self.celery = create_celery_app(settings, self.liveness)
        self.sweeper = StaleJobSweeper(settings, self.submit)

    def submit(self, job_id: str) -> None:
        """Send the job's task to the broker (its ``queued`` row is already committed)."""
        self.celery.send_task(RUN_JOB_TASK, args=(job_id,), queue=self.settings.celery_queue)

    def start(self) -> None:
        """Start the stale-job sweep; the jobs themselves run on the Celery workers."""
        self.sweeper.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the sweep and release the broker connections."""
        self.sweeper.stop(min(timeout, 5.0))
        self.celery.close()

    def run_worker(self, processes: int | None = None) -> int:
        """Run a Celery worker in the foreground until SIGTERM/SIGINT; its exit code.

        ``processes`` overrides ``settings.worker_concurrency``. SIGTERM is Celery's warm
        shutdown: with the ``solo`` or ``threads`` pool a running job checkpoints, goes back to
        the queue and its task is sent again; ``prefork`` children finish their job first.
        """
        from celery import signals

        # Loaded now rather than by the first task (prefork children inherit it), so the first
        # job does not pay for importing the training code.
        import app.jobs.runner  # noqa: F401
        from app.jobs.worker_metrics import serve_worker_metrics
        from app.logs import configure_logging

        def keep_our_logging(**_: Any) -> None:
            # Connected receivers make Celery leave logging alone: our JSON lines stay.
            configure_logging(self.settings.log_level)

        def start_threads(**_: Any) -> None:
            # Once the pool has forked its children, so that none inherits these threads.
            self.liveness.start()
            self.sweeper.start()

        signals.setup_logging.connect(keep_our_logging, weak=False)
        signals.worker_ready.connect(start_threads, weak=False)
        serve_worker_metrics(self.settings)  # before the pool forks: its children report too
        worker = self.celery.Worker(
            # Unique per process, so several workers on one host are told apart.
            hostname=f"annserve-{os.getpid()}@{self.settings.hostname}",
            pool_cls=self.settings.worker_pool,
            concurrency=processes or self.settings.worker_concurrency,
            queues=[self.settings.celery_queue],
            loglevel=self.settings.log_level.upper(),
            without_gossip=True,
            without_mingle=True,
            optimization="fair",
            quiet=True,
        )
        try:
            worker.start()
        finally:
            self.sweeper.stop()
            self.liveness.stop()
        return int(worker.exitcode or 0)
