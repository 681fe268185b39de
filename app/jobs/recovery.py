"""Recovery of jobs whose worker died: no job stays ``running`` forever.

A running job is reclaimed when its heartbeat is older than ``settings.heartbeat_timeout`` (any
host), or at once when its worker was a process on this host that no longer exists. A reclaimed
job goes back to ``queued`` and resumes from its checkpoint.

Attempts count failures of the job itself: a worker that died while its pool lived on (a local
pool's process, a Celery prefork child whose worker lives on), or a heartbeat that stopped on
another host. Once a job has been started ``max_job_attempts`` times that way it ends
``failed`` with code ``interrupted``. A restart of the whole server (every process of the pool
gone at once: a crash, kill -9, a reboot) is not the job's doing and is not counted; such a job
resumes after any number of restarts, until twice its own time budget (``max_seconds``) has
passed since it first started (:func:`over_budget`). With Celery the same holds for a whole
worker lost on this host: the job's process and the worker process it ran for both gone
(:func:`worker_restarted`); a job of a silent remote host is still counted, since from here a
lost host and a job that hangs it look alike.

With a message broker, no job stays ``queued`` forever either: a broker that loses a message
(a Redis restart without persistence) would leave its job waiting for a task that never comes, so
a job still queued ``settings.queued_resend_after`` seconds after its task was sent has it sent
again (:func:`resend_waiting`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta

from app.processes import pid_alive
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import JobRow, utcnow

logger = logging.getLogger("annserve.jobs")


def new_worker_id(worker_pid: int | None = None) -> str:
    """``host:pid:token``: unique, and says which local process owns a job; a Celery task's id
    ends with ``:<worker_pid>``, the pid of the worker process it runs for (itself, or the
    parent of a prefork child)."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    return owner if worker_pid is None else f"{owner}:{worker_pid}"


def local_pid(worker_id: str | None) -> int | None:
    """The pid in ``worker_id`` when the worker ran on this host, else None."""
    if not worker_id:
        return None
    host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return int(pid)


def local_worker_pid(worker_id: str | None) -> int | None:
    """The Celery worker process's pid in ``worker_id`` when it ran on this host, else None."""
    if local_pid(worker_id) is None or worker_id is None:
        return None
    parts = worker_id.split(":")
    return int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else None


def worker_restarted(job: JobRow) -> bool:
    """Whether ``job``'s run was lost with the whole Celery worker on this host (kill -9 of the
    worker, a crash or restart of the host): its process and its worker process are both gone.

    A prefork child that died while its worker lives on (the job's own crash, e.g. out of
    memory) is not a restart, nor is a local pool's worker (its pool reclaims those itself).
    """
    pid, worker = local_pid(job.worker_id), local_worker_pid(job.worker_id)
    return pid is not None and worker is not None and not pid_alive(pid) and not pid_alive(worker)


def over_budget(job: JobRow, settings: Settings) -> bool:
    """Whether more than twice the job's time budget has passed since it first started."""
    budget = job.params.get("max_seconds") or settings.max_job_seconds
    started = job.started_at
    return started is not None and utcnow() - started > timedelta(seconds=2 * float(budget))


def _reclaim(
    queue: JobQueue, job: JobRow, settings: Settings, why: str, *, counted: bool = True
) -> bool:
    """Requeue or fail ``job``; True when this call put it back in the queue.

    ``counted`` says whether the lost run was a failure of the job (see the module docstring).
    """
    if counted and job.attempts >= settings.max_job_attempts:
        message = f"the job was interrupted {job.attempts} times ({why}); giving up"
    elif not counted and over_budget(job, settings):
        message = f"the job was interrupted ({why}) after its time budget had passed; giving up"
    else:
        message = ""
    if message:
        if queue.fail_interrupted(job.id, message):
            queue.mark_model_ready(job.model_id)
            logger.warning("job failed: interrupted", extra={"job": job.id, "reason": why})
        return False
    if queue.release(job.id, job.worker_id, graceful=not counted):
        logger.warning("job requeued to resume", extra={"job": job.id, "reason": why})
        return True
    return False


def reclaim_stale(db: Database, settings: Settings) -> list[str]:
    """Requeue (or fail) running jobs whose heartbeat is older than the timeout.

    Returns the ids this call requeued (a message-passing executor sends their tasks again).
    """
    before = utcnow() - timedelta(seconds=settings.heartbeat_timeout)
    requeued: list[str] = []
    with db.session() as session:
        queue = JobQueue(session)
        for job in queue.stale(before):
            restarted = worker_restarted(job)
            why = "its worker restarted" if restarted else "heartbeat timed out"
            if _reclaim(queue, job, settings, why, counted=not restarted):
                requeued.append(job.id)
    return requeued


def reclaim_dead_local(db: Database, settings: Settings, pids: set[int] | None = None) -> None:
    """Requeue (or fail) running jobs of local worker processes that are gone.

    With ``pids``, only jobs of those processes, known to have died while their pool lived
    (counted as attempts); otherwise, at the start of a pool, every local job whose process no
    longer exists: those died with the previous server, which is not counted.
    """
    with db.session() as session:
        queue = JobQueue(session)
        for job in queue.running():
            pid = local_pid(job.worker_id)
            if pid is None:
                continue
            if pids is not None and pid in pids:
                restarted = worker_restarted(job)
                why = "its worker restarted" if restarted else "worker process died"
                _reclaim(queue, job, settings, why, counted=not restarted)
            elif pids is None and not pid_alive(pid):
                _reclaim(queue, job, settings, "the server restarted", counted=False)


def resend_waiting(db: Database, settings: Settings) -> list[str]:
    """Queued jobs whose task was sent ``queued_resend_after`` seconds ago or more: marked sent
    now, once among all the processes sweeping; the caller sends their tasks again."""
    now = utcnow()
    with db.session() as session:
        ids = JobQueue(session).claim_resends(
            now - timedelta(seconds=settings.queued_resend_after), now
        )
    for job_id in ids:
        logger.warning("job still queued: its task is sent again", extra={"job": job_id})
    return ids


def reclaim_and_resend(db: Database, settings: Settings) -> list[str]:
    """A broker deployment's sweep: :func:`reclaim_stale`, then :func:`resend_waiting`; the ids
    whose tasks are to be sent."""
    return [*reclaim_stale(db, settings), *resend_waiting(db, settings)]
