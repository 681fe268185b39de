"""The Celery application of the scale-out executor: broker, delivery guarantees, the task.

Job state lives in the database, never in a Celery result backend: the task only names a job id
and calls the same ``run_job`` the local executor runs, whose atomic claim makes a duplicate
delivery harmless (at most one delivery of a job trains at a time).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from celery import Celery

from app.settings import Settings

RUN_JOB_TASK = "annserve.run_job"


def worker_identity() -> str:
    """``<host>:<pid>`` of the process that runs a task (prefork children each have their own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


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


def create_celery_app(settings: Settings) -> Celery:
    """A Celery app for ``settings`` with the ``annserve.run_job(job_id)`` task registered.

    The task reads nothing from the message but the job id: everything else comes from the
    worker's own settings (its database, data dir and heartbeat timing).
    """
    celery = Celery("annserve", set_as_current=False)
    celery.conf.update(celery_config(settings))

    @celery.task(name=RUN_JOB_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_job_task(job_id: str) -> None:
        # Imported here so that the API process, which only sends tasks, never loads the runner.
        from app.jobs.runner import run_job

        run_job(settings, job_id, worker_identity())

    return celery
