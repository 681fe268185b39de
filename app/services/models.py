"""Model use cases: create (parameters initialized and stored as version 0), read, list, update,
delete, and parameter versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import (
    Conflict,
    InvalidInput,
    model_not_found,
    version_not_found,
)
from app.ids import DATASET, MODEL, is_valid_id, new_id, validate_id
from app.services.model_spec import ModelSpec, ResolvedModel, _check_limits, resolve_model
from app.services.model_tables import (
    PreprocessingSpec,
    dataset_columns,
    fit_stage,
    is_table,
)
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import DatasetRepository, JobRepository, ModelRepository
from app.storage.table_columns import rows_of, stored_table
from app.storage.tables import DatasetRow, ModelRow, ModelVersionRow, utcnow
from core.errors import CoreError
from core.network import ANN
from core.pipeline import Pipeline, Preprocessor, pipeline_to_bytes


class ModelService:
    """Create, read, change and delete models and their parameter versions."""

    def __init__(self, db: Database, arrays: ArrayStore, settings: Settings) -> None:
        self.db = db
        self.arrays = arrays
        self.settings = settings

    # Creation ------------------------------------------------------------------------------
    def _dataset(self, dataset_id: str | None) -> DatasetRow | None:
        if dataset_id is None:
            return None
        if not is_valid_id(dataset_id, DATASET):
            raise InvalidInput("dataset_id is not a dataset id", code="invalid_dataset_id")
        with self.db.session() as session:
            row = DatasetRepository(session).get(dataset_id)
        if row is None:
            raise InvalidInput(f"no dataset with id {dataset_id}", code="unknown_dataset")
        return row

    @staticmethod
    def _build(spec: ModelSpec, resolved: ResolvedModel) -> ANN:
        try:
            return ANN(
                resolved.n_inputs,
                resolved.units,
                resolved.n_outputs,
                hidden_activation=resolved.hidden_activations,
                output_activation=resolved.output_activation,
                init=spec.init,
                distribution=spec.distribution,
                seed=spec.seed,
                dtype=spec.dtype,
            )
        except CoreError as error:
            raise InvalidInput(str(error), code="invalid_architecture") from error

    def _stage(self, dataset: DatasetRow, spec: ModelSpec, resolved: ResolvedModel) -> Preprocessor:
        """The preprocessing stage fitted on the dataset's training split."""
        arrays, metadata = self.arrays.load_dataset(dataset.id)
        train_idx = arrays["train_idx"]
        table = rows_of(stored_table(arrays, metadata, dataset), train_idx)
        regression = resolved.task == "regression"
        targets = arrays["targets"][train_idx].astype(float) if regression else None
        return fit_stage(
            table,
            dataset_columns(dataset),
            spec.preprocessing or PreprocessingSpec(),
            targets,
            center_targets=resolved.output_activation != "relu",
        )

    def _resolve(self, spec: ModelSpec) -> tuple[ResolvedModel, Preprocessor | None]:
        dataset = self._dataset(spec.dataset_id)
        if dataset is None or not (is_table(dataset) or spec.preprocessing is not None):
            if spec.preprocessing is not None:
                raise InvalidInput(
                    "preprocessing and derived_features need a dataset_id", code="dataset_required"
                )
            return resolve_model(spec, dataset, self.settings), None
        resolved = resolve_model(replace(spec, n_inputs=None), dataset, self.settings)
        stage = self._stage(dataset, spec, resolved)
        if spec.n_inputs is not None and spec.n_inputs != stage.n_x:
            raise InvalidInput(
                f"n_inputs={spec.n_inputs} but the dataset's columns encode to {stage.n_x} inputs",
                code="feature_count_mismatch",
            )
        resolved = replace(resolved, n_inputs=stage.n_x)
        _check_limits(resolved, self.settings)
        return resolved, stage

    def create(self, spec: ModelSpec) -> ModelRow:
        """Validate ``spec``, initialize the network and store it as version 0."""
        resolved, stage = self._resolve(spec)
        ann = self._build(spec, resolved)
        model_id = new_id(MODEL)
        architecture = ann.architecture() | {
            "hidden_layers": [
                {"units": u, "activation": a}
                for u, a in zip(resolved.units, resolved.hidden_activations, strict=True)
            ]
        }
        if stage is not None:
            options = stage.options.to_dict()
            architecture |= {
                "input_schema": stage.input_schema(),
                "preprocessing": options
                | {"derived_features": [f.expression for f in stage.derived]},
                "encoded_features": stage.feature_names(),
            }
        row = ModelRow(
            id=model_id,
            name=spec.name,
            description=spec.description,
            task=resolved.task,
            n_inputs=resolved.n_inputs,
            n_outputs=resolved.n_outputs,
            classes=resolved.classes,
            architecture=architecture,
            init=spec.init,
            distribution=spec.distribution,
            seed=spec.seed,
            dtype=spec.dtype,
            n_parameters=ann.n_parameters,
            current_version=0,
            status="ready",
            dataset_id=spec.dataset_id,
        )
        try:
            data = pipeline_to_bytes(Pipeline(stage, ann))
            self.arrays.save_model_version_bytes(model_id, 0, data)
            with self.db.session() as session:
                models = ModelRepository(session)
                models.add(row)
                models.add_version(
                    ModelVersionRow(model_id=model_id, version=0, note="initialized")
                )
        except BaseException:
            self.arrays.delete_model(model_id)
            raise
        return row

    # Reading -------------------------------------------------------------------------------
    def get(self, model_id: str) -> ModelRow:
        """The model's row; ``NotFound`` (or ``InvalidId``) otherwise."""
        validate_id(model_id, MODEL)
        with self.db.session() as session:
            row = ModelRepository(session).get(model_id)
        if row is None:
            raise model_not_found(model_id)
        return row

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
        """A page of models (newest first) and the total matching the filters."""
        with self.db.session() as session:
            return ModelRepository(session).list(
                limit=limit,
                offset=offset,
                task=task,
                status=status,
                dataset_id=dataset_id,
                name=name,
            )

    def versions(self, model_id: str) -> Sequence[ModelVersionRow]:
        """Every parameter version of the model, oldest first."""
        self.get(model_id)
        with self.db.session() as session:
            return ModelRepository(session).versions(model_id)

    def _version(self, row: ModelRow, version: int | None) -> int:
        if version is None:
            return row.current_version
        with self.db.session() as session:
            if ModelRepository(session).get_version(row.id, version) is None:
                raise version_not_found(row.id, version)
        return version

    def parameters(
        self, row: ModelRow, version: int | None = None
    ) -> tuple[int, dict[str, NDArray[Any]]]:
        """The version number and its parameters ``W1, b1, ...`` (the current one by default)
        of the model ``row`` (from :meth:`get`)."""
        number = self._version(row, version)
        arrays, _ = self.arrays.load_model_version(row.id, number)
        return number, arrays

    def parameters_file(self, row: ModelRow, version: int | None = None) -> tuple[int, bytes]:
        """The version number and its ``.npz`` file, byte for byte, of the model ``row``."""
        number = self._version(row, version)
        return number, self.arrays.model_version_bytes(row.id, number)

    # Changes -------------------------------------------------------------------------------
    def update(
        self, model_id: str, *, name: str | None = None, description: str | None = None
    ) -> ModelRow:
        """Rename the model or change its description."""
        validate_id(model_id, MODEL)
        with self.db.session() as session:
            row = ModelRepository(session).get(model_id, for_update=True)
            if row is None:
                raise model_not_found(model_id)
            if name is not None:
                row.name = name
            if description is not None:
                row.description = description
            row.updated_at = utcnow()
        return row

    def delete(self, model_id: str) -> None:
        """Delete the model, its versions and files; ``Conflict`` while it is training."""
        validate_id(model_id, MODEL)
        with self.db.session() as session:
            row = ModelRepository(session).get(model_id, for_update=True)
            if row is None:
                raise model_not_found(model_id)
            if row.status == "training" or JobRepository(session).has_active_for_model(model_id):
                raise Conflict(f"model {model_id} is training", code="model_in_use")
            job_ids = JobRepository(session).ids_for_model(model_id)
            ModelRepository(session).delete(model_id)
        self.arrays.delete_model(model_id)
        for job_id in job_ids:
            self.arrays.delete_job(job_id)


def parameter_summary(parameters: dict[str, NDArray[Any]]) -> list[dict[str, Any]]:
    """Each parameter's name, shape and values as nested lists (for JSON responses)."""
    return [
        {"name": name, "shape": list(array.shape), "values": np.asarray(array).tolist()}
        for name, array in parameters.items()
    ]
