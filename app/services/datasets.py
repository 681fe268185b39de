"""Dataset use cases: create (rows, CSV, generator), read, list, load arrays, delete.

Nothing is half-written: everything is validated before the array file is written, the file is
written before the row that points at it is committed, and a failed commit removes the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import Conflict, InvalidInput, LimitExceeded, dataset_not_found
from app.ids import DATASET, new_id, validate_id
from app.services.dataset_export import DatasetExport, Subset
from app.services.dataset_input import Label, PreparedDataset, features_matrix, prepare_dataset
from app.services.table_dataset import (
    is_number,
    prepare_table,
    raw_from_rows,
    table_arrays,
)
from app.services.table_upload import Source, UploadOptions, parse_upload
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import DatasetRepository, JobRepository
from app.storage.table_columns import columns_from_arrays
from app.storage.tables import DatasetRow
from core.datasets import make_dataset
from core.errors import CoreError
from core.inference import columns_to_rows
from core.table_values import DEFAULT_NA_VALUES, Column


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
    columns: dict[str, Column] | None = field(default=None)
    """A table's typed feature columns (see :mod:`app.services.table_dataset`)."""

    def feature_columns(self, names: Sequence[str]) -> dict[str, Column]:
        """The feature columns by name: a table's typed columns, or the numeric ``features``'
        columns named ``names`` (the dataset's feature names, in order)."""
        if self.columns is not None:
            return self.columns
        return {name: self.features[:, j] for j, name in enumerate(names)}


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
        features: Sequence[Sequence[Any]],
        targets: Sequence[Label | None],
        feature_names: Sequence[str] | None = None,
        target_name: str = "y",
        task: str | None = None,
        split: SplitOptions = SplitOptions(),
        column_types: Mapping[str, str] | None = None,
        drop: Sequence[str] = (),
        na_values: Sequence[str] = DEFAULT_NA_VALUES,
    ) -> DatasetRow:
        """A dataset from JSON rows ``(m, n)`` and ``m`` targets.

        Rows of finite numbers make a numeric dataset; rows with text, booleans or nulls (or a
        request naming ``column_types`` or ``drop``) make a table of typed columns.
        """
        plain = not column_types and not drop and all(t is not None for t in targets)
        if plain and all(is_number(v) for row in features for v in row):
            labels: list[Label] = [t for t in targets if t is not None]
            return self._from_numbers(
                name, features, labels, feature_names, target_name, task, split
            )
        matrix = features_matrix([[0.0] * len(r) for r in features], self.settings)
        n = matrix.shape[1]
        names = (
            list(feature_names) if feature_names is not None else [f"x{j + 1}" for j in range(n)]
        )
        if len(names) != n or len(set(names)) != n:
            raise InvalidInput(
                f"feature_names must be {n} distinct names", code="feature_names_length_mismatch"
            )
        if len(targets) != matrix.shape[0]:
            raise InvalidInput(
                f"{len(targets)} targets for {matrix.shape[0]} rows", code="targets_length_mismatch"
            )
        raw = raw_from_rows(
            features, targets, names, target_name, column_types or {}, drop, na_values
        )
        prepared = prepare_table(
            raw,
            task=task,
            test_fraction=split.test_fraction,
            seed=split.seed,
            settings=self.settings,
        )
        return self._store(name, prepared, {"kind": "json"}, split)

    def _from_numbers(
        self,
        name: str,
        features: Sequence[Sequence[Any]],
        targets: Sequence[Label],
        feature_names: Sequence[str] | None,
        target_name: str,
        task: str | None,
        split: SplitOptions,
    ) -> DatasetRow:
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

    def create_from_upload(
        self,
        *,
        source: Source,
        filename: str,
        size: int,
        options: UploadOptions | None = None,
        name: str | None = None,
        task: str | None = None,
        split: SplitOptions = SplitOptions(),
    ) -> DatasetRow:
        """A dataset from an uploaded CSV or Parquet file: on disk at ``source``, or its bytes."""
        raw = parse_upload(source, filename, options or UploadOptions(), self.settings)
        prepared = prepare_table(
            raw,
            task=task,
            test_fraction=split.test_fraction,
            seed=split.seed,
            settings=self.settings,
        )
        # The file name comes from the client's multipart header: keep printable characters only.
        shown = "".join(c for c in filename if c.isprintable())[:200]
        origin = {"kind": "upload", "filename": shown, "bytes": size}
        return self._store(name or shown or "upload", prepared, origin, split)

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
        arrays = {
            "features": prepared.features,
            "targets": prepared.targets,
            "train_idx": prepared.train_idx,
            "test_idx": prepared.test_idx,
        }
        metadata: dict[str, Any] = {}
        if prepared.table is not None:
            columns, metadata = table_arrays(prepared.table)
            arrays |= columns
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
            self.arrays.save_dataset(dataset_id, arrays, metadata)
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

    def export(self, row: DatasetRow, subset: Subset = "all") -> DatasetExport:
        """The rows of the dataset ``row`` (from :meth:`get`), read from its file a slice at a
        time by the writers of :class:`DatasetExport` (close its ``file`` when done)."""
        file = self.arrays.open_dataset(row.id)
        try:
            return DatasetExport(row, file, subset)
        except BaseException:
            file.close()
            raise

    def load_arrays(self, row: DatasetRow) -> DatasetArrays:
        """The arrays, in rows, of the dataset ``row`` (from :meth:`get`)."""
        arrays, metadata = self.arrays.load_dataset(row.id)
        return DatasetArrays(
            arrays["features"],
            arrays["targets"],
            arrays["train_idx"],
            arrays["test_idx"],
            columns_from_arrays(arrays, metadata),
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
