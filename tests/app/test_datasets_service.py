"""Dataset use cases without HTTP: file names from clients, failed commits leave no file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services.datasets import DatasetService
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.migrate import run_migrations
from app.storage.repositories import DatasetRepository


@pytest.fixture
def service(settings: Settings) -> Iterator[DatasetService]:
    run_migrations(settings.database_url)
    db = Database(settings.database_url)
    yield DatasetService(db, ArrayStore(settings.data_dir), settings)
    db.dispose()


def test_uploaded_file_names_keep_printable_characters(
    service: DatasetService, tmp_path: Path
) -> None:
    path = tmp_path / "upload"
    path.write_bytes(b"a,y\n1,0\n2,1\n")
    row = service.create_from_upload(source=path, filename="a\x00b\n.csv", size=12)
    assert row.name == "ab.csv"
    assert row.source["filename"] == "ab.csv"


def test_failed_commit_removes_the_written_file(
    service: DatasetService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: DatasetRepository, row: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(DatasetRepository, "add", fail)
    with pytest.raises(RuntimeError):
        service.generate(kind="xor", n_samples=20, noise=0.0, seed=0)
    assert list(service.arrays.root.rglob("*.npz")) == []
