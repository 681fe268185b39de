"""Accuracy and evaluation of a model version on a stored dataset split or on inline rows.

Classifiers get accuracy, log loss, the confusion matrix with class labels and per-class
precision, recall and F1 (``core.metrics.classification_report``); regressors get MSE, RMSE,
MAE and R² (``core.metrics.regression_report``). A dataset's labels are matched to the model's
classes by value, so a dataset whose classes are listed in another order still scores right.

A table model (one with a preprocessing stage) is scored on its raw columns: a dataset's typed
columns, or inline rows in the upload's column order, go through the stage's encoding in
:meth:`core.inference.Inference.predict_table`, and regression outputs come back in the targets'
units, so the scores are those of ``/predict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInput
from app.services.compatibility import check_compatible
from app.services.datasets import DatasetService
from app.services.loaded_model import LoadedModel, ServedModel
from app.services.model_cache import ModelCache
from app.services.predictions import check_features
from app.services.table_predictions import Records, request_table
from app.settings import Settings
from core.errors import CoreError
from core.inference import OutputNotFiniteError, Prediction
from core.metrics import classification_report, regression_report
from core.table_values import Table

Split = Literal["train", "test", "all"]


@dataclass(frozen=True)
class Samples:
    """Rows to score and their true targets, in the model's terms.

    ``features`` holds rows of numbers ``(m, n)``, or ``table`` (for a table model) the raw
    columns of the ``m`` rows. ``targets`` holds class indices into the model's classes
    ``(m,)`` for a classifier, or values ``(m, n_y)`` for a regressor.
    """

    features: NDArray[np.float64] | None
    targets: NDArray[Any]
    dataset_id: str | None = None
    split: Split | None = None
    table: Table | None = None


class EvaluationService:
    """Score a model version against known targets."""

    def __init__(self, cache: ModelCache, datasets: DatasetService, settings: Settings) -> None:
        self.cache = cache
        self.datasets = datasets
        self.settings = settings

    # Sources of samples ----------------------------------------------------------------------
    def dataset_samples(self, model: ServedModel, dataset_id: str | None, split: Split) -> Samples:
        """The rows of a stored dataset's split (the model's own dataset when none is named)."""
        dataset_id = dataset_id or model.dataset_id
        if dataset_id is None:
            raise InvalidInput(
                "the model has no dataset of its own: give dataset_id", code="dataset_required"
            )
        row = self.datasets.get(dataset_id)
        check_compatible(model, row, training=False)
        arrays = self.datasets.load_arrays(row)
        index = {"train": arrays.train_idx, "test": arrays.test_idx}.get(split)
        if index is None:
            index = np.arange(arrays.targets.shape[0])
        raw = arrays.targets[index]
        if raw.shape[0] == 0:
            raise InvalidInput(f"the {split} split of {dataset_id} is empty", code="empty_split")
        targets: NDArray[Any]
        if model.codec is None:
            targets = raw.astype(np.float64).reshape(-1, 1)
        else:
            labels = [row.classes[int(i)] for i in raw] if row.classes else []
            targets = _class_indices(model, labels)
        if model.input_schema is None:
            return Samples(arrays.features[index], targets, dataset_id, split)
        stored = arrays.feature_columns(row.feature_names)
        table = {column["name"]: stored[column["name"]][index] for column in model.input_schema}
        return Samples(None, targets, dataset_id, split, table)

    def inline_samples(
        self, loaded: LoadedModel, inputs: object, targets: Sequence[Any]
    ) -> Samples:
        """Rows and targets sent with the request: rows of numbers, or a table model's rows
        (its columns in the upload's order, any values) or :class:`Records`."""
        model, stage = loaded.model, loaded.inference.preprocessor
        max_rows = self.settings.max_predict_rows
        features: NDArray[np.float64] | None = None
        table: Table | None = None
        if stage is None:
            if isinstance(inputs, Records):
                raise InvalidInput(
                    "records need a table model; send inputs as rows of numbers",
                    code="invalid_inputs",
                )
            features = check_features(inputs, model.n_inputs, max_rows)
            m = features.shape[0]
        else:
            table, _ = request_table(stage, inputs, max_rows)
            m = len(next(iter(table.values())))
        if len(targets) != m:
            raise InvalidInput(
                f"{m} input row(s) but {len(targets)} target(s)", code="target_count_mismatch"
            )
        if model.codec is not None:
            return Samples(features, _class_indices(model, list(targets)), table=table)
        values = np.asarray(targets, dtype=object)
        try:
            array = np.asarray(values.tolist(), dtype=np.float64).reshape(len(targets), -1)
        except (TypeError, ValueError) as error:
            raise InvalidInput(
                "regression targets must be numbers", code="invalid_targets"
            ) from error
        if array.shape[1] != model.n_outputs or not np.isfinite(array).all():
            raise InvalidInput(
                f"each target must be {model.n_outputs} finite number(s)", code="invalid_targets"
            )
        return Samples(features, array, table=table)

    # Scores ----------------------------------------------------------------------------------
    def accuracy(
        self, model_id: str, dataset_id: str | None, split: Split, version: int | None = None
    ) -> dict[str, Any]:
        """``{accuracy, n_samples, ...}`` of a classifier on a dataset split."""
        loaded = self.cache.get(model_id, version)
        if loaded.model.codec is None:
            raise InvalidInput(
                "accuracy needs a classifier; use evaluate for a regression model",
                code="not_a_classifier",
            )
        samples = self.dataset_samples(loaded.model, dataset_id, split)
        predicted, _ = _class_predictions(loaded, samples)
        return {
            "accuracy": float(np.mean(predicted == samples.targets)),
            "n_samples": int(samples.targets.shape[0]),
            **_provenance(loaded, samples),
        }

    def evaluate(self, loaded: LoadedModel, samples: Samples) -> dict[str, Any]:
        """The full report of ``loaded`` on ``samples``."""
        if loaded.model.codec is not None:
            predicted, A = _class_predictions(loaded, samples)
            classes = list(loaded.model.classes or ())
            report = classification_report(samples.targets, predicted, classes, probabilities=A)
        else:
            outputs = _predict(loaded, samples).outputs
            report = regression_report(samples.targets.T, np.asarray(outputs).T)
        return {"task": loaded.model.task, **report, **_provenance(loaded, samples)}


def _predict(loaded: LoadedModel, samples: Samples) -> Prediction:
    """The model's predictions of the samples, through its one inference entry point."""
    try:
        if samples.table is not None:
            return loaded.inference.predict_table(samples.table)[0]
        assert samples.features is not None
        return loaded.inference.predict(samples.features)
    except OutputNotFiniteError as error:
        raise InvalidInput(str(error), code="output_not_finite") from error


def _class_indices(model: ServedModel, labels: list[Any]) -> NDArray[np.int64]:
    assert model.codec is not None
    try:
        return model.codec.to_indices(labels)
    except CoreError as error:
        raise InvalidInput(str(error), code="unknown_labels") from error


def _class_predictions(
    loaded: LoadedModel, samples: Samples
) -> tuple[NDArray[np.intp], NDArray[Any]]:
    """Predicted class indices ``(m,)`` and the network output ``A^{[L]}`` ``(n_y, m)``."""
    result = _predict(loaded, samples)
    assert isinstance(result.indices, np.ndarray) and isinstance(result.outputs, np.ndarray)
    return result.indices, result.outputs.T


def _provenance(loaded: LoadedModel, samples: Samples) -> dict[str, Any]:
    return {
        "model_id": loaded.model.id,
        "model_version": loaded.version,
        "trained": loaded.trained,
        "dataset_id": samples.dataset_id,
        "split": samples.split,
    }
