"""Helpers for tests that read a Prometheus exposition: samples by name and labels, series per
process, and the process and runtime figures every process of a server must show."""

from __future__ import annotations

import platform
import time
from collections import Counter

import httpx
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
GENERATIONS = ("0", "1", "2")


def samples(text: str) -> Samples:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    """The sample ``name`` with exactly ``labels``, None when absent."""
    return samples(text).get((name, tuple(sorted(labels.items()))))


def per_process(text: str, name: str, **labels: str) -> dict[int, float]:
    """The samples ``name`` with ``labels`` plus a ``pid``, by pid."""
    found: dict[int, float] = {}
    for (sample, pairs), number in samples(text).items():
        other = dict(pairs)
        pid = other.pop("pid", None)
        if sample == name and pid is not None and other == labels:
            found[int(pid)] = number
    return found


def runtime_families() -> dict[str, str]:
    """Name -> type of prometheus_client's own process, GC and platform families."""
    return {
        family.name: family.type
        for collector in (PROCESS_COLLECTOR, GC_COLLECTOR, PLATFORM_COLLECTOR)
        for family in collector.collect()
    }


def assert_runtime_per_process(text: str, pids: set[int]) -> None:
    """Each process of ``pids``, and no other, shows its memory, CPU, descriptors, start time,
    garbage collections and ``python_info``, under prometheus_client's own names and types."""
    families = {family.name: family.type for family in text_string_to_metric_families(text)}
    expected = runtime_families()
    assert {name: families.get(name) for name in expected} == expected
    memory = per_process(text, "process_resident_memory_bytes")
    assert set(memory) == pids and all(v > 10e6 for v in memory.values()), (memory, pids)
    for name in ("process_open_fds", "process_max_fds"):
        series = per_process(text, name)
        assert set(series) == pids and all(v > 0 for v in series.values()), (name, series)
    # A child forked a moment ago has used no CPU of its own yet.
    cpu = per_process(text, "process_cpu_seconds_total")
    assert set(cpu) == pids and all(v >= 0 for v in cpu.values()), cpu
    started = per_process(text, "process_start_time_seconds")
    assert set(started) == pids and all(abs(v - time.time()) < 600 for v in started.values())
    for generation in GENERATIONS:
        collections = per_process(text, "python_gc_collections_total", generation=generation)
        collected = per_process(text, "python_gc_objects_collected_total", generation=generation)
        uncollectable = per_process(
            text, "python_gc_objects_uncollectable_total", generation=generation
        )
        assert set(collections) == set(collected) == set(uncollectable) == pids, generation
        assert all(v >= 0 for v in (*collected.values(), *uncollectable.values()))
        # Importing the service allocates far more than one young generation's threshold.
        assert all(v > 0 for v in collections.values()) or generation != "0", collections
    info = per_process(
        text,
        "python_info",
        implementation=platform.python_implementation(),
        major=platform.python_version_tuple()[0],
        minor=platform.python_version_tuple()[1],
        patchlevel=platform.python_version_tuple()[2],
        version=platform.python_version(),
    )
    assert info == dict.fromkeys(pids, 1.0), info


def written_processes(text: str) -> set[int]:
    """The pids that have written every runtime figure (a scrape may land between two)."""
    own = [
        sample.name
        for collector in (PROCESS_COLLECTOR, GC_COLLECTOR, PLATFORM_COLLECTOR)
        for family in collector.collect()
        for sample in family.samples
    ]
    counts = Counter(
        dict(pairs)["pid"] for name, pairs in samples(text) if name in own and "pid" in dict(pairs)
    )
    return {int(pid) for pid, count in counts.items() if count == len(own)}


def scrape(url: str) -> str:
    """The exposition at ``url``."""
    response = httpx.get(url, timeout=10.0)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def scrape_until(url: str, count: int, timeout: float = 30.0) -> str:
    """Scrape ``url`` until ``count`` processes have written every runtime figure (or ``timeout``
    runs out); the last exposition."""
    deadline = time.monotonic() + timeout
    while True:
        text = scrape(url)
        if len(written_processes(text)) >= count or time.monotonic() > deadline:
            return text
        time.sleep(0.2)
