"""Dataset use cases: create (rows, CSV, generator), read, list, load arrays, delete.

Nothing is half-written: everything is validated before the array file is written, the file is
written before the row that points at it is committed, and a failed commit removes the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.services.csv_table import parse_csv
from app.services.dataset_input import Label, PreparedDataset, features_matrix, prepare_dataset
from app.services.errors import Conflict, InvalidInput, LimitExceeded, dataset_not_found
from app.services.ids import DATASET, new_id, validate_id
from app.services.layout import columns_to_rows
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import DatasetRepository, JobRepository
from app.storage.tables import DatasetRow
from core.datasets import make_dataset
from core.errors import CoreError


@dataclass(frozen=True)
class SplitOptions:
    """How a new dataset is split into training and test samples."""

    test_fraction: float = 0.2
    seed: int = 0


@dataclass(frozen=True)
class DatasetArrays:
    """A stored dataset's arrays, in rows: ``features`` ``(m, n)``, ``targets`` ``(m,)``."""

    features: NDArray[np.float64]
    targets: NDArray[Any]
    train_idx: NDArray[np.int64]
    test_idx: NDArray[np.int64]

    def labels(self, classes: Sequence[int | str] | None) -> list[Any]:
        """Targets as clients see them: class labels, or regression values."""
        if classes is None:
            return [float(v) for v in self.targets]
        return [classes[int(i)] for i in self.targets]


class DatasetService:
    """Create, read and delete datasets."""

    def __init__(self, db: Database, arrays: ArrayStore, settings: Settings) -> None:
        self.db = db
        self.arrays = arrays
        self.settings = settings

    # Creation ------------------------------------------------------------------------------
    def create_from_rows(
        self,
        *,
        name: str,
        features: Sequence[Sequence[float]],
        targets: Sequence[Label],
        feature_names: Sequence[str] | None = None,
        target_name: str = "y",
        task: str | None = None,
        split: SplitOptions = SplitOptions(),
    ) -> DatasetRow:
        """A dataset from JSON rows ``(m, n)`` and ``m`` targets."""
        matrix = features_matrix(features, self.settings)
        prepared = prepare_dataset(
            matrix,
            targets,
            task=task,
            feature_names=feature_names,
            target_name=target_name,
            test_fraction=split.test_fraction,
            seed=split.seed,
            settings=self.settings,
        )
        return self._store(name, prepared, {"kind": "json"}, split)

    def create_from_csv(
        self,
        *,
        data: bytes,
        filename: str,
        name: str | None = None,
        target: str | None = None,
        task: str | None = None,
        split: SplitOptions = SplitOptions(),
    ) -> DatasetRow:
        """A dataset from an uploaded CSV file."""
        table = parse_csv(data, target, self.settings)
        if table.features.shape[0] < 2:
            raise InvalidInput("a dataset needs at least 2 rows", code="too_few_samples")
        prepared = prepare_dataset(
            table.features,
            table.labels,
            task=task,
            feature_names=table.feature_names,
            target_name=table.target_name,
            test_fraction=split.test_fraction,
            seed=split.seed,
            settings=self.settings,
        )
        # The file name comes from the client's multipart header: keep printable characters only.
        shown = "".join(c for c in filename if c.isprintable())[:200]
        source = {"kind": "upload", "filename": shown, "bytes": len(data)}
        return self._store(name or shown or "upload", prepared, source, split)

    def generate(
        self,
        *,
        kind: str,
        n_samples: int,
        noise: float,
        seed: int,
        n_classes: int | None = None,
        name: str | None = None,
        split: SplitOptions = SplitOptions(),
    ) -> DatasetRow:
        """A toy dataset from core's generators (the playground's sets)."""
        if n_samples > self.settings.max_samples:
            raise LimitExceeded(
                f"n_samples={n_samples} exceeds max_samples={self.settings.max_samples}",
                code="too_many_samples",
            )
        try:
            generated = make_dataset(kind, n_samples, noise, seed, n_classes=n_classes)
        except CoreError as error:
            raise InvalidInput(str(error), code="invalid_generator_options") from error
        labels: list[Label] = (
            [float(v) for v in generated.y]
            if generated.classes is None
            else [generated.classes[int(i)] for i in generated.y]
        )
        prepared = prepare_dataset(
            columns_to_rows(generated.X),
            labels,
            task=generated.task,
            feature_names=generated.feature_names,
            target_name="y",
            test_fraction=split.test_fraction,
            seed=split.seed,
            settings=self.settings,
        )
        source = {
            "kind": "generated",
            "generator": kind,
            "n_samples": n_samples,
            "noise": noise,
            "seed": seed,
            "n_classes": n_classes,
        }
        return self._store(name or f"{kind}-{n_samples}", prepared, source, split)

    def _store(
        self, name: str, prepared: PreparedDataset, source: dict[str, Any], split: SplitOptions
    ) -> DatasetRow:
        dataset_id = new_id(DATASET)
        row = DatasetRow(
            id=dataset_id,
            name=name,
            task=prepared.task,
            n_samples=prepared.n_samples,
            n_features=prepared.n_features,
            feature_names=prepared.feature_names,
            target_name=prepared.target_name,
            classes=prepared.classes,
            test_fraction=split.test_fraction,
            split_seed=split.seed,
            source=source,
            stats=prepared.stats,
        )
        try:
            self.arrays.save_dataset(
                dataset_id,
                {
                    "features": prepared.features,
                    "targets": prepared.targets,
                    "train_idx": prepared.train_idx,
                    "test_idx": prepared.test_idx,
                },
            )
            with self.db.session() as session:
                DatasetRepository(session).add(row)
        except BaseException:
            self.arrays.delete_dataset(dataset_id)
            raise
        return row

    # Reading -------------------------------------------------------------------------------
    def get(self, dataset_id: str) -> DatasetRow:
        """The dataset's row; ``NotFound`` (or ``InvalidId``) otherwise."""
        validate_id(dataset_id, DATASET)
        with self.db.session() as session:
            row = DatasetRepository(session).get(dataset_id)
        if row is None:
            raise dataset_not_found(dataset_id)
        return row

    def list(
        self, *, limit: int, offset: int, task: str | None = None
    ) -> tuple[list[DatasetRow], int]:
        """A page of datasets (newest first) and the total."""
        with self.db.session() as session:
            return DatasetRepository(session).list(limit=limit, offset=offset, task=task)

    def load_arrays(self, row: DatasetRow) -> DatasetArrays:
        """The arrays, in rows, of the dataset ``row`` (from :meth:`get`)."""
        arrays, _ = self.arrays.load_dataset(row.id)
        return DatasetArrays(
            arrays["features"], arrays["targets"], arrays["train_idx"], arrays["test_idx"]
        )

    # Deletion ------------------------------------------------------------------------------
    def delete(self, dataset_id: str) -> None:
        """Delete the dataset and its file; ``Conflict`` while a queued or running job uses it."""
        validate_id(dataset_id, DATASET)
        with self.db.session() as session:
            if DatasetRepository(session).get(dataset_id) is None:
                raise dataset_not_found(dataset_id)
            jobs = JobRepository(session)
            if jobs.has_active_for_dataset(dataset_id):
                raise Conflict(
                    f"dataset {dataset_id} is used by a queued or running job",
                    code="dataset_in_use",
                )
            job_ids = jobs.ids_for_dataset(dataset_id)
            jobs.delete_for_dataset(dataset_id)
            DatasetRepository(session).delete(dataset_id)
        # The row is gone first: a crash here leaves an orphan file, never a row without data.
        self.arrays.delete_dataset(dataset_id)
        for job_id in job_ids:
            self.arrays.delete_job(job_id)
