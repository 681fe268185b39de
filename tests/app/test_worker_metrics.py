"""The metrics endpoint of a Celery ``annserve worker``: one series per process (the worker and
its prefork child, or the solo worker alone), the job counters of the jobs it ran, dead children
forgotten, a port in use refused at start."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from app.jobs.celery_executor import CeleryExecutor
from app.jobs.worker_metrics import serve_worker_metrics
from app.settings import Settings
from tests.app.jobs_support import make_dataset, make_model, start_job, wait_final
from tests.app.metrics_support import (
    assert_runtime_per_process,
    scrape,
    scrape_until,
    value,
    written_processes,
)
from tests.conftest import StartServer
from tests.scaleout import WorkerPool, WorkerProcess, queue_job, settings_env, wait_for

pytestmark = pytest.mark.slow

N_ITER = 20_000


def pool_children(worker: WorkerProcess) -> set[int]:
    """The worker's prefork children."""
    pid = worker.process.pid
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_a_celery_worker_shows_its_processes_and_the_jobs_it_ran(
    celery_settings: Settings, celery_workers: WorkerPool, live_server: StartServer
) -> None:
    worker = celery_workers.start(
        celery_settings, {"ANNSERVE_WORKER_POOL": "prefork", "ANNSERVE_WORKER_CONCURRENCY": "1"}
    )
    worker.wait_ready()
    api = live_server(data_dir=celery_settings.data_dir, env=settings_env(celery_settings))
    with httpx.Client(base_url=api.base_url, timeout=10.0) as http:
        dataset = make_dataset(http, kind="circle", n_samples=80, noise=0.1, seed=1)
        model = make_model(http, dataset["id"])
        job = start_job(http, model["id"], dataset["id"], n_iter=N_ITER)
        started = time.monotonic()
        final = wait_final(http, job["id"])
        elapsed = time.monotonic() - started
    assert final["status"] == "succeeded", (final, celery_workers.logs())
    [child] = pool_children(worker)
    text = scrape_until(worker.metrics_url, 2)
    assert_runtime_per_process(text, {worker.process.pid, child})
    assert value(text, "annserve_jobs_ended_total", outcome="succeeded") == 1.0
    assert value(text, "annserve_training_iterations_total") == float(N_ITER)
    assert value(text, "annserve_job_duration_seconds_count", outcome="succeeded") == 1.0
    seconds = final["result"]["elapsed_s"]
    assert value(text, "annserve_job_duration_seconds_sum", outcome="succeeded") == seconds
    assert 0 < seconds < elapsed
    # One checkpoint per checkpoint_interval of training, at progress points.
    checkpoints = value(text, "annserve_job_checkpoints_total")
    interval = celery_settings.checkpoint_interval
    assert checkpoints is not None and 1 <= checkpoints <= seconds / interval + 1, (
        checkpoints,
        seconds,
    )
    # The API's own endpoint does not count the job a second time: it ran elsewhere.
    api_text = httpx.get(f"{api.base_url}/metrics", timeout=10.0).text
    assert value(api_text, "annserve_jobs_ended_total", outcome="succeeded") is None
    assert value(api_text, "annserve_jobs", status="succeeded") == 1.0

    # A child that dies is replaced: its series go, the new child's come, the counts stay.
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: pool_children(worker) - {child} != set(), 30, worker.log)
    [replacement] = pool_children(worker) - {child}
    wait_for(
        lambda: {worker.process.pid, replacement} <= written_processes(scrape(worker.metrics_url)),
        30,
        worker.log,
    )
    text = scrape(worker.metrics_url)
    assert_runtime_per_process(text, {worker.process.pid, replacement})
    assert value(text, "annserve_jobs_ended_total", outcome="succeeded") == 1.0
    assert value(text, "annserve_training_iterations_total") == float(N_ITER)


def test_a_solo_worker_shows_itself_and_the_job_it_ran(
    celery_settings: Settings, celery_workers: WorkerPool
) -> None:
    worker = celery_workers.start(celery_settings)  # the fixture's pool: solo
    worker.wait_ready()
    job_id = queue_job(celery_settings, n_iter=300)
    executor = CeleryExecutor(celery_settings)
    try:
        executor.submit(job_id)
    finally:
        executor.stop()
    wait_for(
        lambda: (
            value(scrape(worker.metrics_url), "annserve_jobs_ended_total", outcome="succeeded")
            == 1.0
        ),
        60,
        worker.log,
    )
    text = scrape(worker.metrics_url)
    assert_runtime_per_process(text, {worker.process.pid})
    assert value(text, "annserve_training_iterations_total") == 300.0


def test_a_port_in_use_stops_the_worker_with_the_reason(
    celery_settings: Settings, celery_workers: WorkerPool
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = celery_workers.start(celery_settings, metrics_port=port)
        assert worker.process.wait(timeout=60) == 1
    assert f"annserve: cannot serve the worker metrics on 127.0.0.1:{port}" in worker.log()


def test_port_zero_serves_nothing(tmp_path: Path) -> None:
    assert serve_worker_metrics(Settings(data_dir=tmp_path, worker_metrics_port=0)) is None
