"""The SQL schema as typed SQLAlchemy 2 ORM classes (Alembic migrations create the tables)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.storage.tenancy import TenantOwned

JOB_ACTIVE_STATUSES: tuple[str, ...] = ("queued", "running", "paused")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class DatasetRow(TenantOwned, Base):
    """A dataset's metadata; its arrays live in ``datasets/<id>.npz``."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    task: Mapped[str] = mapped_column(String(16))
    n_samples: Mapped[int] = mapped_column(Integer)
    n_features: Mapped[int] = mapped_column(Integer)
    feature_names: Mapped[list[Any]] = mapped_column(JSON)
    target_name: Mapped[str] = mapped_column(String(200))
    classes: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    test_fraction: Mapped[float] = mapped_column(Float)
    split_seed: Mapped[int] = mapped_column(Integer)
    source: Mapped[dict[str, Any]] = mapped_column(JSON)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModelRow(TenantOwned, Base):
    """A model's architecture and bookkeeping; ``current_version`` points at its parameters."""

    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    task: Mapped[str] = mapped_column(String(16))
    n_inputs: Mapped[int] = mapped_column(Integer)
    n_outputs: Mapped[int] = mapped_column(Integer)
    classes: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    architecture: Mapped[dict[str, Any]] = mapped_column(JSON)
    init: Mapped[str] = mapped_column(String(16))
    distribution: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    dtype: Mapped[str] = mapped_column(String(16))
    n_parameters: Mapped[int] = mapped_column(Integer)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="ready")
    latest_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    dataset_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def input_schema(self) -> tuple[dict[str, Any], ...] | None:
        """A table model's input columns (kept in ``architecture``); None for rows of numbers."""
        schema = self.architecture.get("input_schema")
        return tuple(schema) if schema is not None else None


class ModelVersionRow(Base):
    """One immutable parameter file of a model: ``models/<model_id>/v<version>.npz``."""

    __tablename__ = "model_versions"

    model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class JobRow(TenantOwned, Base):
    """One training run of a model on a dataset; its state always lives here."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_model_id", "model_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(32), ForeignKey("models.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("datasets.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the job was last put in the queue or its task re-sent (None: at ``created_at``).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Pause control (app.storage.job_control): a running job pauses at its next callback when
    # asked, or once it reaches ``pause_at`` (step mode).
    pause_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    produced_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class JobHistoryRow(Base):
    """A chunk of a job's recorded costs, appended while it trains (a few chunks per second).

    ``iterations[k]`` has cost ``costs[k]``; validation costs likewise. Chunks are read in ``id``
    order; a resumed job replaces them with the history of its checkpoint.
    """

    __tablename__ = "job_history"
    __table_args__ = (Index("ix_job_history_job_id_id", "job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("jobs.id", ondelete="CASCADE"))
    last_iteration: Mapped[int] = mapped_column(Integer)
    # Little-endian int64 / float64 arrays: exact, and ~100x cheaper to write than JSON lists
    # (a small network records tens of thousands of costs a second).
    iterations: Mapped[bytes] = mapped_column(LargeBinary)
    costs: Mapped[bytes] = mapped_column(LargeBinary)
    val_iterations: Mapped[bytes] = mapped_column(LargeBinary)
    val_costs: Mapped[bytes] = mapped_column(LargeBinary)


class WorkerRow(Base):
    """A Celery worker process and its own heartbeat (:mod:`app.jobs.worker_liveness`).

    Its jobs' ``worker_id`` names it, so that recovery on any host can tell a job that stopped
    while its worker lived on from a job lost with its whole worker or host.
    """

    __tablename__ = "workers"
    __table_args__ = (Index("ix_workers_host", "host"),)

    # ``host:pid:token``, as in the jobs' ``worker_id``.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(100))
    # The kernel's boot id (Linux), None elsewhere: a different one on the same host is a reboot.
    boot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
