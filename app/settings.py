"""Service settings, read from ``ANNSERVE_*`` environment variables and validated at start."""

from __future__ import annotations

import socket
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.keys import parse_entry

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
ExecutorName = Literal["local", "celery"]
WorkerPool = Literal["prefork", "solo", "threads"]


def _split_csv(value: object) -> object:
    """Comma-separated strings become lists; lists pass through for programmatic construction."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the service.

    Lists (``api_keys``, ``cors_origins``) are comma-separated in the environment, e.g.
    ``ANNSERVE_API_KEYS=key-one,key-two``. ``database_url`` defaults to a SQLite file inside
    ``data_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="ANNSERVE_", extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    database_url: str = ""
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_keys_file: Path | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: LogLevel = "info"
    migrate_on_start: bool = True

    # Limits: every request is checked against these before any work is done.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    # CSV files above this are parsed block by block: the parser's memory stays a few blocks
    # instead of about 1.6 times the table, for about twice its time.
    upload_stream_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # A multipart file part up to this size is received in memory, above it on disk; past
    # that point every chunk is written from a worker thread, which costs more than the parse.
    upload_memory_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    max_samples: int = Field(default=1_000_000, gt=0)
    max_features: int = Field(default=1_000, gt=0)
    max_layers: int = Field(default=10, gt=0)
    max_units: int = Field(default=1_024, gt=0)
    max_parameters: int = Field(default=2_000_000, gt=0)
    # Heavy requests (uploads, data exports, predicts of more than ``heavy_predict_rows`` rows)
    # served at once per API process; more are answered 503 ``busy`` with ``Retry-After``.
    max_heavy_requests: int = Field(default=4, gt=0)
    heavy_predict_rows: int = Field(default=10_000, gt=0)

    # Failed authentication: an address that fails more than ``auth_failure_budget`` times in
    # ``auth_failure_window`` s is answered 429 for that long.
    auth_failure_budget: int = Field(default=20, gt=0)
    auth_failure_window: float = Field(default=60.0, gt=0)

    # The HTTP server of ``annserve serve`` (uvicorn): idle keep-alive connections close after
    # ``http_keep_alive_timeout`` s; a request's headers must arrive within
    # ``http_header_timeout`` s and ``http_max_header_bytes``, its body within
    # ``http_body_timeout`` s; at most ``http_limit_concurrency`` connections and tasks (503
    # beyond), ``http_backlog`` connections waiting to be accepted.
    http_keep_alive_timeout: int = Field(default=5, gt=0)
    http_header_timeout: float = Field(default=10.0, gt=0)
    http_body_timeout: float = Field(default=60.0, gt=0)
    http_max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    http_limit_concurrency: int = Field(default=1000, gt=0)
    http_backlog: int = Field(default=2048, gt=0)

    # Serving: rows per predict request, loaded (model, version) pairs kept in memory, how long
    # a cached current-version lookup is trusted without a change on disk, and the batch size
    # above which the forward pass leaves the event loop for the thread pool.
    max_predict_rows: int = Field(default=100_000, gt=0)
    model_cache_size: int = Field(default=64, gt=0)
    model_cache_ttl_seconds: float = Field(default=2.0, ge=0)
    predict_inline_rows: int = Field(default=512, ge=0)
    # The Open Inference Protocol over gRPC, next to HTTP (0 or empty: not served).
    grpc_port: int = Field(default=8081, ge=0, le=65535)

    # Training jobs: the embedded pool runs ``max_concurrent_jobs`` worker processes (0: none,
    # for deployments whose workers run as ``annserve worker``); more jobs wait queued, FIFO.
    max_concurrent_jobs: int = Field(default=2, ge=0, le=64)
    max_train_iterations: int = Field(default=1_000_000, gt=0)
    max_job_seconds: float = Field(default=3600.0, gt=0)
    job_poll_interval: float = Field(default=0.1, gt=0, le=10)
    progress_interval: float = Field(default=0.25, gt=0, le=60)
    checkpoint_interval: float = Field(default=5.0, gt=0)
    # A running job whose heartbeat is older than this is presumed dead and resumed elsewhere.
    heartbeat_timeout: float = Field(default=30.0, gt=0)
    max_job_attempts: int = Field(default=3, gt=0)
    # Stored cost history per job and series: the first and last points and evenly spread
    # ones between, so a long job costs kilobytes of database.
    history_max_points: int = Field(default=2_000, ge=3, le=1_000_000)
    # Cleanup of files nothing points at (temp files, files without rows, ended jobs' folders):
    # at start-up and every ``cleanup_interval`` s (0: at start-up only) in ``annserve serve``;
    # files younger than ``cleanup_grace`` s are left alone (their write may be in flight).
    cleanup_interval: float = Field(default=3600.0, ge=0)
    cleanup_grace: float = Field(default=3600.0, ge=0)
    # After a storage fault (full or read-only disk) workers wait this long between tries.
    storage_retry_interval: float = Field(default=5.0, gt=0, le=300)
    # Training workers run at this lower CPU priority, so API requests are served first.
    worker_nice: int = Field(default=19, ge=0, le=19)

    # Scale-out: ``celery`` runs training jobs as Celery tasks on ``broker_url`` (Redis).
    executor: ExecutorName = "local"
    broker_url: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = Field(default="annserve", min_length=1, max_length=200)
    # A job still queued this long after its task was sent gets the task sent again, in case the
    # broker lost it (a duplicate is harmless: a job is claimed once).
    queued_resend_after: float = Field(default=600.0, gt=0)
    worker_concurrency: int = Field(default=1, gt=0)
    # This host's name in the ids of workers and jobs, by which recovery tells this host's
    # processes (checked by pid) from other hosts' (checked by their worker's heartbeat).
    hostname: str = Field(
        default_factory=socket.gethostname, min_length=1, max_length=100, pattern=r"^[^:\s]+$"
    )
    worker_pool: WorkerPool = "prefork"
    # Seconds before Redis hands an unacknowledged task to another worker; longer than any job,
    # because a lost worker is noticed sooner through its job's stale heartbeat.
    broker_visibility_timeout: int = Field(default=6 * 3600, gt=0)
    # ``annserve worker`` serves its processes' metrics (Prometheus text) on this address and
    # port (0 or empty: not served); 0.0.0.0 lets a Prometheus on another host scrape it.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9808, ge=0, le=65535)

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _lists_from_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("api_keys")
    @classmethod
    def _keys_parse(cls, keys: list[str]) -> list[str]:
        # A short or malformed key is refused rather than run an open-looking secured service.
        for key in keys:
            parse_entry(key)
        return keys

    @model_validator(mode="after")
    def _keys_from_file(self) -> Settings:
        if self.api_keys_file is None:
            return self
        try:
            lines = self.api_keys_file.read_text().splitlines()
        except OSError as error:
            raise ValueError(f"api_keys_file cannot be read: {error.strerror}") from error
        entries = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        for number, entry in enumerate(entries, start=1):
            try:
                parse_entry(entry)
            except ValueError as error:
                raise ValueError(f"api_keys_file entry {number}: {error}") from error
        object.__setattr__(self, "api_keys", [*self.api_keys, *entries])
        return self

    @field_validator("grpc_port", "worker_metrics_port", mode="before")
    @classmethod
    def _empty_port_is_off(cls, value: object) -> object:
        return 0 if isinstance(value, str) and not value.strip() else value

    @field_validator("broker_url")
    @classmethod
    def _redis_broker(cls, url: str, info: ValidationInfo) -> str:
        if info.data.get("executor") == "celery" and not url.startswith(("redis://", "rediss://")):
            # Only the scheme is echoed: the rest of a broker URL may hold a password.
            scheme = url.split(":", 1)[0]
            raise ValueError(
                f"must be a redis:// or rediss:// URL with the celery executor, got {scheme!r}"
            )
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _heartbeats_in_time(self) -> Settings:
        # Heartbeats ride on progress writes: a shorter timeout would reclaim live jobs.
        if self.heartbeat_timeout <= 2 * self.progress_interval:
            raise ValueError(
                f"heartbeat_timeout ({self.heartbeat_timeout}) must exceed twice "
                f"progress_interval ({self.progress_interval})"
            )
        return self

    @model_validator(mode="after")
    def _defaults_from_data_dir(self) -> Settings:
        data_dir = self.data_dir.expanduser().resolve()
        object.__setattr__(self, "data_dir", data_dir)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{data_dir / 'annserve.db'}")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "database_url must be a sqlite:/// or postgresql+psycopg:// URL, "
                f"got scheme {self.database_url.split(':', 1)[0]!r}"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
