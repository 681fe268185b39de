"""Whole-server crashes are not the job's failures: a job with a checkpoint resumes after any
number of them, while a worker that dies under a living pool still counts as an attempt."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import httpx
import pytest

from app.jobs.recovery import over_budget
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.tables import JobRow, utcnow
from tests.app.jobs_support import make_dataset, make_model, start_job, wait_final, wait_for
from tests.app.process_support import children, eventually
from tests.conftest import LiveServer, StartServer

pytestmark = pytest.mark.timeout(240)
KILLS = 4


def _server(live_server: StartServer, data_dir: object = None) -> LiveServer:
    env = {
        "ANNSERVE_LOG_LEVEL": "warning",
        "ANNSERVE_MAX_CONCURRENT_JOBS": "1",
        "ANNSERVE_CHECKPOINT_INTERVAL": "0.2",
        "ANNSERVE_MAX_JOB_ATTEMPTS": "2",
    }
    return live_server(data_dir=data_dir, env=env)


def _kill_group(server: LiveServer) -> None:
    """kill -9 of the server's whole process group (uvicorn and every worker at once)."""
    tree = [server.process.pid, *children(server.process.pid)]
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    eventually(lambda: not any(children(server.process.pid)), 10, "the workers gone")
    for pid in tree:
        eventually(lambda pid=pid: not os.path.exists(f"/proc/{pid}/stat"), 10, "reaped")


@pytest.mark.slow
def test_a_job_survives_repeated_kill_9_of_the_whole_server(live_server: StartServer) -> None:
    server = _server(live_server)
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        dataset = make_dataset(client)
        model = make_model(client, dataset["id"])
        job = start_job(client, model["id"], dataset["id"], n_iter=600_000)
    checkpoint = ArrayStore(server.data_dir).checkpoint_path(job["id"])
    reached = 0
    for _ in range(KILLS):  # more crashes than max_job_attempts allows failures
        with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
            seen = wait_for(
                client,
                job["id"],
                lambda j, past=reached: (
                    j["status"] == "running"
                    and (j["progress"] or {}).get("iteration", 0) > past + 1000
                    and checkpoint.exists()
                ),
                timeout=60,
            )
        reached = seen["progress"]["iteration"]
        _kill_group(server)
        server = _server(live_server, server.data_dir)
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        done = wait_final(client, job["id"], timeout=90)
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 1
    assert done["result"]["resumed_from_iteration"] > 0


def _job(started_ago: float, max_seconds: float | None) -> JobRow:
    params = {} if max_seconds is None else {"max_seconds": max_seconds}
    return JobRow(params=params, started_at=utcnow() - timedelta(seconds=started_ago))


def test_restarts_are_bounded_by_the_jobs_time_budget(tmp_path: object) -> None:
    settings = Settings(data_dir=tmp_path, max_job_seconds=100)  # type: ignore[arg-type]
    assert not over_budget(_job(150, None), settings)
    assert over_budget(_job(250, None), settings)
    assert not over_budget(_job(15, 10), settings)
    assert over_budget(_job(25, 10), settings)
