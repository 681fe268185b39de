"""Process metrics of every process of a server in prometheus_client's multiprocess mode: its
uvicorn workers and its training workers.

The standard process collector reads ``/proc/self`` at scrape time, so with several processes
a scrape would only ever describe the API worker that took it. Here each process copies its
own figures (resident and virtual memory, CPU seconds, open and maximum file descriptors, start
time) into ``liveall`` gauges of the shared directory every ``interval`` seconds and at each of
its scrapes; ``/metrics`` then shows one series per worker, labelled with its ``pid``. Files of
processes that have exited are removed at scrape time, so their series go away.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from prometheus_client import Gauge
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.process_collector import ProcessCollector

from app.processes import pid_alive

logger = logging.getLogger("annserve.metrics")
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable naming the shared directory (set by ``annserve serve``)."""
_NAMES = {
    "process_resident_memory_bytes": "Resident memory size in bytes.",
    "process_virtual_memory_bytes": "Virtual memory size in bytes.",
    "process_cpu_seconds_total": "Total user and system CPU time spent in seconds.",
    "process_open_fds": "Number of open file descriptors.",
    "process_max_fds": "Maximum number of open file descriptors.",
    "process_start_time_seconds": "Start time of the process since unix epoch in seconds.",
}
_LIVE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


class ProcessGauges:
    """This process's figures as multiprocess gauges in ``directory``, kept current."""

    def __init__(self, directory: str, interval: float = 5.0) -> None:
        self.directory = directory
        self.interval = interval
        self._source = ProcessCollector(registry=None)
        first = self._figures()  # read before the gauges' files exist (they start at 0)
        self._gauges = {
            name: Gauge(name, text, multiprocess_mode="liveall", registry=None)
            for name, text in _NAMES.items()
        }
        for name, value in first.items():
            self._gauges[name].set(value)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-metrics", daemon=True)
        self._thread.start()

    def _figures(self) -> dict[str, float]:
        return {
            sample.name: sample.value
            for family in self._source.collect()
            for sample in family.samples
            if sample.name in _NAMES
        }

    def update(self) -> None:
        """Copy this process's figures into the gauges."""
        for name, value in self._figures().items():
            self._gauges[name].set(value)

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
