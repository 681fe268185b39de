"""Scale-out against the real services: an API process and Celery worker processes on Redis, with
PostgreSQL metadata. Workers share a queue, survive a kill -9 and outlive an API restart."""

from __future__ import annotations

import io
import os
import signal
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from app.jobs.celery_executor import CeleryExecutor
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.repositories import JobRepository
from app.storage.tables import JobRow, WorkerRow, utcnow
from tests.conftest import LiveServer, StartServer, stop_process
from tests.scaleout import WorkerPool, WorkerProcess, queue_job, settings_env, wait_for

pytestmark = pytest.mark.slow

FINAL = {"succeeded", "failed", "cancelled"}
HIDDEN = [{"units": 8, "activation": "tanh"}]


def start_api(live_server: StartServer, settings: Settings) -> LiveServer:
    """``annserve serve`` with the stack's settings (it sends jobs to the Celery workers)."""
    return live_server(data_dir=settings.data_dir, env=settings_env(settings))


def create_dataset(http: httpx.Client) -> str:
    response = http.post(
        "/v1/datasets/generate", json={"kind": "circle", "n_samples": 200, "noise": 0.1, "seed": 4}
    )
    assert response.status_code == 201, response.text
    dataset_id: str = response.json()["id"]
    return dataset_id


def create_model(http: httpx.Client, dataset_id: str, seed: int = 7) -> str:
    body = {"name": f"net-{seed}", "dataset_id": dataset_id, "hidden_layers": HIDDEN, "seed": seed}
    response = http.post("/v1/models", json=body)
    assert response.status_code == 201, response.text
    model_id: str = response.json()["id"]
    return model_id


def train(http: httpx.Client, model_id: str, dataset_id: str, n_iter: int) -> str:
    body = {"dataset_id": dataset_id, "n_iter": n_iter, "learning_rate": 0.3}
    response = http.post(f"/v1/models/{model_id}/train", json=body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def get_job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_final(
    http: httpx.Client, job_ids: list[str], workers: WorkerPool, timeout: float = 90.0
) -> dict[str, dict[str, Any]]:
    """Poll until every job has ended; the jobs' bodies by id."""
    jobs: dict[str, dict[str, Any]] = {}

    def all_final() -> bool:
        jobs.update({job_id: get_job(http, job_id) for job_id in job_ids})
        return all(job["status"] in FINAL for job in jobs.values())

    wait_for(all_final, timeout, lambda: f"{jobs}\n{workers.logs()}", step=0.2)
    return jobs


def job_row(settings: Settings, job_id: str) -> JobRow:
    """The job's row, read straight from the database."""
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            row = JobRepository(session).get(job_id)
            assert row is not None
            return row
    finally:
        db.dispose()


def job_owner(settings: Settings, job_id: str) -> int | None:
    """The pid in the job's ``worker_id`` (``host:pid:token``), None when unowned."""
    owner = job_row(settings, job_id).worker_id
    return int(owner.split(":")[1]) if owner else None


def parameters(http: httpx.Client, model_id: str) -> dict[str, np.ndarray]:
    response = http.get(
        f"/v1/models/{model_id}/parameters", headers={"Accept": "application/x-npz"}
    )
    assert response.status_code == 200, response.text
    with np.load(io.BytesIO(response.content), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def start_workers(pool: WorkerPool, settings: Settings, count: int) -> list[WorkerProcess]:
    workers = [pool.start(settings) for _ in range(count)]
    for worker in workers:
        worker.wait_ready()
    return workers


def test_two_workers_share_six_jobs_and_run_each_exactly_once(
    celery_settings: Settings, celery_workers: WorkerPool, live_server: StartServer
) -> None:
    workers = start_workers(celery_workers, celery_settings, 2)
    api = start_api(live_server, celery_settings)
    with httpx.Client(base_url=api.base_url, timeout=10) as http:
        dataset_id = create_dataset(http)
        models = [create_model(http, dataset_id, seed) for seed in range(6)]
        job_ids = [train(http, model_id, dataset_id, 4_000) for model_id in models]
        jobs = wait_final(http, job_ids, celery_workers)
    assert {job["status"] for job in jobs.values()} == {"succeeded"}, celery_workers.logs()
    # Claimed once each: one attempt, one version, one "succeeded" line in all workers' logs.
    assert [job["attempts"] for job in jobs.values()] == [1] * 6
    assert [job["produced_version"] for job in jobs.values()] == [1] * 6
    logs = celery_workers.logs()
    for job_id in job_ids:
        assert logs.count(f'"message": "job succeeded", "job": "{job_id}"') == 1, logs
    # Both workers took part: prefetch of one leaves the next job to whichever worker is free.
    owners = {job_owner(celery_settings, job_id) for job_id in job_ids}
    assert owners == {worker.process.pid for worker in workers}


def test_killed_worker_job_resumes_on_another_from_its_checkpoint(
    celery_settings: Settings, celery_workers: WorkerPool, live_server: StartServer
) -> None:
    workers = start_workers(celery_workers, celery_settings, 2)
    by_pid = {worker.process.pid: worker for worker in workers}
    api = start_api(live_server, celery_settings)
    n_iter = 30_000
    with httpx.Client(base_url=api.base_url, timeout=10) as http:
        dataset_id = create_dataset(http)
        model_id = create_model(http, dataset_id)
        job_id = train(http, model_id, dataset_id, n_iter)
        checkpoint = celery_settings.data_dir / "jobs" / job_id / "checkpoint.npz"

        def checkpointed() -> bool:
            progress = get_job(http, job_id)["progress"] or {}
            return checkpoint.exists() and progress.get("iteration", 0) > 0

        wait_for(checkpointed, 60, celery_workers.logs)
        owner = job_owner(celery_settings, job_id)
        assert owner in by_pid
        by_pid[owner].kill()
        [job] = wait_final(http, [job_id], celery_workers).values()
        assert job["status"] == "succeeded", (job, celery_workers.logs())
        assert job["attempts"] == 1  # the lost worker is not the job's failure
        assert job["result"]["resumed_from_iteration"] > 0
        assert job["result"]["n_iter"] == n_iter
        survivor = next(pid for pid in by_pid if pid != owner)
        assert job_owner(celery_settings, job_id) in (None, survivor)
        assert f'"message": "job succeeded", "job": "{job_id}"' in by_pid[survivor].log()

        # The same training without interruption ends with exactly the same parameters.
        twin_id = create_model(http, dataset_id)
        twin_job = train(http, twin_id, dataset_id, n_iter)
        [twin] = wait_final(http, [twin_job], celery_workers).values()
        assert twin["status"] == "succeeded" and twin["attempts"] == 1
        assert twin["result"]["resumed_from_iteration"] is None
        resumed, uninterrupted = parameters(http, model_id), parameters(http, twin_id)
    assert resumed.keys() == uninterrupted.keys()
    for name in resumed:
        np.testing.assert_array_equal(resumed[name], uninterrupted[name])


def test_api_restart_while_workers_train_loses_nothing(
    celery_settings: Settings, celery_workers: WorkerPool, live_server: StartServer
) -> None:
    start_workers(celery_workers, celery_settings, 1)
    first = start_api(live_server, celery_settings)
    with httpx.Client(base_url=first.base_url, timeout=10) as http:
        dataset_id = create_dataset(http)
        model_id = create_model(http, dataset_id)
        job_id = train(http, model_id, dataset_id, 50_000)
        wait_for(
            lambda: (get_job(http, job_id)["progress"] or {}).get("iteration", 0) > 0,
            60,
            celery_workers.logs,
        )
        before = get_job(http, job_id)["progress"]["iteration"]
    stop_process(first.process)

    second = start_api(live_server, celery_settings)
    with httpx.Client(base_url=second.base_url, timeout=10) as http:
        during = get_job(http, job_id)
        # Training went on while no API process existed.
        assert during["status"] == "succeeded" or during["progress"]["iteration"] > before
        [job] = wait_final(http, [job_id], celery_workers).values()
        assert job["status"] == "succeeded" and job["attempts"] == 1
        assert job["result"]["resumed_from_iteration"] is None
        # And the restarted API keeps submitting to the same workers.
        again = train(http, model_id, dataset_id, 2_000)
        [next_job] = wait_final(http, [again], celery_workers).values()
        assert next_job["status"] == "succeeded"
        assert http.get(f"/v1/models/{model_id}").json()["current_version"] == 2


def test_killed_prefork_child_is_redelivered_and_resumed_at_once(
    celery_settings: Settings, celery_workers: WorkerPool
) -> None:
    # A heartbeat timeout far beyond the test's wait: only the redelivery can recover the job.
    settings = celery_settings.model_copy(
        update={"worker_pool": "prefork", "heartbeat_timeout": 300.0}
    )
    [worker] = start_workers(celery_workers, settings, 1)
    job_id = queue_job(settings, n_iter=60_000)
    executor = CeleryExecutor(settings)
    try:
        executor.submit(job_id)
    finally:
        executor.stop()
    checkpoint = settings.data_dir / "jobs" / job_id / "checkpoint.npz"
    wait_for(
        lambda: (
            checkpoint.exists()
            and (job_row(settings, job_id).progress or {}).get("iteration", 0) > 0
        ),
        60,
        celery_workers.logs,
    )
    child = job_owner(settings, job_id)
    assert child is not None and child != worker.process.pid
    os.kill(child, signal.SIGKILL)  # "worker lost": Celery hands the message back
    wait_for(lambda: job_row(settings, job_id).status in FINAL, 60, celery_workers.logs, step=0.2)
    row = job_row(settings, job_id)
    assert row.status == "succeeded", celery_workers.logs()
    assert row.attempts == 2
    assert row.result is not None and row.result["resumed_from_iteration"] > 0
    assert worker.process.poll() is None  # the worker itself lives on with a fresh child


def test_a_job_survives_more_worker_kills_than_its_attempts(
    celery_settings: Settings, celery_workers: WorkerPool
) -> None:
    # Each kill -9 takes the whole worker (every process of it) while the job trains: a restart,
    # not a failure of the job, so it resumes from its checkpoint every time and succeeds.
    settings = celery_settings
    kills = settings.max_job_attempts + 1
    [worker] = start_workers(celery_workers, settings, 1)
    job_id = queue_job(settings, n_iter=80_000)
    executor = CeleryExecutor(settings)
    try:
        executor.submit(job_id)
    finally:
        executor.stop()
    checkpoint = settings.data_dir / "jobs" / job_id / "checkpoint.npz"
    reached = 0
    for _ in range(kills):

        def trained_further(before: int = reached, pid: int = worker.process.pid) -> bool:
            row = job_row(settings, job_id)
            iteration = (row.progress or {}).get("iteration", 0)
            owner = int(row.worker_id.split(":")[1]) if row.worker_id else None
            return (
                row.status == "running"
                and owner == pid
                and checkpoint.exists()
                and iteration > before
            )

        wait_for(trained_further, 60, celery_workers.logs, step=0.1)
        reached = (job_row(settings, job_id).progress or {}).get("iteration", 0)
        worker.kill()
        [worker] = start_workers(celery_workers, settings, 1)
    wait_for(lambda: job_row(settings, job_id).status in FINAL, 90, celery_workers.logs, step=0.2)
    row = job_row(settings, job_id)
    assert row.status == "succeeded", (row.error, celery_workers.logs())
    assert row.attempts == 1
    assert row.result is not None and row.result["resumed_from_iteration"] > 0
    assert row.result["n_iter"] == 80_000


def test_a_job_survives_more_losses_of_its_remote_host_than_its_attempts(
    celery_settings: Settings, celery_workers: WorkerPool, live_server: StartServer
) -> None:
    # Each worker poses as a host of its own (ANNSERVE_HOSTNAME), the API sweeps as this one:
    # to every sweeping process the killed worker is another host gone silent, whose pids say
    # nothing here. Each kill -9 takes the whole worker (parent and prefork child) mid-training;
    # only the lost worker's own heartbeat shows that it went with its job.
    settings = celery_settings.model_copy(update={"worker_pool": "prefork"})
    kills, n_iter = settings.max_job_attempts + 1, 80_000

    def remote_worker(number: int) -> WorkerProcess:
        host = settings.model_copy(update={"hostname": f"remote-{number}"})
        [worker] = start_workers(celery_workers, host, 1)
        return worker

    api = start_api(live_server, settings)
    with httpx.Client(base_url=api.base_url, timeout=10) as http:
        dataset_id = create_dataset(http)
        model_id = create_model(http, dataset_id)
        worker = remote_worker(0)
        job_id = train(http, model_id, dataset_id, n_iter)
        checkpoint = settings.data_dir / "jobs" / job_id / "checkpoint.npz"
        reached = 0
        for number in range(1, kills + 1):

            def trained_further(before: int = reached, host: str = f"remote-{number - 1}") -> bool:
                row = job_row(settings, job_id)
                iteration = (row.progress or {}).get("iteration", 0)
                return (
                    row.status == "running"
                    and (row.worker_id or "").startswith(f"{host}:")
                    and checkpoint.exists()
                    and iteration > before
                )

            wait_for(trained_further, 60, celery_workers.logs, step=0.1)
            reached = (job_row(settings, job_id).progress or {}).get("iteration", 0)
            worker.kill()
            worker = remote_worker(number)
        [job] = wait_final(http, [job_id], celery_workers).values()
    logs = f"{api.log()}\n{celery_workers.logs()}"
    assert job["status"] == "succeeded", (job, logs)
    assert job["attempts"] == 1, logs
    assert job["result"]["resumed_from_iteration"] > 0
    assert job["result"]["n_iter"] == n_iter
    assert logs.count('"reason": "its worker went silent"') == kills, logs
    # The lost workers' rows are forgotten once no running job names them.
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            hosts = set(session.scalars(select(WorkerRow.host)))
    finally:
        db.dispose()
    assert f"remote-{kills}" in hosts and hosts <= {f"remote-{kills - 1}", f"remote-{kills}"}


def test_a_worker_resumes_a_job_whose_host_went_silent(
    celery_settings: Settings, celery_workers: WorkerPool
) -> None:
    # No API process runs: the worker's own sweep must notice the stale heartbeat.
    job_id = queue_job(celery_settings, n_iter=2_000)
    db = Database(celery_settings.database_url)
    try:
        with db.session() as session:
            assert JobQueue(session).claim(job_id, "lost-host:4242:0000", utcnow())
    finally:
        db.dispose()
    start_workers(celery_workers, celery_settings, 1)
    wait_for(
        lambda: job_row(celery_settings, job_id).status in FINAL,
        60,
        celery_workers.logs,
        step=0.2,
    )
    row = job_row(celery_settings, job_id)
    assert row.status == "succeeded", celery_workers.logs()
    assert row.attempts == 2
    assert "re-sent the task of a requeued job" in celery_workers.logs()
