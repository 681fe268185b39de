"""Accuracy and evaluation of a model version on a stored dataset split or on inline rows.

Classifiers get accuracy, log loss, the confusion matrix with class labels and per-class
precision, recall and F1 (``core.metrics.classification_report``); regressors get MSE, RMSE,
MAE and R² (``core.metrics.regression_report``). A dataset's labels are matched to the model's
classes by value, so a dataset whose classes are listed in another order still scores right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from app.errors import Conflict, InvalidInput
from app.services.compatibility import check_compatible
from app.services.datasets import DatasetService
from app.services.loaded_model import LoadedModel, ServedModel
from app.services.model_cache import ModelCache
from app.services.predictions import check_features
from app.settings import Settings
from core.errors import CoreError
from core.metrics import classification_report, regression_report

Split = Literal["train", "test", "all"]


@dataclass(frozen=True)
class Samples:
    """Rows ``(m, n)`` to score and their true targets, in the model's terms.

    ``targets`` holds class indices into the model's classes ``(m,)`` for a classifier, or
    values ``(m, n_y)`` for a regressor.
    """

    features: NDArray[np.float64]
    targets: NDArray[Any]
    dataset_id: str | None = None
    split: Split | None = None


class EvaluationService:
    """Score a model version against known targets."""

    def __init__(self, cache: ModelCache, datasets: DatasetService, settings: Settings) -> None:
        self.cache = cache
        self.datasets = datasets
        self.settings = settings

    # Sources of samples ----------------------------------------------------------------------
    def dataset_samples(self, model: ServedModel, dataset_id: str | None, split: Split) -> Samples:
        """The rows of a stored dataset's split (the model's own dataset when none is named)."""
        _numeric_only(model)
        dataset_id = dataset_id or model.dataset_id
        if dataset_id is None:
            raise InvalidInput(
                "the model has no dataset of its own: give dataset_id", code="dataset_required"
            )
        row = self.datasets.get(dataset_id)
        check_compatible(model, row, training=False)
        arrays = self.datasets.load_arrays(row)
        index = {"train": arrays.train_idx, "test": arrays.test_idx}.get(split)
        features = arrays.features if index is None else arrays.features[index]
        raw = arrays.targets if index is None else arrays.targets[index]
        if features.shape[0] == 0:
            raise InvalidInput(f"the {split} split of {dataset_id} is empty", code="empty_split")
        targets: NDArray[Any]
        if model.codec is None:
            targets = raw.astype(np.float64).reshape(-1, 1)
        else:
            labels = [row.classes[int(i)] for i in raw] if row.classes else []
            targets = _class_indices(model, labels)
        return Samples(features, targets, dataset_id, split)

    def inline_samples(self, model: ServedModel, inputs: object, targets: Sequence[Any]) -> Samples:
        """Rows and targets sent with the request."""
        _numeric_only(model)
        features = check_features(inputs, model.n_inputs, self.settings.max_predict_rows)
        if len(targets) != features.shape[0]:
            raise InvalidInput(
                f"{features.shape[0]} input row(s) but {len(targets)} target(s)",
                code="target_count_mismatch",
            )
        if model.codec is not None:
            return Samples(features, _class_indices(model, list(targets)))
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
        return Samples(features, array)

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
        predicted, _ = _class_predictions(loaded, samples.features)
        return {
            "accuracy": float(np.mean(predicted == samples.targets)),
            "n_samples": int(samples.targets.shape[0]),
            **_provenance(loaded, samples),
        }

    def evaluate(self, loaded: LoadedModel, samples: Samples) -> dict[str, Any]:
        """The full report of ``loaded`` on ``samples``."""
        if loaded.model.codec is not None:
            predicted, A = _class_predictions(loaded, samples.features)
            classes = list(loaded.model.classes or ())
            report = classification_report(samples.targets, predicted, classes, probabilities=A)
        else:
            outputs = loaded.inference.predict(samples.features).outputs
            report = regression_report(samples.targets.T, np.asarray(outputs).T)
        return {"task": loaded.model.task, **report, **_provenance(loaded, samples)}


def _numeric_only(model: ServedModel) -> None:
    if model.input_schema is not None:
        raise Conflict(
            "scoring a model with a preprocessing stage is not supported yet; "
            "the training job's result holds its train and validation scores",
            code="table_model_scoring_unsupported",
        )


def _class_indices(model: ServedModel, labels: list[Any]) -> NDArray[np.int64]:
    assert model.codec is not None
    try:
        return model.codec.to_indices(labels)
    except CoreError as error:
        raise InvalidInput(str(error), code="unknown_labels") from error


def _class_predictions(
    loaded: LoadedModel, features: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[Any]]:
    """Predicted class indices ``(m,)`` and the network output ``A^{[L]}`` ``(n_y, m)``."""
    result = loaded.inference.predict(features)
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
