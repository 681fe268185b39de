"""Training jobs through real server processes: accuracy, SSE, cancel, divergence, parallel and
queued jobs, kill -9 and SIGTERM mid-training. Parametrized by executor (``local``, ``celery``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import JobRepository
from tests.app.jobs_support import (
    assert_same_parameters,
    make_dataset,
    make_model,
    reference_parameters,
    start_job,
    stored_parameters,
    wait_final,
    wait_for,
)
from tests.conftest import REPO_ROOT, SERVE_COMMAND, LiveServer, StartServer, stop_process

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=["local", pytest.param("celery", marks=pytest.mark.services)])
def executor_name(request: pytest.FixtureRequest) -> str:
    """The executor the servers run jobs with: the local pool, or Celery workers on Redis that
    ``live_server`` starts next to each server (skipped with a message when Redis is absent)."""
    name: str = request.param
    return name


def job_server(
    live_server: StartServer, executor: str, data_dir: Path | None = None, **settings: Any
) -> LiveServer:
    env = {"ANNSERVE_EXECUTOR": executor, "ANNSERVE_LOG_LEVEL": "warning"}
    env |= {f"ANNSERVE_{name.upper()}": str(value) for name, value in settings.items()}
    return live_server(data_dir=data_dir, env=env)


def http(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=30.0)


def sse_events(response: httpx.Response) -> Iterator[dict[str, str]]:
    """Parsed events (``event``, ``id``, ``data``) of a text/event-stream response."""
    event: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "event" in event:
                yield event
            event = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


def test_notes_network_on_circle_with_live_progress(
    live_server: StartServer, executor_name: str
) -> None:
    server = job_server(live_server, executor_name)
    with http(server) as client:
        dataset = make_dataset(client)
        model = make_model(client, dataset["id"])
        job = start_job(
            client, model["id"], dataset["id"], n_iter=150_000, record_every=5, validation="test"
        )
        url = f"/v1/jobs/{job['id']}/events"
        with client.stream("GET", url) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            progress_events = (e for e in sse_events(stream) if e["event"] == "progress")
            first = [e for _, e in zip(range(2), progress_events, strict=False)]
        assert [e["event"] for e in first] == ["progress", "progress"]
        curve = client.get(f"/v1/jobs/{job['id']}/cost-curve.png")  # while it runs
        assert curve.status_code == 200 and curve.content.startswith(b"\x89PNG")
        last_id = int(first[-1]["id"])
        # Reconnect where we left off: only later iterations, then the final status.
        started = time.monotonic()
        with client.stream("GET", url, headers={"Last-Event-ID": str(last_id)}) as stream:
            rest = list(sse_events(stream))
        streamed = time.monotonic() - started
        progress = [e for e in rest if e["event"] == "progress"]
        ids = [int(e["id"]) for e in progress]
        assert ids and ids[0] > last_id and ids == sorted(set(ids))
        assert len(progress) <= 4 * streamed + 2  # at most four a second
        assert rest[-1]["event"] == "status" and rest[:-1] == progress
        final = json.loads(rest[-1]["data"])
        assert final["status"] == "succeeded", final
        assert final["result"]["train"]["accuracy"] >= 0.9
        assert final["result"]["validation"]["accuracy"] >= 0.9
        model_now = client.get(f"/v1/models/{model['id']}").json()
        assert model_now["current_version"] == 1 and model_now["status"] == "ready"
        image = client.get(f"/v1/models/{model['id']}/cost-curve.png")
        again = client.get(
            f"/v1/models/{model['id']}/cost-curve.png",
            headers={"If-None-Match": image.headers["etag"]},
        )
        assert image.status_code == 200 and again.status_code == 304


def test_parallel_jobs_cancel_and_divergence(live_server: StartServer, executor_name: str) -> None:
    server = job_server(live_server, executor_name, max_concurrent_jobs=2)
    with http(server) as client:
        dataset = make_dataset(client)
        models = [make_model(client, dataset["id"]) for _ in range(2)]
        jobs = [start_job(client, m["id"], dataset["id"], n_iter=1_000_000) for m in models]
        deadline = time.monotonic() + 30
        while {client.get(f"/v1/jobs/{j['id']}").json()["status"] for j in jobs} != {"running"}:
            assert time.monotonic() < deadline, "the two jobs never ran at the same time"
            time.sleep(0.05)
        # The API answers promptly while both train.
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        assert time.perf_counter() - started < 0.5
        for job in jobs:
            wait_for(client, job["id"], lambda j: (j["progress"] or {}).get("iteration", 0) > 0)
            asked = time.monotonic()
            assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 200
            ended = wait_final(client, job["id"], timeout=10)
            assert ended["status"] == "cancelled"
            assert time.monotonic() - asked < 1.5  # "within about a second"
            again = client.post(f"/v1/jobs/{job['id']}/cancel").json()
            assert again["status"] == "cancelled"
        relu = make_model(client, dataset["id"], hidden_layers=[{"units": 4, "activation": "relu"}])
        bad = start_job(client, relu["id"], dataset["id"], n_iter=5000, learning_rate=1e6)
        failed = wait_final(client, bad["id"])
        assert failed["status"] == "failed" and failed["error"]["code"] == "diverged"
        assert "learning rate" in failed["error"]["message"]
        assert client.get(f"/v1/models/{relu['id']}").json()["current_version"] == 0


def test_jobs_beyond_the_limit_wait_in_order(live_server: StartServer, executor_name: str) -> None:
    server = job_server(live_server, executor_name, max_concurrent_jobs=1)
    with http(server) as client:
        dataset = make_dataset(client)
        models = [make_model(client, dataset["id"]) for _ in range(3)]
        first, second, third = (
            start_job(client, m["id"], dataset["id"], n_iter=1_000_000) for m in models
        )
        wait_for(client, first["id"], lambda j: j["status"] == "running")
        time.sleep(1.0)
        assert client.get(f"/v1/jobs/{second['id']}").json()["status"] == "queued"
        assert client.get(f"/v1/jobs/{third['id']}").json()["status"] == "queued"
        client.post(f"/v1/jobs/{first['id']}/cancel")
        # The slot frees: the oldest waiting job starts, the next one keeps waiting.
        wait_for(client, second["id"], lambda j: j["status"] == "running", timeout=10)
        assert client.get(f"/v1/jobs/{third['id']}").json()["status"] == "queued"
        for job in (second, third):
            client.post(f"/v1/jobs/{job['id']}/cancel")
            assert wait_final(client, job["id"], timeout=10)["status"] == "cancelled"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _interrupt_mid_training(
    live_server: StartServer, executor: str, how: signal.Signals
) -> tuple[Path, str, str, dict[str, Any]]:
    settings: dict[str, Any] = {
        "checkpoint_interval": 0.2,
        "heartbeat_timeout": 3,
        "max_concurrent_jobs": 1,
    }
    server = job_server(live_server, executor, **settings)
    with http(server) as client:
        dataset = make_dataset(client)
        model = make_model(client, dataset["id"])
        # Long enough that the job cannot finish (and drop its checkpoint) while the server
        # shuts down and its workers are told to stop, even on a loaded machine.
        job = start_job(client, model["id"], dataset["id"], n_iter=120_000, validation=0.2)
        checkpoint = ArrayStore(server.data_dir).checkpoint_path(job["id"])
        seen = wait_for(
            client,
            job["id"],
            lambda j: (j["progress"] or {}).get("iteration", 0) > 8000 and checkpoint.exists(),
        )
    children = _children(server.process.pid) + server.worker_pids
    assert children, "the server started no worker processes"
    if how == signal.SIGKILL:
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    else:
        stop_process(server.process)
        assert server.process.returncode == 0
    assert checkpoint.exists()
    # Workers never outlive their server, even one killed with -9.
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in children):
        assert time.monotonic() < deadline, "worker processes outlived the server"
        time.sleep(0.05)
    restarted = job_server(live_server, executor, data_dir=server.data_dir, **settings)
    return server.data_dir, model["id"], job["id"], {"seen": seen, "server": restarted}


@pytest.mark.slow
def test_kill_9_mid_training_resumes_to_the_uninterrupted_parameters(
    live_server: StartServer, executor_name: str
) -> None:
    data_dir, model_id, job_id, info = _interrupt_mid_training(
        live_server, executor_name, signal.SIGKILL
    )
    with http(info["server"]) as client:
        done = wait_final(client, job_id, timeout=90)
    assert done["status"] == "succeeded", done
    # A killed worker (the local pool's or a Celery worker with its process) is a restart of
    # the host, not a failure of the job: it is not counted as an attempt.
    assert done["attempts"] == 1
    resumed = done["result"]["resumed_from_iteration"]
    assert resumed is not None and resumed > 0
    assert_same_parameters(
        stored_parameters(data_dir, model_id, 1),
        reference_parameters(Settings(data_dir=data_dir), job_id),
    )


@pytest.mark.slow
def test_sigterm_checkpoints_and_the_job_resumes_after_restart(
    live_server: StartServer, executor_name: str
) -> None:
    data_dir, model_id, job_id, info = _interrupt_mid_training(
        live_server, executor_name, signal.SIGTERM
    )
    with http(info["server"]) as client:
        done = wait_final(client, job_id, timeout=90)
    assert done["status"] == "succeeded", done
    # A clean shutdown does not count as a failed attempt.
    assert done["attempts"] == 1
    assert done["result"]["resumed_from_iteration"] >= info["seen"]["progress"]["iteration"]
    assert_same_parameters(
        stored_parameters(data_dir, model_id, 1),
        reference_parameters(Settings(data_dir=data_dir), job_id),
    )


def test_a_standalone_local_worker_runs_the_queue(live_server: StartServer) -> None:
    server = job_server(live_server, "local", max_concurrent_jobs=0)  # no embedded pool
    with http(server) as client:
        dataset = make_dataset(client)
        model = make_model(client, dataset["id"])
        job = start_job(client, model["id"], dataset["id"], n_iter=2000)
        time.sleep(0.5)
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANNSERVE_")}
        env |= {"ANNSERVE_DATA_DIR": str(server.data_dir), "ANNSERVE_LOG_LEVEL": "warning"}
        worker = subprocess.Popen(
            [*SERVE_COMMAND[:-1], "worker"], cwd=REPO_ROOT, env=env, stderr=subprocess.DEVNULL
        )
        try:
            done = wait_final(client, job["id"], timeout=60)
            assert done["status"] == "succeeded", done
        finally:
            stop_process(worker)
        assert worker.returncode == 0


@pytest.mark.slow
def test_kill_9_of_a_worker_process_resumes_the_job_at_once(live_server: StartServer) -> None:
    server = job_server(live_server, "local", checkpoint_interval=0.2, max_concurrent_jobs=1)
    with http(server) as client:
        dataset = make_dataset(client)
        model = make_model(client, dataset["id"])
        job = start_job(client, model["id"], dataset["id"], n_iter=40000)
        checkpoint = ArrayStore(server.data_dir).checkpoint_path(job["id"])
        wait_for(
            client,
            job["id"],
            lambda j: (j["progress"] or {}).get("iteration", 0) > 8000 and checkpoint.exists(),
        )
        db = Database(Settings(data_dir=server.data_dir).database_url)
        with db.session() as session:
            row = JobRepository(session).get(job["id"])
        db.dispose()
        assert row is not None and row.worker_id is not None
        os.kill(int(row.worker_id.split(":")[1]), signal.SIGKILL)
        # The pool notices the dead process, requeues its job and starts a new worker, which
        # resumes from the checkpoint (no need to wait for the heartbeat timeout of 30 s).
        done = wait_final(client, job["id"], timeout=25)
        assert server.process.poll() is None
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2 and done["result"]["resumed_from_iteration"] > 0
    assert_same_parameters(
        stored_parameters(server.data_dir, model["id"], 1),
        reference_parameters(Settings(data_dir=server.data_dir), job["id"]),
    )
