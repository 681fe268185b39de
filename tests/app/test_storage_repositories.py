"""Repositories on SQLite and PostgreSQL: insert, get, page, filter, delete, active-job checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.ids import new_id
from app.storage.db import Database
from app.storage.repositories import DatasetRepository, JobRepository, ModelRepository
from app.storage.tables import DatasetRow, JobRow, ModelRow, ModelVersionRow


def _dataset(created_at: datetime | None = None, task: str = "binary") -> DatasetRow:
    return DatasetRow(
        id=new_id("ds"),
        name="points",
        task=task,
        n_samples=4,
        n_features=2,
        feature_names=["x1", "x2"],
        target_name="y",
        classes=["no", "yes"],
        test_fraction=0.25,
        split_seed=0,
        source={"kind": "json"},
        stats={"features": []},
        created_at=created_at or datetime.now(UTC),
    )


def _model(dataset_id: str | None = None) -> ModelRow:
    return ModelRow(
        id=new_id("mdl"),
        name="net",
        task="binary",
        n_inputs=2,
        n_outputs=1,
        classes=[0, 1],
        architecture={"n_x": 2, "n_h": [4], "n_y": 1},
        init="glorot",
        distribution="normal",
        seed=2,
        dtype="float64",
        n_parameters=17,
        dataset_id=dataset_id,
    )


def test_dataset_crud_and_paging(database: Database) -> None:
    base = datetime(2030, 1, 1, tzinfo=UTC)
    rows = [_dataset(base + timedelta(seconds=i)) for i in range(5)]
    with database.session() as session:
        for row in rows:
            DatasetRepository(session).add(row)
    with database.session() as session:
        repo = DatasetRepository(session)
        page, total = repo.list(limit=2, offset=1)
        assert total == 5
        got = repo.get(rows[0].id)
        assert got is not None
        assert got.classes == ["no", "yes"]
        assert got.created_at == base
        assert got.created_at.tzinfo is not None
        assert [row.id for row in page] == [rows[3].id, rows[2].id]  # newest first
        repo.delete(rows[0].id)
    with database.session() as session:
        assert DatasetRepository(session).get(rows[0].id) is None


def test_model_versions_and_filters(database: Database) -> None:
    with database.session() as session:
        dataset = DatasetRepository(session).add(_dataset())
        model = ModelRepository(session).add(_model(dataset.id))
        ModelRepository(session).add_version(ModelVersionRow(model_id=model.id, version=0))
        ModelRepository(session).add_version(
            ModelVersionRow(model_id=model.id, version=1, metrics={"accuracy": 0.9})
        )
    with database.session() as session:
        repo = ModelRepository(session)
        assert [v.version for v in repo.versions(model.id)] == [0, 1]
        assert repo.latest_version_number(model.id) == 1
        assert repo.get_version(model.id, 1) is not None
        rows, total = repo.list(limit=10, offset=0, dataset_id=dataset.id)
        assert total == 1
        assert rows[0].id == model.id
        assert repo.list(limit=10, offset=0, dataset_id=dataset.id, status="training")[1] == 0
        fetched = repo.get(model.id, for_update=True)
        assert fetched is not None
        assert fetched.updated_at.tzinfo is not None
        repo.delete(model.id)
    with database.session() as session:
        assert ModelRepository(session).get(model.id) is None
        assert ModelRepository(session).versions(model.id) == []


def test_active_jobs_are_found(database: Database) -> None:
    with database.session() as session:
        dataset = DatasetRepository(session).add(_dataset())
        model = ModelRepository(session).add(_model())
        job = JobRepository(session).add(
            JobRow(id=new_id("job"), model_id=model.id, dataset_id=dataset.id, params={})
        )
    with database.session() as session:
        jobs = JobRepository(session)
        assert jobs.has_active_for_dataset(dataset.id)
        assert jobs.has_active_for_model(model.id)
        fetched = jobs.get(job.id)
        assert fetched is not None
        assert fetched.status == "queued"
        assert fetched.cancel_requested is False
        assert fetched.attempts == 0
        fetched.status = "succeeded"
    with database.session() as session:
        jobs = JobRepository(session)
        assert not jobs.has_active_for_dataset(dataset.id)
        assert not jobs.has_active_for_model(model.id)
        assert jobs.list(limit=5, offset=0, model_id=model.id)[1] == 1


def test_failed_unit_of_work_rolls_back(database: Database) -> None:
    row = _dataset()
    with pytest.raises(RuntimeError), database.session() as session:
        DatasetRepository(session).add(row)
        raise RuntimeError("boom")
    with database.session() as session:
        assert DatasetRepository(session).get(row.id) is None
