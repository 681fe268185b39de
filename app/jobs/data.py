"""The arrays a job trains on: the dataset's training rows, the validation rows, encoded targets.

Rows from the dataset file become core's columns through :mod:`app.services.layout` (the one place
that transposes). Classification labels are encoded with the *model's* classes, so a dataset whose
classes are a subset of the model's trains the same output units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.jobs.params import TrainParams
from app.services.layout import rows_to_columns
from app.storage.tables import DatasetRow, ModelRow
from core.metrics import accuracy, log_loss, regression_report
from core.network import ANN
from core.preprocessing import LabelCodec, train_test_split_indices

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TrainingData:
    """``X`` ``(n_x, m)``, ``Y`` ``(n_y, m)``, optional validation pair, and the label codec."""

    X: FloatArray
    Y: FloatArray
    X_val: FloatArray | None
    Y_val: FloatArray | None
    codec: LabelCodec | None


def _targets(targets: NDArray[Any], dataset: DatasetRow, codec: LabelCodec | None) -> FloatArray:
    if codec is None:
        return np.asarray(targets, dtype=np.float64)[np.newaxis, :]
    assert dataset.classes is not None
    labels = [dataset.classes[int(i)] for i in targets]
    return codec.encode(labels)


def training_data(
    arrays: dict[str, NDArray[Any]], dataset: DatasetRow, model: ModelRow, params: TrainParams
) -> TrainingData:
    """Split and encode a stored dataset (``features`` ``(m, n)`` rows) for ``params``."""
    features, targets = arrays["features"], arrays["targets"]
    train_idx, test_idx = arrays["train_idx"], arrays["test_idx"]
    if params.validation == "test":
        val_idx: NDArray[np.int64] | None = test_idx
    elif isinstance(params.validation, float):
        # Carved from the training rows with the job's seed, stratified by class.
        keep, held = train_test_split_indices(
            targets[train_idx], params.validation, seed=params.seed
        )
        train_idx, val_idx = train_idx[keep], train_idx[held]
    else:
        val_idx = None
    codec = LabelCodec(tuple(model.classes)) if model.classes is not None else None
    X = rows_to_columns(np.asarray(features[train_idx], dtype=np.float64))
    Y = _targets(targets[train_idx], dataset, codec)
    if val_idx is None or val_idx.size == 0:
        return TrainingData(X, Y, None, None, codec)
    X_val = rows_to_columns(np.asarray(features[val_idx], dtype=np.float64))
    return TrainingData(X, Y, X_val, _targets(targets[val_idx], dataset, codec), codec)


def _scores(ann: ANN, X: FloatArray, Y: FloatArray, codec: LabelCodec | None) -> dict[str, Any]:
    P = ann.predict_proba(X).astype(np.float64)
    if codec is None:
        return regression_report(Y, P)
    if codec.n_outputs == 1:
        predicted, actual = (P[0] > 0.5).astype(np.int64), Y[0].astype(np.int64)
    else:
        predicted, actual = P.argmax(axis=0), Y.argmax(axis=0)
    return {
        "n_samples": int(X.shape[1]),
        "accuracy": accuracy(actual, predicted),
        "log_loss": log_loss(Y, P),
    }


def evaluate(ann: ANN, data: TrainingData) -> dict[str, Any]:
    """Training and validation scores: accuracy and log loss, or MSE, RMSE, MAE and R2."""
    scores: dict[str, Any] = {"train": _scores(ann, data.X, data.Y, data.codec)}
    scores["validation"] = None
    if data.X_val is not None and data.Y_val is not None:
        scores["validation"] = _scores(ann, data.X_val, data.Y_val, data.codec)
    return scores
