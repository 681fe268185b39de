"""Shared fixtures: settings on a temp data dir, in-process client, real servers, PostgreSQL."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from app.settings import Settings
    from app.storage.db import Database

# Fixtures of the scale-out tests (Celery settings, worker processes, private queues).
pytest_plugins = ["tests.scaleout"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVE_COMMAND = (sys.executable, "-m", "app", "serve")
POSTGRES_SERVER_URL = os.environ.get(
    "ANNSERVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def services_required() -> bool:
    """CI sets ANNSERVE_REQUIRE_SERVICES=1: missing services then fail tests instead of skipping."""
    return os.environ.get("ANNSERVE_REQUIRE_SERVICES") == "1"


def skip_or_fail(message: str) -> None:
    """Skip with ``message``, or fail with it when services are required."""
    if services_required():
        pytest.fail(f"{message} (ANNSERVE_REQUIRE_SERVICES=1, so this is an error)")
    pytest.skip(message)


# --- settings and in-process client --------------------------------------------------------


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the head once per run, copied into each test's data dir."""
    from app.settings import Settings
    from app.storage.migrate import run_migrations

    template = Settings(data_dir=tmp_path_factory.mktemp("migrated"))
    run_migrations(template.database_url)
    return template.data_dir / "annserve.db"


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    """Settings on a fresh temporary data dir whose SQLite database is already at the head of
    the migrations (a copy of one migrated once per run), no API keys."""
    from app.settings import Settings

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(migrated_sqlite, data_dir / "annserve.db")
    return Settings(data_dir=data_dir)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process client on ``create_app(settings)``; lifespan (migrations) runs on entry."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


# --- real server processes ------------------------------------------------------------------


def free_port() -> int:
    """A TCP port that is free right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A running ``python -m app serve`` process and where to reach it."""

    base_url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    worker_logs: list[Path] = field(default_factory=list)
    worker_pids: list[int] = field(default_factory=list)
    """Pids of the Celery workers started with it (the local executor's are its children)."""

    def log(self) -> str:
        """What the server (and its Celery workers, if any) wrote so far."""
        logs = [self.log_path.read_text(errors="replace")]
        logs += [f"--- {p.name} ---\n{p.read_text(errors='replace')}" for p in self.worker_logs]
        return "\n".join(logs)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM (graceful shutdown), then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll ``/healthz`` until it answers 200; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {base_url} not healthy after {timeout} s")


StartServer = Callable[..., LiveServer]


@pytest.fixture
def live_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[StartServer]:
    """A factory: ``live_server(data_dir=None, env=None, args=())`` starts a real server.

    The server runs ``python -m app serve --host 127.0.0.1 --port <free port>`` with
    ``ANNSERVE_DATA_DIR`` set; the factory waits for ``/healthz`` and returns a ``LiveServer``.
    Every server started is terminated at teardown, whatever the test did. With
    ``ANNSERVE_EXECUTOR=celery`` in ``env`` the server gets Celery workers on the test Redis and a
    private queue, as many as its ``max_concurrent_jobs``, which live and die with it.
    """
    from tests.scaleout import WorkerPool, child_env, start_server_workers

    started: list[LiveServer] = []
    worker_pool = WorkerPool(tmp_path_factory.mktemp("worker-logs"))

    def start(
        data_dir: Path | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> LiveServer:
        directory = data_dir or tmp_path_factory.mktemp("server-data")
        port = free_port()
        full_env = child_env({"ANNSERVE_DATA_DIR": str(directory), **(env or {})})
        celery = full_env.get("ANNSERVE_EXECUTOR") == "celery"
        if celery:
            full_env.setdefault("ANNSERVE_BROKER_URL", request.getfixturevalue("redis_url"))
            full_env.setdefault("ANNSERVE_CELERY_QUEUE", request.getfixturevalue("celery_queue"))
        log_path = tmp_path_factory.mktemp("server-log") / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*SERVE_COMMAND, "--host", "127.0.0.1", "--port", str(port), *args],
                cwd=REPO_ROOT,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # A group of its own (its workers join it), so a test can kill the whole tree.
                start_new_session=True,
            )
        server = LiveServer(f"http://127.0.0.1:{port}", process, directory, log_path)
        started.append(server)
        try:
            wait_healthy(server.base_url, process)
        except RuntimeError as error:
            stop_process(process)
            raise RuntimeError(f"{error}\n--- server log ---\n{server.log()}") from error
        if celery:
            # Started once the server has migrated the database, so they never race it.
            workers = start_server_workers(process, full_env, worker_pool)
            server.worker_logs = [worker.log_path for worker in workers]
            server.worker_pids = [worker.process.pid for worker in workers]
        return server

    yield start
    for server in started:
        stop_process(server.process)
    worker_pool.stop_all()


# --- PostgreSQL -----------------------------------------------------------------------------


def _schema_url(base_url: str, schema: str) -> str:
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def postgres_schema(base_url: str = POSTGRES_SERVER_URL) -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema, dropped on exit."""
    from sqlalchemy import create_engine, text

    engine = create_engine(base_url)
    schema = f"annserve_test_{secrets.token_hex(6)}"
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as error:
        engine.dispose()
        skip_or_fail(f"PostgreSQL not reachable at {base_url}: {type(error).__name__}")
    try:
        yield _schema_url(base_url, schema)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema for this test session (skips if the server is absent,
    fails instead when ANNSERVE_REQUIRE_SERVICES=1). Tables are not created: run migrations."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_or_fail("psycopg is not installed (pip install 'annserve[postgres]')")
    with postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """Like ``postgres_url`` but a schema of its own for just this test."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database: SQLite in a temp dir, and PostgreSQL on a schema of its own."""
    from app.storage.db import Database
    from app.storage.migrate import run_migrations

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'annserve.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    run_migrations(url)
    db = Database(url)
    yield db
    db.dispose()


# --- Redis -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis broker URL for Celery tests (skips if Redis is absent, fails instead when
    ANNSERVE_REQUIRE_SERVICES=1). Tests isolate themselves with a queue name of their own."""
    from tests.scaleout import REDIS_SERVER_URL

    try:
        import redis
    except ImportError:
        skip_or_fail("redis is not installed (pip install 'annserve[celery]')")
    client = redis.Redis.from_url(REDIS_SERVER_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis not reachable at {REDIS_SERVER_URL}: {type(error).__name__}")
    finally:
        client.close()
    return REDIS_SERVER_URL


_SERVICE_FIXTURES = {"postgres_url", "postgres_schema_url", "redis_url"}


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    """Tests that use PostgreSQL or Redis carry the ``services`` marker automatically."""
    for item in items:
        if _SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)
