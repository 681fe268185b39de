"""Recovery of jobs whose worker died: no job stays ``running`` forever.

A running job is reclaimed when its heartbeat is older than ``settings.heartbeat_timeout`` (any
host), or at once when its worker was a process on this host that no longer exists. A reclaimed
job goes back to ``queued`` and resumes from its checkpoint.

Attempts count failures of the job itself: a worker that died while its pool lived on (a local
pool's process, a Celery prefork child whose worker lives on), or a heartbeat that stopped while
its worker went on heartbeating. Once a job has been started ``max_job_attempts`` times that way
it ends ``failed`` with code ``interrupted``. A restart of the whole server (every process of the
pool gone at once: a crash, kill -9, a reboot) is not the job's doing and is not counted; such a
job resumes after any number of restarts, until twice its own time budget (``max_seconds``) has
passed since it first started (:func:`over_budget`).

With Celery the same holds for a whole worker lost, on any host (:func:`lost_run`). On this host
the pids tell: the job's process and the worker process it ran for both gone
(:func:`worker_restarted`). From another host, a lost host and a job that hangs it look alike, so
each worker keeps a heartbeat of its own (:mod:`app.jobs.worker_liveness`) and its jobs' ids name
it (:func:`registered_worker`). A stale job whose worker went on heartbeating for more than half a
timeout after the job's last heartbeat hung or died on a live worker: counted. A stale job whose
worker fell silent with it (the host crashed, rebooted, or the whole worker was killed), whose
worker stopped, or whose host has rebooted since (a later worker there under another boot id)
was lost with its worker: not counted. Both heartbeats come from the same host's clock, so clock
skew between hosts does not enter the comparison. A job whose worker has no row (an id of an
older version) is counted, as before.

With a message broker, no job stays ``queued`` forever either: a broker that loses a message
(a Redis restart without persistence) would leave its job waiting for a task that never comes, so
a job still queued ``settings.queued_resend_after`` seconds after its task was sent has it sent
again (:func:`resend_waiting`).
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta

from app.processes import pid_alive
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import JobRow, utcnow
from app.storage.workers import WorkerRegistry

logger = logging.getLogger("annserve.jobs")
# A stale job's worker that heartbeat this much of a timeout after the job did lived on without
# it. Both beat every sixth of a timeout, so a worker lost with its job is at most about a sixth
# ahead, and a live worker at least five sixths.
OUTLIVED_FRACTION = 0.5


def new_worker_id(host: str, worker_pid: int | None = None, worker_token: str | None = None) -> str:
    """``host:pid:token``: unique, and says which process of which host owns a job.

    A Celery task's id adds ``:<worker_pid>``, the pid of the worker process it runs for (itself,
    or the parent of a prefork child), and ``:<worker_token>`` when that worker is registered as
    ``host:<worker_pid>:<worker_token>`` (:func:`registered_worker`).
    """
    parts = [host, str(os.getpid()), secrets.token_hex(4), worker_pid, worker_token]
    return ":".join(str(part) for part in parts if part is not None)


def local_pid(worker_id: str | None, host: str) -> int | None:
    """The pid in ``worker_id`` when the worker ran on ``host`` (this one), else None."""
    if not worker_id:
        return None
    owner_host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0]
    if owner_host != host or not pid.isdigit():
        return None
    return int(pid)


def local_worker_pid(worker_id: str | None, host: str) -> int | None:
    """The Celery worker process's pid in ``worker_id`` when it ran on ``host``, else None."""
    if local_pid(worker_id, host) is None or worker_id is None:
        return None
    parts = worker_id.split(":")
    return int(parts[3]) if len(parts) in (4, 5) and parts[3].isdigit() else None


def registered_worker(worker_id: str | None) -> str | None:
    """The id of the registered worker (``host:pid:token``) a job's ``worker_id`` ran for, or
    None when it names none (a local pool's process, a worker of an older version)."""
    parts = worker_id.split(":") if worker_id else []
    return f"{parts[0]}:{parts[3]}:{parts[4]}" if len(parts) == 5 else None


def worker_restarted(job: JobRow, host: str) -> bool:
    """Whether ``job``'s run was lost with the whole Celery worker on ``host`` (this one: kill -9
    of the worker, a crash or restart of the host): its process and its worker process are both
    gone.

    A prefork child that died while its worker lives on (the job's own crash, e.g. out of
    memory) is not a restart, nor is a local pool's worker (its pool reclaims those itself).
    """
    pid, worker = local_pid(job.worker_id, host), local_worker_pid(job.worker_id, host)
    return pid is not None and worker is not None and not pid_alive(pid) and not pid_alive(worker)


def lost_run(job: JobRow, workers: WorkerRegistry, settings: Settings) -> tuple[bool, str]:
    """Whether the lost run of stale ``job`` counts as an attempt, and why it was lost (see the
    module docstring)."""
    if worker_restarted(job, settings.hostname):
        return False, "its worker restarted"
    registered = registered_worker(job.worker_id)
    worker = workers.get(registered) if registered is not None else None
    if worker is None or job.heartbeat_at is None:
        return True, "heartbeat timed out"
    if worker.stopped_at is not None:
        return False, "its worker stopped"
    if workers.rebooted(worker):
        return False, "its host restarted"
    outlived = worker.heartbeat_at - job.heartbeat_at
    if outlived > timedelta(seconds=settings.heartbeat_timeout * OUTLIVED_FRACTION):
        return True, "heartbeat timed out while its worker lived on"
    return False, "its worker went silent"


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
        queue, workers = JobQueue(session), WorkerRegistry(session)
        for job in queue.stale(before):
            counted, why = lost_run(job, workers, settings)
            if _reclaim(queue, job, settings, why, counted=counted):
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
            pid = local_pid(job.worker_id, settings.hostname)
            if pid is None:
                continue
            if pids is not None and pid in pids:
                restarted = worker_restarted(job, settings.hostname)
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
