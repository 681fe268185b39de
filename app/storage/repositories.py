"""Small repositories with typed methods: the only place that builds SQL queries.

Each repository wraps one ``Session``; the caller owns the transaction (``Database.session()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from app.storage.tables import (
    JOB_ACTIVE_STATUSES,
    DatasetRow,
    JobRow,
    ModelRow,
    ModelVersionRow,
)

RowT = TypeVar("RowT", DatasetRow, ModelRow, JobRow)


def _page(session: Session, query: Select[RowT], limit: int, offset: int) -> tuple[list[RowT], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


class DatasetRepository:
    """Datasets' metadata rows."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: DatasetRow) -> DatasetRow:
        """Insert a new dataset row (flushed, so constraint errors surface here)."""
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, dataset_id: str) -> DatasetRow | None:
        """The row with this id, or None."""
        return self.session.get(DatasetRow, dataset_id)

    def list(
        self, *, limit: int, offset: int, task: str | None = None
    ) -> tuple[list[DatasetRow], int]:
        """A page of datasets, newest first, and the total count matching the filter."""
        query = select(DatasetRow)
        if task is not None:
            query = query.where(DatasetRow.task == task)
        query = query.order_by(DatasetRow.created_at.desc(), DatasetRow.id)
        return _page(self.session, query, limit, offset)

    def delete(self, dataset_id: str) -> None:
        """Delete the row (no error when it does not exist)."""
        self.session.execute(delete(DatasetRow).where(DatasetRow.id == dataset_id))


class ModelRepository:
    """Models' metadata rows and their parameter versions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: ModelRow) -> ModelRow:
        """Insert a new model row."""
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, model_id: str, *, for_update: bool = False) -> ModelRow | None:
        """The row with this id, or None; ``for_update`` locks it on PostgreSQL."""
        if for_update:
            query = select(ModelRow).where(ModelRow.id == model_id).with_for_update()
            return self.session.scalars(query).one_or_none()
        return self.session.get(ModelRow, model_id)

    def list(
        self,
        *,
        limit: int,
        offset: int,
        task: str | None = None,
        status: str | None = None,
        dataset_id: str | None = None,
        name: str | None = None,
    ) -> tuple[list[ModelRow], int]:
        """A page of models, newest first, and the total count matching the filters."""
        query = select(ModelRow)
        if task is not None:
            query = query.where(ModelRow.task == task)
        if status is not None:
            query = query.where(ModelRow.status == status)
        if dataset_id is not None:
            query = query.where(ModelRow.dataset_id == dataset_id)
        if name is not None:
            query = query.where(ModelRow.name == name)
        query = query.order_by(ModelRow.created_at.desc(), ModelRow.id)
        return _page(self.session, query, limit, offset)

    def delete(self, model_id: str) -> None:
        """Delete the model, its versions and its jobs' rows."""
        self.session.execute(delete(JobRow).where(JobRow.model_id == model_id))
        self.session.execute(delete(ModelVersionRow).where(ModelVersionRow.model_id == model_id))
        self.session.execute(delete(ModelRow).where(ModelRow.id == model_id))

    def add_version(self, row: ModelVersionRow) -> ModelVersionRow:
        """Record a new parameter version (its file must already be written)."""
        self.session.add(row)
        self.session.flush()
        return row

    def get_version(self, model_id: str, version: int) -> ModelVersionRow | None:
        """One version row, or None."""
        return self.session.get(ModelVersionRow, (model_id, version))

    def versions(self, model_id: str) -> Sequence[ModelVersionRow]:
        """All versions of a model, oldest first."""
        query = (
            select(ModelVersionRow)
            .where(ModelVersionRow.model_id == model_id)
            .order_by(ModelVersionRow.version)
        )
        return self.session.scalars(query).all()

    def latest_version_number(self, model_id: str) -> int | None:
        """The highest version number recorded for the model, or None."""
        query = select(func.max(ModelVersionRow.version)).where(
            ModelVersionRow.model_id == model_id
        )
        return self.session.scalar(query)


class JobRepository:
    """Training jobs' rows (the job executors extend this with their own queries)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: JobRow) -> JobRow:
        """Insert a new job row."""
        self.session.add(row)
        self.session.flush()
        return row

    def get(self, job_id: str) -> JobRow | None:
        """The row with this id, or None."""
        return self.session.get(JobRow, job_id)

    def list(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        model_id: str | None = None,
    ) -> tuple[list[JobRow], int]:
        """A page of jobs, newest first, and the total count matching the filters."""
        query = select(JobRow)
        if status is not None:
            query = query.where(JobRow.status == status)
        if model_id is not None:
            query = query.where(JobRow.model_id == model_id)
        query = query.order_by(JobRow.created_at.desc(), JobRow.id)
        return _page(self.session, query, limit, offset)

    def has_active_for_dataset(self, dataset_id: str) -> bool:
        """Whether a queued or running job uses the dataset."""
        query = select(JobRow.id).where(
            JobRow.dataset_id == dataset_id, JobRow.status.in_(JOB_ACTIVE_STATUSES)
        )
        return self.session.scalars(query.limit(1)).first() is not None

    def has_active_for_model(self, model_id: str) -> bool:
        """Whether a queued or running job trains the model."""
        query = select(JobRow.id).where(
            JobRow.model_id == model_id, JobRow.status.in_(JOB_ACTIVE_STATUSES)
        )
        return self.session.scalars(query.limit(1)).first() is not None

    def ids_for_model(self, model_id: str) -> Sequence[str]:
        """Ids of every job of a model (to remove their files with the model)."""
        return self.session.scalars(select(JobRow.id).where(JobRow.model_id == model_id)).all()

    def ids_for_dataset(self, dataset_id: str) -> Sequence[str]:
        """Ids of every job that used a dataset."""
        query = select(JobRow.id).where(JobRow.dataset_id == dataset_id)
        return self.session.scalars(query).all()

    def delete_for_dataset(self, dataset_id: str) -> None:
        """Delete the finished jobs that used a dataset (active ones block its deletion)."""
        self.session.execute(delete(JobRow).where(JobRow.dataset_id == dataset_id))
