"""Counters of what training processes do: jobs ended by outcome, their duration, checkpoints.

They live in the processes that train (local pool workers, Celery workers). Under
``annserve serve`` every process writes them to the shared multiprocess directory
(``PROMETHEUS_MULTIPROC_DIR``), so the API's ``/metrics`` reports the sum over all of them.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

JOBS_ENDED = Counter("annserve_jobs_ended", "Training jobs that ended, by outcome.", ("outcome",))
JOB_DURATION = Histogram(
    "annserve_job_duration_seconds",
    "Training time of the jobs that ended, by outcome.",
    ("outcome",),
    buckets=DURATION_BUCKETS,
)
CHECKPOINTS = Counter("annserve_job_checkpoints", "Training checkpoints written.")
ITERATIONS = Counter("annserve_training_iterations", "Training iterations completed.")


def job_ended(outcome: str, seconds: float | None = None, iterations: int = 0) -> None:
    """Record a job that ended ``outcome`` after ``seconds`` of training (None: it did not
    train, or the time is not known) and ``iterations`` in this run."""
    JOBS_ENDED.labels(outcome).inc()
    if seconds is not None:
        JOB_DURATION.labels(outcome).observe(max(0.0, seconds))
    ITERATIONS.inc(max(0, iterations))


def checkpoint_written() -> None:
    """Record one checkpoint write."""
    CHECKPOINTS.inc()
