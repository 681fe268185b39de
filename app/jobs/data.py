"""The arrays a job trains on: the dataset's training rows, the validation rows, encoded targets.

Rows from the dataset file become core's columns through :func:`core.inference.rows_to_columns`.
Classification labels are encoded with the *model's* classes, so a dataset whose classes are a
subset of the model's trains the same output units. A table model's stage (from the version the
job starts from) is fitted anew on the job's training rows, then encodes every split; regression
targets are standardized by it, and scores are reported in the targets' own units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.jobs.job_spec import JobSpec
from app.storage.table_columns import rows_of, stored_table
from app.storage.tables import DatasetRow, ModelRow
from core.cross_validation import fold_split
from core.decision import class_indices
from core.inference import Inference, rows_to_columns
from core.metrics import (
    accuracy,
    confusion_matrix,
    log_loss,
    precision_recall_f1,
    regression_report,
)
from core.network import ANN
from core.pipeline import Preprocessor
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
    preprocessor: Preprocessor | None = None
    """A table model's stage, fitted on ``X``'s rows."""


def _targets(targets: NDArray[Any], dataset: DatasetRow, codec: LabelCodec | None) -> FloatArray:
    if codec is None:
        return np.asarray(targets, dtype=np.float64)[np.newaxis, :]
    assert dataset.classes is not None
    labels = [dataset.classes[int(i)] for i in targets]
    return codec.encode(labels)


def _table_data(
    arrays: dict[str, NDArray[Any]],
    metadata: Mapping[str, Any],
    dataset: DatasetRow,
    model: ModelRow,
    stage: Preprocessor,
    indices: tuple[NDArray[np.int64], NDArray[np.int64] | None],
) -> TrainingData:
    train_idx, val_idx = indices
    table, targets = stored_table(arrays, metadata, dataset), arrays["targets"]
    codec = LabelCodec(tuple(model.classes)) if model.classes is not None else None
    train_targets = None if codec is not None else targets[train_idx].astype(np.float64)
    center = model.architecture.get("output_activation") != "relu"
    stage = stage.refit(rows_of(table, train_idx), train_targets, center_targets=center)

    def encode(index: NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
        X, _ = stage.transform(rows_of(table, index))
        if codec is not None:
            return X, _targets(targets[index], dataset, codec)
        return X, stage.encode_targets(targets[index].astype(np.float64))

    X, Y = encode(train_idx)
    if val_idx is None or val_idx.size == 0:
        return TrainingData(X, Y, None, None, codec, stage)
    X_val, Y_val = encode(val_idx)
    return TrainingData(X, Y, X_val, Y_val, codec, stage)


def training_data(
    arrays: dict[str, NDArray[Any]],
    dataset: DatasetRow,
    model: ModelRow,
    spec: JobSpec,
    stage: Preprocessor | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> TrainingData:
    """Split and encode a stored dataset (``features`` ``(m, n)`` rows, or a table's columns
    through the model's ``stage``) for ``spec``."""
    features, targets = arrays["features"], arrays["targets"]
    train_idx, test_idx = arrays["train_idx"], arrays["test_idx"]
    if spec.validation == "test":
        val_idx: NDArray[np.int64] | None = test_idx
    elif isinstance(spec.validation, float):
        # Carved from the training rows with the job's seed, stratified by class.
        keep, held = train_test_split_indices(
            targets[train_idx], spec.validation, seed=spec.options.seed
        )
        train_idx, val_idx = train_idx[keep], train_idx[held]
    elif isinstance(spec.validation, dict):
        # One fold of a k-fold split of the training rows (a cross-validated search trial).
        fold = spec.validation
        rng = np.random.default_rng(fold["seed"])
        keep, held = fold_split(
            targets[train_idx], fold["folds"], fold["fold"], stratified=fold["stratified"], rng=rng
        )
        train_idx, val_idx = train_idx[keep], train_idx[held]
    else:
        val_idx = None
    if stage is not None:
        indices = (train_idx, val_idx)
        return _table_data(arrays, metadata or {}, dataset, model, stage, indices)
    codec = LabelCodec(tuple(model.classes)) if model.classes is not None else None
    X = rows_to_columns(np.asarray(features[train_idx], dtype=np.float64))
    Y = _targets(targets[train_idx], dataset, codec)
    if val_idx is None or val_idx.size == 0:
        return TrainingData(X, Y, None, None, codec)
    X_val = rows_to_columns(np.asarray(features[val_idx], dtype=np.float64))
    return TrainingData(X, Y, X_val, _targets(targets[val_idx], dataset, codec), codec)


def _scores(inference: Inference, X: FloatArray, Y: FloatArray) -> dict[str, Any]:
    P = inference.outputs(X).astype(np.float64)
    if inference.classes is None:
        stage = inference.preprocessor
        if stage is not None:  # in the targets' units
            return regression_report(stage.decode_outputs(Y), stage.decode_outputs(P))
        return regression_report(Y, P)
    # Y holds exact 0/1 targets (one-hot for several classes): the rule recovers their classes.
    predicted, actual = class_indices(P), class_indices(Y)
    confusion = confusion_matrix(actual, predicted, len(inference.classes))
    return {
        "n_samples": int(X.shape[1]),
        "accuracy": accuracy(actual, predicted),
        "log_loss": log_loss(Y, P),
        "f1_macro": float(np.mean(precision_recall_f1(confusion)[2])),
    }


def evaluate(ann: ANN, data: TrainingData) -> dict[str, Any]:
    """Training and validation scores: accuracy and log loss, or MSE, RMSE, MAE and R2."""
    classes = data.codec.classes if data.codec is not None else None
    inference = Inference(ann, classes, data.preprocessor)
    scores: dict[str, Any] = {"train": _scores(inference, data.X, data.Y)}
    scores["validation"] = None
    if data.X_val is not None and data.Y_val is not None:
        scores["validation"] = _scores(inference, data.X_val, data.Y_val)
    return scores
