"""Test helpers for the Celery executor: settings as environment, worker processes, Redis cleanup.

Every test gets a queue name of its own (``annserve-test-<random>``), so parallel or repeated
runs on the same Redis never see each other's tasks; ``flush_queue`` removes what a test left.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER_COMMAND = (sys.executable, "-m", "app", "worker")
REDIS_SERVER_URL = os.environ.get("ANNSERVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_queue() -> str:
    """A queue name no other test run uses."""
    return f"annserve-test-{secrets.token_hex(6)}"


def settings_env(settings: Settings) -> dict[str, str]:
    """``ANNSERVE_*`` variables that make a child process build settings equal to ``settings``."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue  # unset: the child's default is None too
        if isinstance(value, list):
            text = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        env[f"ANNSERVE_{name.upper()}"] = text
    return env


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any ``ANNSERVE_`` variable, plus ``extra``.

    gRPC is off unless ``extra`` sets ``ANNSERVE_GRPC_PORT``: servers started side by side would
    otherwise all want its default port.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANNSERVE_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["ANNSERVE_GRPC_PORT"] = ""
    env.update(extra)
    return env


@dataclass
class WorkerProcess:
    """A running ``python -m app worker``, its log file and its metrics port (0: none)."""

    process: subprocess.Popen[bytes]
    log_path: Path
    metrics_port: int = 0

    @property
    def metrics_url(self) -> str:
        """Where the worker serves its metrics."""
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def log(self) -> str:
        """Everything the worker wrote so far."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and every process of its group (prefork children too)."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (SIGTERM: finish or hand back the current task), SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # Whatever is left of the group (prefork children) goes too.
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the worker consumes from its queue; raise if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if " ready." in self.log():
                return
            time.sleep(0.05)
        raise RuntimeError(f"worker not ready after {timeout} s:\n{self.log()}")


@dataclass
class WorkerPool:
    """Starts worker processes for one test and stops every one of them at the end."""

    log_dir: Path
    started: list[WorkerProcess] = field(default_factory=list)

    def start(
        self,
        settings: Settings,
        extra_env: dict[str, str] | None = None,
        metrics_port: int | None = None,
    ) -> WorkerProcess:
        """Start a worker whose settings equal ``settings`` (plus ``extra_env``)."""
        env = child_env({**settings_env(settings), **(extra_env or {})})
        return self.start_env(env, metrics_port)

    def start_env(self, env: dict[str, str], metrics_port: int | None = None) -> WorkerProcess:
        """Start a worker with the environment ``env``, serving its metrics on 127.0.0.1 at
        ``metrics_port`` (0: not served), by default a free port: workers side by side would
        otherwise all want the default one."""
        from tests.conftest import free_port

        port = free_port() if metrics_port is None else metrics_port
        env = {
            **env,
            "ANNSERVE_WORKER_METRICS_HOST": "127.0.0.1",
            "ANNSERVE_WORKER_METRICS_PORT": str(port),
        }
        log_path = self.log_dir / f"worker-{len(self.started)}.log"
        with log_path.open("wb") as log:
            # A session of its own, so kill() reaches the prefork children as well.
            process = subprocess.Popen(
                WORKER_COMMAND,
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(process, log_path, port)
        self.started.append(worker)
        return worker

    def logs(self) -> str:
        """Every worker's log, labelled, for assertion messages."""
        return "\n".join(f"--- worker {i} ---\n{w.log()}" for i, w in enumerate(self.started))

    def stop_all(self) -> None:
        """Stop every worker this pool started (kill the ones that do not stop)."""
        for worker in self.started:
            worker.stop(timeout=10)


@contextmanager
def worker_pool(log_dir: Path) -> Iterator[WorkerPool]:
    """A ``WorkerPool`` whose workers are stopped on exit, whatever happened."""
    pool = WorkerPool(log_dir)
    try:
        yield pool
    finally:
        pool.stop_all()


def flush_queue(redis_url: str, queue: str) -> None:
    """Delete the queue's keys and its unacknowledged messages from Redis."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        # Unacked messages of every queue share one hash; drop only the ones routed to ours.
        for tag, payload in client.hscan_iter("unacked"):
            try:
                routing_key = json.loads(payload)[2]
            except (ValueError, IndexError, TypeError):
                continue
            if routing_key == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


def wait_for(
    condition: Callable[[], bool], timeout: float, message: Callable[[], str], step: float = 0.1
) -> None:
    """Poll ``condition`` until it holds; fail with ``message()`` when ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s: {message()}")


# --- jobs without the HTTP layer -------------------------------------------------------------


class RecordingExecutor:
    """Stands in for an executor at submission: remembers the ids and runs nothing."""

    name = "recording"

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, job_id: str) -> None:
        self.submitted.append(job_id)

    def start(self) -> None:
        pass

    def stop(self, timeout: float = 30.0) -> None:
        pass

    def run_worker(self, processes: int | None = None) -> int:
        return 0


def queue_job(settings: Settings, n_iter: int = 200) -> str:
    """A queued training job (circle dataset, one hidden layer) in ``settings``' database."""
    from app.jobs.job_spec import JobSpec
    from app.services.datasets import DatasetService
    from app.services.jobs import JobService
    from app.services.model_spec import HiddenLayerSpec, ModelSpec
    from app.services.models import ModelService
    from app.storage.arrays import ArrayStore
    from app.storage.db import Database

    db, arrays = Database(settings.database_url), ArrayStore(settings.data_dir)
    try:
        dataset = DatasetService(db, arrays, settings).generate(
            kind="circle", n_samples=80, noise=0.1, seed=1
        )
        model = ModelService(db, arrays, settings).create(
            ModelSpec(name="m", dataset_id=dataset.id, hidden_layers=(HiddenLayerSpec(4, "tanh"),))
        )
        service = JobService(db, arrays, settings, RecordingExecutor())
        job = service.submit(model.id, dataset.id, JobSpec.create(n_iter=n_iter, learning_rate=0.5))
    finally:
        db.dispose()
    return job.id


# --- fixtures (loaded as a plugin by tests/conftest.py) --------------------------------------


@pytest.fixture
def celery_queue(redis_url: str) -> Iterator[str]:
    """A queue name of this test's own on the test Redis; its keys are deleted afterwards."""
    queue = unique_queue()
    yield queue
    flush_queue(redis_url, queue)


@pytest.fixture
def celery_settings(
    tmp_path: Path, redis_url: str, postgres_schema_url: str, celery_queue: str
) -> Settings:
    """Settings of a scale-out stack: Celery on Redis, PostgreSQL (a fresh, migrated schema),
    one-process workers and fast heartbeats."""
    from app.settings import Settings
    from app.storage.migrate import run_migrations

    settings = Settings(
        data_dir=tmp_path / "shared-data",
        database_url=postgres_schema_url,
        executor="celery",
        broker_url=redis_url,
        celery_queue=celery_queue,
        worker_pool="solo",
        max_concurrent_jobs=0,
        # Fast failure detection: a killed worker's job is re-queued about two seconds later.
        heartbeat_timeout=2.0,
        progress_interval=0.1,
        checkpoint_interval=0.2,
    )
    run_migrations(settings.database_url)
    return settings


@pytest.fixture
def celery_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    """Starts ``python -m app worker`` processes; every one is stopped at teardown."""
    with worker_pool(tmp_path_factory.mktemp("worker-logs")) as pool:
        yield pool


# --- Celery capacity next to a live API server ------------------------------------------------


def mirror_exit(api: subprocess.Popen[bytes], pool: WorkerPool) -> threading.Thread:
    """When the API process ends, end its workers the same way (a whole machine going down).

    kill -9 of the API kills the workers (their jobs go stale and are recovered); a clean stop
    stops them warmly (their jobs checkpoint and go back to the queue).
    """

    def watch() -> None:
        code = api.wait()
        for worker in pool.started:
            if code == -signal.SIGKILL:
                worker.kill()
            elif worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)

    thread = threading.Thread(target=watch, name="mirror-api-exit", daemon=True)
    thread.start()
    return thread


def start_server_workers(
    api: subprocess.Popen[bytes], env: dict[str, str], pool: WorkerPool
) -> list[WorkerProcess]:
    """Start the Celery workers of a live server whose environment is ``env``.

    One single-process worker per ``ANNSERVE_MAX_CONCURRENT_JOBS`` (the local executor's pool
    size), so both executors offer the same capacity; they live and die with ``api``.
    """
    from app.settings import Settings

    default = Settings.model_fields["max_concurrent_jobs"].default
    count = int(env.get("ANNSERVE_MAX_CONCURRENT_JOBS", default))
    worker_env = {**env, "ANNSERVE_WORKER_POOL": "solo", "ANNSERVE_WORKER_CONCURRENCY": "1"}
    workers = [pool.start_env(worker_env) for _ in range(count)]
    mirror_exit(api, pool)
    return workers
