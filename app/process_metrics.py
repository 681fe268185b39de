"""Process and runtime metrics of every process sharing a multiprocess directory, one series per
process: the uvicorn and training workers of ``annserve serve``, and the processes of an
``annserve worker``.

prometheus_client's process, GC and platform collectors describe the process that answers the
scrape, and in multiprocess mode they do not run at all. Here each process copies what they
report (resident and virtual memory, CPU seconds, open and maximum file descriptors, start time,
``gc.get_stats()`` per generation, ``python_info``) into ``liveall`` gauges of the shared
directory every ``interval`` seconds and at each of its scrapes; a scrape (:class:`SharedMetrics`)
then shows one series per process, labelled with its ``pid``, under the collectors' own names
and types, so standard dashboards work. Files of processes that have exited are removed at
scrape time, so their series go away.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR, Gauge
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from app.processes import pid_alive

logger = logging.getLogger("annserve.metrics")
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable naming the shared directory (set by ``annserve serve`` and
``annserve worker``)."""
_SOURCES = (PROCESS_COLLECTOR, GC_COLLECTOR, PLATFORM_COLLECTOR)
_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")

# prometheus_client's multiprocess values share one lock per process, which a fork copies as it
# is: a fork while one of our threads writes would leave the child's lock held for good (a
# Celery prefork parent forks its children while its metrics threads run). So our writes hold
# this lock, and a fork waits for it.
_WRITING = threading.Lock()
os.register_at_fork(
    before=_WRITING.acquire, after_in_parent=_WRITING.release, after_in_child=_WRITING.release
)


@dataclass(frozen=True)
class _Figure:
    """One sample of a source collector."""

    name: str
    documentation: str
    counter: bool
    labels: dict[str, str]
    value: float


def _figures() -> list[_Figure]:
    return [
        _Figure(
            sample.name, family.documentation, family.type == "counter", sample.labels, sample.value
        )
        for source in _SOURCES
        for family in source.collect()
        for sample in family.samples
    ]


class ProcessGauges:
    """This process's figures as multiprocess gauges in ``directory``, kept current."""

    def __init__(self, directory: str, interval: float = 5.0) -> None:
        self.directory = directory
        self.interval = interval
        self._gauges: dict[str, Gauge] = {}
        self.counters: set[str] = set()
        """Names of the gauges whose source is a counter (``process_cpu_seconds_total``, ...)."""
        self.update()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-metrics", daemon=True)
        self._thread.start()

    def update(self) -> None:
        """Copy this process's figures into the gauges."""
        figures = _figures()  # read before a new gauge's file exists (it starts at 0)
        with _WRITING:
            for figure in figures:
                gauge = self._gauges.get(figure.name) or self._gauge(figure)
                (gauge.labels(**figure.labels) if figure.labels else gauge).set(figure.value)

    def _gauge(self, figure: _Figure) -> Gauge:
        gauge = Gauge(
            figure.name,
            figure.documentation,
            tuple(figure.labels),
            multiprocess_mode="liveall",
            registry=None,
        )
        self._gauges[figure.name] = gauge
        if figure.counter:
            self.counters.add(figure.name)
        return gauge

    def forget_exited(self) -> None:
        """Remove the gauge files of processes that no longer run."""
        for path in Path(self.directory).glob("gauge_live*_*.db"):
            match = _LIVE_FILE.fullmatch(path.name)
            if match is not None and not pid_alive(int(match.group(1))):
                mark_process_dead(int(match.group(1)), self.directory)  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        """Stop the periodic updates."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.update()
            except Exception:  # a failed update must not end the updates
                logger.warning("process metrics not updated", exc_info=True)


class SharedMetrics:
    """A collector of every process's metrics in the directory of ``gauges``, as one scrape
    answers them: this process's figures refreshed, exited processes' series gone, and the
    gauges copied from counters typed as counters again."""

    def __init__(self, gauges: ProcessGauges) -> None:
        self.gauges = gauges
        self._files = MultiProcessCollector(None, path=gauges.directory)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        self.gauges.update()
        self.gauges.forget_exited()
        for family in self._files.collect():  # type: ignore[no-untyped-call]
            if family.type == "gauge" and family.name in self.gauges.counters:
                yield _as_counter(family)
            else:
                yield family


def _as_counter(family: Metric) -> Metric:
    """A gauge family copied from counters as a counter family: each process's count only
    grows; the exposition adds ``_total`` to a counter family's name, as its samples have."""
    counter = Metric(family.name.removesuffix("_total"), family.documentation, "counter")
    counter.samples = family.samples
    return counter
