"""The Celery application of the scale-out executor: broker, delivery guarantees, the task.

Job state lives in the database, never in a Celery result backend: the task only names a job id
and calls the same ``run_job`` the local executor runs, whose atomic claim makes a duplicate
delivery harmless (at most one delivery of a job trains at a time).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from celery import Celery, Task, signals
from sqlalchemy.exc import OperationalError

from app.jobs.recovery import local_pid, new_worker_id, reclaim_dead_local
from app.processes import pid_alive
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.repositories import JobRepository
from app.storage.tables import utcnow

if TYPE_CHECKING:
    from app.jobs.worker_liveness import WorkerLiveness

logger = logging.getLogger("annserve.jobs.celery")

RUN_JOB_TASK = "annserve.run_job"
DATABASE_RETRY_S = 5.0


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for long training tasks whose state lives elsewhere.

    A message is acknowledged only after the task returns (``acks_late``) and is handed back to
    the broker when the process running it dies (``reject_on_worker_lost``), so a lost job is
    delivered again and resumes from its checkpoint. A worker reserves one message at a time, so
    queued jobs wait on the broker for whichever worker frees up first.
    """
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": settings.broker_visibility_timeout},
        "result_backend": None,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_default_queue": settings.celery_queue,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_prefetch_multiplier": 1,
        "worker_concurrency": settings.worker_concurrency,
        "worker_pool": settings.worker_pool,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
    }


# Set when this process's worker begins a warm shutdown (SIGTERM); a job running in this process
# (solo or threads pool) then checkpoints and goes back to the queue.
_shutting_down = threading.Event()


def _on_worker_shutting_down(**_: Any) -> None:
    _shutting_down.set()


signals.worker_shutting_down.connect(_on_worker_shutting_down, weak=False)


def claim(db: Database, settings: Settings, job_id: str, worker_id: str) -> bool:
    """Claim ``job_id``; also take it over when its owner was a process on this host that died.

    A prefork child killed mid-job makes Celery hand the message back at once; its job still
    looks ``running``, but the dead pid shows it is not, so the redelivery resumes it right away
    instead of waiting for the heartbeat to go stale.
    """
    with db.session() as session:
        if JobQueue(session).claim(job_id, worker_id, utcnow()):
            return True
        row = JobRepository(session).get(job_id)
        running = row is not None and row.status == "running"
        owner = local_pid(row.worker_id, settings.hostname) if row is not None and running else None
    if owner is None or pid_alive(owner):
        return False
    reclaim_dead_local(db, settings, {owner})
    with db.session() as session:
        return JobQueue(session).claim(job_id, worker_id, utcnow())


def execute_job(
    celery: Celery, settings: Settings, job_id: str, worker: WorkerLiveness | None = None
) -> str:
    """The task body: claim ``job_id`` for this process, train it, hand it back on shutdown.

    ``worker`` is the registered worker process the task runs for (its id goes into the job's
    ``worker_id``, so recovery on any host can consult its heartbeat). Returns what became of
    the job: ``"skipped"`` when the claim failed (the job is running elsewhere, finished,
    cancelled or deleted: a duplicate delivery), else ``run_job``'s status.
    """
    # Imported here so that the API process, which only sends tasks, never loads the runner.
    from app.jobs.runner import Signals, run_job

    if worker is not None:
        worker_id = new_worker_id(settings.hostname, worker.pid, worker.token)
    else:
        # A prefork child runs for its parent, the worker; the solo and threads pools run in it.
        worker_pid = os.getppid() if settings.worker_pool == "prefork" else os.getpid()
        worker_id = new_worker_id(settings.hostname, worker_pid)
    db = Database(settings.database_url)
    try:
        if not claim(db, settings, job_id, worker_id):
            logger.info("job not claimable, message dropped", extra={"job": job_id})
            return "skipped"
        signals_ = Signals(should_stop=_shutting_down.is_set)
        status = run_job(settings, job_id, worker_id, db=db, signals=signals_)
    finally:
        db.dispose()
    if status == "queued":
        # Checkpointed for this worker's shutdown: queue the task again for another worker.
        celery.send_task(RUN_JOB_TASK, args=(job_id,), queue=settings.celery_queue)
    return status


def create_celery_app(settings: Settings, worker: WorkerLiveness | None = None) -> Celery:
    """A Celery app for ``settings`` with the ``annserve.run_job(job_id)`` task registered.

    The task reads nothing from the message but the job id: everything else comes from the
    worker's own settings (its database, data dir and heartbeat timing) and its registration
    ``worker``.
    """
    celery = Celery("annserve", set_as_current=False)
    celery.conf.update(celery_config(settings))

    # Not shared: each app's task closes over its own settings.
    @celery.task(name=RUN_JOB_TASK, bind=True, ignore_result=True, shared=False)  # type: ignore[untyped-decorator]
    def run_job_task(task: Task, job_id: str) -> str:
        try:
            return execute_job(celery, settings, job_id, worker)
        except OperationalError as error:
            # The database was unreachable before the claim: acknowledging would strand the
            # queued job without a message, so the task comes back later instead.
            logger.warning("database unavailable, task retried", extra={"job": job_id})
            raise task.retry(exc=error, countdown=DATABASE_RETRY_S, max_retries=None) from error

    return celery
