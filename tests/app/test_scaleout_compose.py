"""docker-compose.yml, checked and run without Docker: each annserve service is started with the
command and environment the file gives it (hosts ``postgres`` and ``redis`` mapped to the local
services, the shared volume to a temp dir), then the README walkthrough runs against the stack
and a training job completes on the Celery workers."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.storage.db import Database
from app.storage.repositories import JobRepository
from tests.app.metrics_support import assert_runtime_per_process, scrape_until, value
from tests.app.process_support import children
from tests.conftest import free_port, stop_process
from tests.scaleout import WorkerPool, child_env, wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
ANNSERVE_SERVICES = ("api", "worker")
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of an env file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` and ``$$``."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = variables.get(name, "")
        if value:
            return value
        if op == ":?":
            raise ValueError(f"{name} is required: {arg}")
        return arg if op == ":-" else ""

    return _VARIABLE.sub(substitute, text)


def parent_pid(pid: int) -> int:
    """The parent of a live process, from ``/proc``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def service_env(compose: dict[str, Any], name: str) -> dict[str, str]:
    """A service's environment with the variables of ``.env.example`` filled in."""
    variables = read_env_file(ENV_EXAMPLE)
    environment = compose["services"][name]["environment"]
    return {key: interpolate(str(value), variables) for key, value in environment.items()}


def data_mount(compose: dict[str, Any], name: str) -> str:
    """Where the service mounts the shared ``annserve-data`` volume."""
    for volume in compose["services"][name]["volumes"]:
        source, _, target = volume.partition(":")
        if source == "annserve-data":
            return target
    raise AssertionError(f"{name} does not mount annserve-data")


def test_compose_describes_the_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"api", "worker", "redis", "postgres"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert set(compose["volumes"]) >= {"postgres-data", "annserve-data"}
    conditions = {
        name: {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for name, service in services.items()
    }
    assert conditions["api"] == {"postgres": "service_healthy", "redis": "service_healthy"}
    assert conditions["worker"]["api"] == "service_healthy"  # the API has migrated by then
    # Scalable with --scale worker=N: no fixed container name, no published port.
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    assert services["api"]["build"] == "."
    # One image for both: it must carry the worker's Celery and the PostgreSQL driver.
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r'pip install "\.\[(?=[^\]]*postgres)(?=[^\]]*celery)', dockerfile)
    assert services["worker"]["image"] == services["api"]["image"]
    for name in ANNSERVE_SERVICES:
        env = service_env(compose, name)
        assert env["ANNSERVE_EXECUTOR"] == "celery"
        assert env["ANNSERVE_DATA_DIR"] == data_mount(compose, name)
        assert env["ANNSERVE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in env["ANNSERVE_DATABASE_URL"]
        assert env["ANNSERVE_BROKER_URL"].startswith("redis://redis:6379/")
    assert service_env(compose, "api") == service_env(compose, "worker")
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    # Each worker's metrics are reachable on the compose network, on the port it listens on.
    worker_env = service_env(compose, "worker")
    assert worker_env["ANNSERVE_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert services["worker"]["expose"] == [worker_env["ANNSERVE_WORKER_METRICS_PORT"]]
    assert int(worker_env["ANNSERVE_WORKER_METRICS_PORT"]) > 0


def test_env_example_fills_every_required_variable(compose: dict[str, Any]) -> None:
    variables = read_env_file(ENV_EXAMPLE)
    text = COMPOSE_FILE.read_text()
    required = {m.group("name") for m in _VARIABLE.finditer(text) if m.group("op") == ":?"}
    assert required and required <= {name for name, value in variables.items() if value}
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        interpolate(text, {})


class LocalStack:
    """The compose file's annserve services as local processes."""

    def __init__(
        self,
        compose: dict[str, Any],
        database_url: str,
        redis_url: str,
        queue: str,
        data_dir: Path,
        workers: WorkerPool,
    ) -> None:
        self.compose, self.workers = compose, workers
        self.database_url, self.redis_url, self.queue = database_url, redis_url, queue
        self.data_dir = data_dir
        self.port = free_port()
        self.api: subprocess.Popen[bytes] | None = None
        self.api_log = data_dir.parent / "api.log"

    def env(self, name: str) -> dict[str, str]:
        """The service's environment with hosts and the volume mapped to this machine."""
        env = service_env(self.compose, name)
        assert "@postgres:" in env["ANNSERVE_DATABASE_URL"]
        env["ANNSERVE_DATABASE_URL"] = self.database_url  # a private schema on 127.0.0.1
        broker = env["ANNSERVE_BROKER_URL"].replace("//redis:", "//127.0.0.1:")
        assert broker.startswith(self.redis_url.rsplit("/", 1)[0])
        env["ANNSERVE_BROKER_URL"] = broker
        env["ANNSERVE_CELERY_QUEUE"] = self.queue
        assert env["ANNSERVE_DATA_DIR"] == data_mount(self.compose, name)
        env["ANNSERVE_DATA_DIR"] = str(self.data_dir)
        return child_env(env)

    def command(self, name: str) -> list[str]:
        """The service's command, ``annserve`` run from this checkout, API on a free port."""
        command = [str(part) for part in self.compose["services"][name]["command"]]
        assert command[0] == "annserve"
        command = [sys.executable, "-m", "app", *command[1:]]
        if name == "api":
            command[command.index("--host") + 1] = "127.0.0.1"
            command[command.index("--port") + 1] = str(self.port)
        return command

    def healthcheck(self, name: str) -> bool:
        """Run the service's compose healthcheck here (``python`` is this interpreter)."""
        test = [str(part) for part in self.compose["services"][name]["healthcheck"]["test"]]
        assert test[0] == "CMD" and test[1] == "python"
        script = test[3].replace(":8000/", f":{self.port}/")
        result = subprocess.run(
            [sys.executable, test[2], script],
            env=self.env(name),
            capture_output=True,
            timeout=30,
        )
        return result.returncode == 0

    def start_api(self) -> None:
        with self.api_log.open("wb") as log:
            self.api = subprocess.Popen(
                self.command("api"),
                cwd=REPO_ROOT,
                env=self.env("api"),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        api = self.api
        deadline = time.monotonic() + 60
        while not self.healthcheck("api"):
            assert api.poll() is None, self.api_log.read_text()
            assert time.monotonic() < deadline, self.api_log.read_text()
            time.sleep(0.3)

    def start_worker(self) -> None:
        worker = self.workers.start_env(self.env("worker"))
        assert self.command("worker")[3:] == ["worker"]
        worker.wait_ready()
        assert self.healthcheck("worker")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.api is not None:
            stop_process(self.api)


@pytest.fixture
def stack(
    compose: dict[str, Any],
    postgres_schema_url: str,
    redis_url: str,
    celery_queue: str,
    celery_workers: WorkerPool,
    tmp_path: Path,
) -> Iterator[LocalStack]:
    local = LocalStack(
        compose, postgres_schema_url, redis_url, celery_queue, tmp_path / "volume", celery_workers
    )
    try:
        yield local
    finally:
        local.stop()


@pytest.mark.slow
def test_compose_services_run_the_readme_walkthrough_and_train(stack: LocalStack) -> None:
    stack.start_api()  # depends_on: worker starts once the API is healthy
    for _ in range(2):  # docker compose up --scale worker=2
        stack.start_worker()
    walkthrough = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "walkthrough.sh"), stack.base_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert walkthrough.returncode == 0, walkthrough.stdout + walkthrough.stderr
    assert "walkthrough finished" in walkthrough.stdout

    with httpx.Client(base_url=stack.base_url, timeout=10) as http:
        dataset = http.post(
            "/v1/datasets/generate", json={"kind": "xor", "n_samples": 200, "seed": 1}
        ).json()
        model = http.post(
            "/v1/models",
            json={
                "name": "xor-net",
                "dataset_id": dataset["id"],
                "hidden_layers": [{"units": 8, "activation": "tanh"}],
            },
        ).json()
        job = http.post(
            f"/v1/models/{model['id']}/train",
            json={"dataset_id": dataset["id"], "n_iter": 3000, "learning_rate": 0.5},
        ).json()
        final: dict[str, Any] = {}

        def ended() -> bool:
            final.update(http.get(f"/v1/jobs/{job['id']}").json())
            return final["status"] in {"succeeded", "failed", "cancelled"}

        wait_for(ended, 60, stack.workers.logs)
    assert final["status"] == "succeeded", (final, stack.workers.logs())
    # It ran on one of the stack's workers, and its parameters are on the shared volume.
    db = Database(stack.database_url)
    with db.session() as session:
        row = JobRepository(session).get(job["id"])
        assert row is not None
        pid = int((row.worker_id or "::").split(":")[1])
    db.dispose()
    # The compose workers use the prefork pool: the job ran in a child of one of them.
    assert parent_pid(pid) in {worker.process.pid for worker in stack.workers.started}
    assert (stack.data_dir / "models" / model["id"] / "v1.npz").exists()
    # Each worker's endpoint shows its processes and counts the jobs it ran: together, the
    # walkthrough's job (deleted since, with its model) and this one.
    jobs_ended: dict[int, float] = {}
    for worker in stack.workers.started:
        text = scrape_until(worker.metrics_url, 2)
        assert_runtime_per_process(text, {worker.process.pid, *children(worker.process.pid)})
        count = value(text, "annserve_jobs_ended_total", outcome="succeeded")
        jobs_ended[worker.process.pid] = count or 0.0
    assert sum(jobs_ended.values()) == 2.0 and jobs_ended[parent_pid(pid)] >= 1.0, jobs_ended
