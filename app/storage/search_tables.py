"""The tables of hyperparameter searches: one row per search, one per trial.

A trial's ``(search_id, number)`` is its primary key, so of two schedulers creating the same trial
only one insert succeeds: a trial is created, and its jobs submitted, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.storage.tables import Base, UTCDateTime, utcnow
from app.storage.tenancy import TenantOwned

SEARCH_ACTIVE_STATUSES: tuple[str, ...] = ("queued", "running")
TRIAL_ACTIVE_STATUSES: tuple[str, ...] = ("creating", "running", "pruning")


class SearchRow(TenantOwned, Base):
    """A search: its validated request, where it stands, and who schedules it (a lease)."""

    __tablename__ = "searches"
    __table_args__ = (Index("ix_searches_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    best_trial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    best_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_model_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduler_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TrialRow(Base):
    """One point of a search's space: its jobs (one per fold), models and score."""

    __tablename__ = "search_trials"

    search_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("searches.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="creating")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    job_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    model_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_std: Mapped[float | None] = mapped_column(Float, nullable=True)
    fold_values: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    train_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pruned_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The first fold's cost curve, thinned (``iterations``, ``costs``, ``val_iterations``,
    # ``val_costs``): kept with the trial because the other trials' models, and so their jobs'
    # history, are deleted when the search ends.
    curve: Mapped[dict[str, list[Any]] | None] = mapped_column(JSON, nullable=True, deferred=True)
    """Not loaded with the row (the scheduler reads every trial on each tick): read it with
    :meth:`SearchRepository.curves`."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
