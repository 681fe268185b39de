"""Prometheus metrics for operators: HTTP requests, predictions, uploads, the job queue and the
training processes, and the process itself.

Under ``annserve serve`` the environment names a multiprocess directory
(``PROMETHEUS_MULTIPROC_DIR``): every uvicorn worker and every training process writes its
counters there, and ``/metrics`` answers their sum, whichever worker takes the request. Without
it (one process, e.g. in tests) each app keeps its own registry, with the process' own metrics;
with it, each process writes its process and Python runtime metrics (memory, CPU, descriptors,
garbage collections, ``python_info``) as series labelled with its ``pid``
(:mod:`app.process_metrics`).
The job queue's gauges are read from the database at each scrape, so every process agrees.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from app.jobs import job_metrics
from app.process_metrics import MULTIPROCESS_DIR, ProcessGauges, SharedMetrics
from app.storage.db import Database
from app.storage.job_stats import job_stats

logger = logging.getLogger("annserve.metrics")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_STATUSES = ("queued", "running", "paused", "succeeded", "failed", "cancelled")


class JobQueueCollector(Collector):
    """Gauges of the jobs table, read at each scrape."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> Iterator[Metric]:
        # Named without reading the database (a registry describes a collector when it is added).
        for name in (
            "annserve_database_up",
            "annserve_jobs",
            "annserve_job_queue_depth",
            "annserve_jobs_running",
            "annserve_training_iterations_per_second",
            "annserve_job_heartbeat_age_seconds",
        ):
            yield GaugeMetricFamily(name, name)

    def collect(self) -> Iterator[Metric]:
        try:
            with self.db.session() as session:
                stats = job_stats(session)
        except Exception:
            # A scrape must not fail with the database: say it is away instead.
            logger.warning("job metrics unavailable: the database did not answer")
            yield GaugeMetricFamily("annserve_database_up", "The database answers.", value=0)
            return
        yield GaugeMetricFamily("annserve_database_up", "The database answers.", value=1)
        jobs = GaugeMetricFamily("annserve_jobs", "Jobs by status.", labels=["status"])
        for status in sorted({*JOB_STATUSES, *stats.by_status}):
            jobs.add_metric([status], stats.by_status.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "annserve_job_queue_depth",
            "Jobs waiting for a worker.",
            value=stats.by_status.get("queued", 0),
        )
        yield GaugeMetricFamily(
            "annserve_jobs_running", "Jobs training now.", value=stats.by_status.get("running", 0)
        )
        yield GaugeMetricFamily(
            "annserve_training_iterations_per_second",
            "Iterations per second, summed over the running jobs.",
            value=stats.iterations_per_second,
        )
        if stats.oldest_heartbeat_age is not None:
            yield GaugeMetricFamily(
                "annserve_job_heartbeat_age_seconds",
                "Seconds since the stalest running job last reported.",
                value=stats.oldest_heartbeat_age,
            )


class ServiceMetrics:
    """The metrics the API process feeds, and the ``/metrics`` exposition."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, db: Database | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_DIR) or None
        labels = ("method", "route", "status")
        self.requests = Counter(
            "annserve_http_requests",
            "HTTP requests by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "annserve_http_request_duration_seconds",
            "HTTP request latency by method, route template and status.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "annserve_predictions",
            "Prediction requests by model and protocol.",
            ("model", "protocol"),
            registry=self.registry,
        )
        self.predicted_rows = Counter(
            "annserve_predicted_rows",
            "Rows predicted, by model.",
            ("model",),
            registry=self.registry,
        )
        self.uploads = Counter(
            "annserve_dataset_uploads",
            "Dataset uploads by outcome (created or refused).",
            ("outcome",),
            registry=self.registry,
        )
        self.upload_bytes = Counter(
            "annserve_dataset_upload_bytes",
            "Bytes of the dataset files uploaded and stored.",
            registry=self.registry,
        )
        self._prediction_children: dict[tuple[str, str], tuple[Counter, Counter]] = {}
        self._collectors: list[Collector] = [] if db is None else [JobQueueCollector(db)]
        # What /metrics answers: in multiprocess mode every process's counters and figures, read
        # from the shared directory, then the database's gauges.
        self.exposed = self.registry
        if self.multiprocess_dir is not None:
            self.exposed = CollectorRegistry()
            self.exposed.register(SharedMetrics(ProcessGauges(self.multiprocess_dir)))
            for collector in self._collectors:
                self.exposed.register(collector)
        else:
            for collector in (
                *self._collectors,
                PROCESS_COLLECTOR,
                PLATFORM_COLLECTOR,
                GC_COLLECTOR,
                job_metrics.JOBS_ENDED,
                job_metrics.JOB_DURATION,
                job_metrics.CHECKPOINTS,
                job_metrics.ITERATIONS,
            ):
                self.registry.register(collector)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        status_label = str(status)
        self.requests.labels(method, route, status_label).inc()
        self.latency.labels(method, route, status_label).observe(seconds)

    def predicted(self, model_id: str, protocol: str, rows: int) -> None:
        """Record one prediction request of ``rows`` rows."""
        # The labelled children are kept: looking them up costs more than counting, per request.
        children = self._prediction_children.get((model_id, protocol))
        if children is None:
            children = (
                self.predictions.labels(model_id, protocol),
                self.predicted_rows.labels(model_id),
            )
            self._prediction_children[(model_id, protocol)] = children
        children[0].inc()
        children[1].inc(rows)

    def uploaded(self, created: bool, size: int = 0) -> None:
        """Record one upload: stored (with its size) or refused."""
        self.uploads.labels("created" if created else "refused").inc()
        if created:
            self.upload_bytes.inc(size)

    def render(self) -> bytes:
        """The text exposition format: every process' counters in multiprocess mode."""
        return generate_latest(self.exposed)
