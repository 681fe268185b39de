"""The Prometheus endpoint of a Celery ``annserve worker``: its processes and the jobs they ran.

A worker may run on another host than the API, so its metrics cannot reach the API's
``/metrics``. ``annserve worker`` gives itself a multiprocess directory of its own
(``PROMETHEUS_MULTIPROC_DIR``), which its prefork children inherit: the worker process and each
child write their process and runtime figures there (:mod:`app.process_metrics`), the training
processes their job counters (:mod:`app.jobs.job_metrics`), and the worker process answers
``GET /metrics`` on ``worker_metrics_host:worker_metrics_port`` with all of them: one series
per process, and job counters summed over every process, exited children included.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from app.process_metrics import MULTIPROCESS_DIR, ProcessGauges, SharedMetrics
from app.settings import Settings

logger = logging.getLogger("annserve.metrics")


class WorkerMetricsError(RuntimeError):
    """The worker's metrics endpoint cannot listen on its address and port."""


class WorkerMetrics:
    """The worker process's endpoint and figures; each pool child adds its own figures."""

    def __init__(self, server: WSGIServer, gauges: ProcessGauges) -> None:
        self.server, self.gauges = server, gauges
        self.worker_pid = os.getpid()

    @property
    def port(self) -> int:
        """The port the endpoint listens on."""
        return int(self.server.server_port)

    def child_started(self, **_: Any) -> None:
        """Celery's ``worker_process_init`` in a prefork child: it writes its own figures, and
        closes its copy of the listening socket, so that a child outliving the worker does not
        hold the port."""
        if os.getpid() == self.worker_pid:
            return  # the solo pool sends the signal in the worker process itself
        self.server.socket.close()
        ProcessGauges(self.gauges.directory)

    def stop(self) -> None:
        """Stop serving and updating."""
        self.server.shutdown()
        self.server.server_close()
        self.gauges.stop()


def serve_worker_metrics(settings: Settings) -> WorkerMetrics | None:
    """Serve this worker's metrics in the background (None when ``worker_metrics_port`` is 0);
    call it before the pool starts its children.

    Raises ``WorkerMetricsError`` when the address cannot be listened on.
    """
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not settings.worker_metrics_port:
        return None
    if not directory:
        logger.warning("worker metrics not served: no multiprocess directory is set")
        return None
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    gauges = ProcessGauges(directory)
    registry = CollectorRegistry()
    registry.register(SharedMetrics(gauges))
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        gauges.stop()
        raise WorkerMetricsError(
            f"cannot serve the worker metrics on {host}:{port}: {error.strerror or error}"
        ) from None
    from celery import signals  # imported here: the ``annserve`` command loads this module

    metrics = WorkerMetrics(server, gauges)
    signals.worker_process_init.connect(metrics.child_started, weak=False)
    logger.info("worker metrics served", extra={"host": host, "port": port})
    return metrics
