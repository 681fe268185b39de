"""The Celery executor's pieces: configuration, the task body, submission, the stale-job sweep."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.jobs import celery_app
from app.jobs.celery_app import RUN_JOB_TASK, celery_config, create_celery_app, execute_job
from app.jobs.celery_executor import CeleryExecutor, StaleJobSweeper
from app.jobs.executor import make_executor
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.migrate import run_migrations
from app.storage.repositories import JobRepository
from app.storage.tables import utcnow
from tests.scaleout import queue_job


def job_status(settings: Settings, job_id: str) -> tuple[str, int]:
    """The job's status and attempts, read from the database."""
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            row = JobRepository(session).get(job_id)
            assert row is not None
            return row.status, row.attempts
    finally:
        db.dispose()


@pytest.fixture
def sqlite_settings(tmp_path: Path, celery_queue: str, redis_url: str) -> Settings:
    """Celery settings on a migrated SQLite database in a temp dir."""
    settings = Settings(
        data_dir=tmp_path / "data",
        executor="celery",
        broker_url=redis_url,
        celery_queue=celery_queue,
        max_concurrent_jobs=0,
    )
    run_migrations(settings.database_url)
    return settings


@pytest.fixture
def shutting_down() -> Iterator[threading.Event]:
    """The worker's shutdown flag, cleared again after the test."""
    yield celery_app._shutting_down
    celery_app._shutting_down.clear()


def queued_messages(redis_url: str, queue: str) -> list[dict[str, object]]:
    """The Celery messages waiting in ``queue`` on Redis, decoded."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
    finally:
        client.close()


def test_config_suits_long_tasks_whose_state_lives_in_the_database(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        executor="celery",
        worker_concurrency=3,
        celery_queue="q1",
        broker_visibility_timeout=7200,
    )
    config = celery_config(settings)
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1
    assert config["worker_concurrency"] == 3
    assert config["task_ignore_result"] is True
    assert config["result_backend"] is None
    assert config["task_default_queue"] == "q1"
    assert config["broker_transport_options"] == {"visibility_timeout": 7200}
    app = create_celery_app(settings)
    assert RUN_JOB_TASK in app.tasks
    assert app.conf.task_acks_late is True


def test_each_app_runs_its_task_with_its_own_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Path, str]] = []

    def record(celery: object, settings: Settings, job_id: str, worker: object) -> str:
        seen.append((settings.data_dir, job_id))
        return "skipped"

    monkeypatch.setattr(celery_app, "execute_job", record)
    first = create_celery_app(Settings(data_dir=tmp_path / "one", executor="celery"))
    second = create_celery_app(Settings(data_dir=tmp_path / "two", executor="celery"))
    first.tasks[RUN_JOB_TASK]("job_a")
    second.tasks[RUN_JOB_TASK]("job_b")
    assert seen == [(tmp_path / "one", "job_a"), (tmp_path / "two", "job_b")]


def test_factory_builds_the_celery_executor(tmp_path: Path) -> None:
    executor = make_executor(Settings(data_dir=tmp_path, executor="celery"))
    assert isinstance(executor, CeleryExecutor)
    assert executor.name == "celery"


def test_celery_needs_a_redis_broker(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(data_dir=tmp_path, executor="celery", broker_url="amqp://user:secret@host//")
    [error] = info.value.errors()
    assert error["loc"] == ("broker_url",)
    # The message `annserve` prints names the scheme only, never the password.
    assert "'amqp'" in error["msg"] and "secret" not in error["msg"]
    # The local executor never talks to a broker, so the URL is not its concern.
    assert Settings(data_dir=tmp_path, broker_url="amqp://host//").executor == "local"


def test_submit_sends_one_task_naming_the_job(sqlite_settings: Settings, redis_url: str) -> None:
    executor = CeleryExecutor(sqlite_settings)
    try:
        executor.submit("job_0123456789abcdef")
    finally:
        executor.stop()
    [message] = queued_messages(redis_url, sqlite_settings.celery_queue)
    headers = message["headers"]
    assert isinstance(headers, dict)
    assert headers["task"] == RUN_JOB_TASK
    body = message["body"]
    assert isinstance(body, str)
    args, kwargs, _ = json.loads(base64.b64decode(body))
    assert args == ["job_0123456789abcdef"]
    assert kwargs == {}


def test_task_trains_a_job_once_and_skips_duplicate_deliveries(
    sqlite_settings: Settings,
) -> None:
    job_id = queue_job(sqlite_settings)
    celery = create_celery_app(sqlite_settings)
    assert execute_job(celery, sqlite_settings, job_id) == "succeeded"
    assert job_status(sqlite_settings, job_id) == ("succeeded", 1)
    # A second delivery of the same message (Redis redelivery, a re-send) does nothing.
    assert execute_job(celery, sqlite_settings, job_id) == "skipped"
    assert job_status(sqlite_settings, job_id) == ("succeeded", 1)


def test_task_on_a_shutting_down_worker_checkpoints_and_sends_the_task_again(
    sqlite_settings: Settings, redis_url: str, shutting_down: threading.Event
) -> None:
    job_id = queue_job(sqlite_settings, n_iter=100_000)
    celery = create_celery_app(sqlite_settings)
    shutting_down.set()
    assert execute_job(celery, sqlite_settings, job_id) == "queued"
    assert job_status(sqlite_settings, job_id)[0] == "queued"
    assert ArrayStore(sqlite_settings.data_dir).checkpoint_path(job_id).exists()
    [message] = queued_messages(redis_url, sqlite_settings.celery_queue)
    body = message["body"]
    assert isinstance(body, str)
    assert json.loads(base64.b64decode(body))[0] == [job_id]


def stale_job(settings: Settings) -> str:
    """A job running on a worker of another host whose heartbeat is past the timeout."""
    job_id = queue_job(settings)
    db = Database(settings.database_url)
    long_ago = utcnow() - timedelta(seconds=settings.heartbeat_timeout + 5)
    try:
        with db.session() as session:
            assert JobQueue(session).claim(job_id, "gone-host:1:dead", long_ago)
    finally:
        db.dispose()
    return job_id


def test_sweep_requeues_a_stale_job_and_resends_it_exactly_once(
    sqlite_settings: Settings,
) -> None:
    job_id = stale_job(sqlite_settings)
    sent: list[str] = []
    lock = threading.Lock()

    def resubmit(job: str) -> None:
        with lock:
            sent.append(job)

    # Two processes sweeping at the same moment (two API replicas, a worker) re-send it once.
    sweepers = [StaleJobSweeper(sqlite_settings, resubmit) for _ in range(2)]
    threads = [threading.Thread(target=sweeper.sweep_once) for sweeper in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sent == [job_id]
    assert job_status(sqlite_settings, job_id) == ("queued", 1)
    assert sweepers[0].sweep_once() == []


def task_job_ids(redis_url: str, queue: str) -> list[str]:
    """The job ids named by the task messages waiting in ``queue``."""
    ids = []
    for message in queued_messages(redis_url, queue):
        body = message["body"]
        assert isinstance(body, str)
        args, _, _ = json.loads(base64.b64decode(body))
        ids.append(args[0])
    return ids


def test_a_job_whose_message_the_broker_lost_has_its_task_sent_again(
    sqlite_settings: Settings, redis_url: str
) -> None:
    settings = sqlite_settings.model_copy(update={"queued_resend_after": 2.0})
    executor, db = CeleryExecutor(settings), Database(settings.database_url)
    try:
        # Two queued jobs whose tasks never reached the broker (as if it lost them).
        job_id, started = queue_job(settings), queue_job(settings)
        assert executor.sweeper.sweep_once() == []  # nobody has waited long enough yet
        with db.session() as session:
            assert JobQueue(session).claim(started, "host:1:w", utcnow())  # a worker took it
        time_passes(settings.queued_resend_after)
        # Two sweepers at once (an API replica and a worker): the task is sent once.
        sweepers = [executor.sweeper, StaleJobSweeper(settings, executor.submit)]
        threads = [threading.Thread(target=sweeper.sweep_once) for sweeper in sweepers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert task_job_ids(redis_url, settings.celery_queue) == [job_id]
        assert executor.sweeper.sweep_once() == []  # not again until another interval passes
        time_passes(settings.queued_resend_after)
        assert executor.sweeper.sweep_once() == [job_id]
    finally:
        executor.stop()
        db.dispose()
    # The duplicate deliveries train the job once.
    celery = create_celery_app(settings)
    assert execute_job(celery, settings, job_id) == "succeeded"
    assert execute_job(celery, settings, job_id) == "skipped"


def time_passes(seconds: float) -> None:
    import time

    time.sleep(seconds + 0.1)


def test_sweep_keeps_a_job_whose_task_could_not_be_sent(sqlite_settings: Settings) -> None:
    job_id = stale_job(sqlite_settings)
    attempts: list[str] = []

    def broker_down(job: str) -> None:
        attempts.append(job)
        raise ConnectionError("broker unreachable")

    sweeper = StaleJobSweeper(sqlite_settings, broker_down)
    with pytest.raises(ConnectionError):
        sweeper.sweep_once()
    sent: list[str] = []
    sweeper.resubmit = sent.append
    # The database no longer lists it as stale (it is queued), yet the next sweep sends it.
    assert sweeper.sweep_once() == [job_id]
    assert attempts == [job_id] and sent == [job_id]


def test_task_comes_back_later_when_the_database_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import free_port

    unreachable = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    settings = Settings(data_dir=tmp_path, executor="celery", database_url=unreachable)
    task = create_celery_app(settings).tasks[RUN_JOB_TASK]
    retries: list[dict[str, object]] = []

    class RetriedError(Exception):
        pass

    def retry(**options: object) -> RetriedError:
        retries.append(options)
        return RetriedError()

    monkeypatch.setattr(task, "retry", retry)
    with pytest.raises(RetriedError):
        task("job_0123456789abcdef")
    [options] = retries
    assert options["countdown"] == celery_app.DATABASE_RETRY_S
    assert options["max_retries"] is None
