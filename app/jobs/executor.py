"""The executor interface: where queued training jobs run, chosen by ``settings.executor``.

The database is the queue and the source of truth for every job's state, whatever the executor:
the service inserts a ``queued`` row and then calls :meth:`Executor.submit`; whoever runs the job
claims the row atomically and calls :func:`app.jobs.runner.run_job`, so clients see the same
behaviour from every executor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from app.settings import Settings


class Executor(Protocol):
    """Runs queued jobs in processes other than the API's."""

    name: str

    def submit(self, job_id: str) -> None:
        """Hand over a job whose ``queued`` row is already committed (may be a no-op)."""

    def start(self) -> None:
        """Start the capacity that runs jobs next to the server (``annserve serve``)."""

    def stop(self, timeout: float = 30.0) -> None:
        """Stop what :meth:`start` started; running jobs checkpoint and stay resumable."""

    def run_worker(self, processes: int | None = None) -> int:
        """Run workers in the foreground until SIGTERM/SIGINT (``annserve worker``); exit code.

        ``processes`` overrides the executor's own default concurrency.
        """


ExecutorFactory = Callable[[Settings], Executor]


def _local(settings: Settings) -> Executor:
    from app.jobs.local import LocalExecutor

    return LocalExecutor(settings)


def _celery(settings: Settings) -> Executor:
    from app.jobs.celery_executor import CeleryExecutor

    return CeleryExecutor(settings)


# Keyed by the names ``settings.executor`` accepts; each factory imports its executor lazily so
# the API process never loads what it does not use.
EXECUTORS: dict[str, ExecutorFactory] = {"local": _local, "celery": _celery}


def make_executor(settings: Settings) -> Executor:
    """The executor named by ``settings.executor``."""
    try:
        factory = EXECUTORS[settings.executor]
    except KeyError:
        raise ValueError(
            f"executor must be one of {sorted(EXECUTORS)}, got {settings.executor!r}"
        ) from None
    return factory(settings)
