"""Turn client-supplied rows and labels into a validated dataset, or say exactly what is wrong.

Task inference (when the client gives no ``task``):

* any label is a string -> classification;
* all labels are integers (JSON integers, or CSV cells written as integers) and there are at most
  ``MAX_INFERRED_CLASSES`` distinct values -> classification;
* otherwise -> regression.

Classification is ``binary`` with exactly two distinct labels and ``multiclass`` with three or more.
Class labels are kept as given (sorted) in ``classes``; the stored targets are their indices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from app.errors import (
    MAX_REPORTED_ERRORS,
    FieldError,
    InvalidInput,
    LimitExceeded,
    not_finite,
)
from app.services.numbers import check_int_labels, float64_values
from app.settings import Settings
from core.errors import CoreError
from core.inference import rows_to_columns
from core.preprocessing import LabelCodec, feature_stats, train_test_split_indices

if TYPE_CHECKING:
    from app.services.table_upload import RawTable

Label = int | float | str
MAX_INFERRED_CLASSES = 20


@dataclass(frozen=True)
class PreparedDataset:
    """A dataset ready to store: rows, encoded targets, split and summary statistics."""

    features: NDArray[np.float64]  # (m, n)
    targets: NDArray[Any]  # (m,) int64 class indices or float64 values
    train_idx: NDArray[np.int64]
    test_idx: NDArray[np.int64]
    task: str
    classes: list[int | str] | None
    feature_names: list[str]
    target_name: str
    stats: dict[str, Any]
    table: RawTable | None = None
    """The typed columns of a table (an upload, or JSON rows with text or nulls)."""

    @property
    def n_samples(self) -> int:
        """Number of rows ``m``."""
        return int(self.targets.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns ``n``."""
        return len(self.feature_names)


def _field_errors(errors: list[FieldError], detail: str, code: str) -> InvalidInput:
    return InvalidInput(detail, code=code, errors=errors[:MAX_REPORTED_ERRORS])


def features_matrix(rows: Sequence[Sequence[float]], settings: Settings) -> NDArray[np.float64]:
    """``rows`` as a finite float64 ``(m, n)`` array within the limits."""
    if len(rows) == 0:
        raise InvalidInput("features is empty: send at least 2 rows", code="empty_data")
    if len(rows) > settings.max_samples:
        raise LimitExceeded(
            f"{len(rows)} rows exceed max_samples={settings.max_samples}", code="too_many_samples"
        )
    n = len(rows[0])
    ragged = [
        FieldError(
            field=f"features.{i}", message=f"has {len(r)} values, expected {n}", code="ragged"
        )
        for i, r in enumerate(rows)
        if len(r) != n
    ]
    if ragged:
        raise _field_errors(ragged, f"rows differ in length (the first row has {n})", "ragged_rows")
    if n == 0:
        raise InvalidInput("rows have no feature values", code="empty_data")
    if n > settings.max_features:
        raise LimitExceeded(
            f"{n} features exceed max_features={settings.max_features}", code="too_many_features"
        )
    try:
        features = np.asarray(rows, dtype=np.float64)
    except OverflowError as error:
        raise InvalidInput("a feature value is too large for float64", code="not_finite") from error
    if not np.isfinite(features).all():
        raise not_finite(features, "features", "feature")
    if features.shape[0] < 2:
        raise InvalidInput("a dataset needs at least 2 rows", code="too_few_samples")
    return features


def infer_task(labels: Sequence[Label]) -> str:
    """The task the labels suggest (see the module docstring for the rule)."""
    kinds = set(map(type, labels))
    if str in kinds:
        return "binary" if len(set(labels)) == 2 else "multiclass"
    if kinds == {int}:
        distinct = len(set(labels))
        if distinct <= MAX_INFERRED_CLASSES:
            return "binary" if distinct == 2 else "multiclass"
    return "regression"


def _regression_targets(labels: Sequence[Label]) -> NDArray[np.float64]:
    strings = [i for i, v in enumerate(labels) if isinstance(v, str)]
    if strings:
        raise _field_errors(
            [
                FieldError(field=f"targets.{i}", message="is not a number", code="not_numeric")
                for i in strings
            ],
            "regression targets must be numbers",
            "labels_do_not_fit_task",
        )
    return float64_values(labels, "targets")


def _factorized(labels: Sequence[Label]) -> tuple[LabelCodec, NDArray[np.int64]]:
    """The labels' codec (sorted distinct classes) and each label's class index: by numpy when
    the labels are all plain ints or all strings (an upload's target column), else by the
    codec's own rules (whole floats are ints, ...)."""
    kinds = set(map(type, labels))
    if kinds == {int} or kinds == {str}:
        try:
            values = np.asarray(labels, dtype=np.int64 if kinds == {int} else np.str_)
        except OverflowError:
            check_int_labels(labels)  # names the labels beyond 64 bits
            raise
        classes, indices = np.unique(values, return_inverse=True)
        if classes.size < 2:
            raise InvalidInput(
                f"classification needs at least 2 classes, got only {classes.tolist()}",
                code="single_class",
            )
        return LabelCodec(tuple(classes.tolist())), indices.astype(np.int64)
    check_int_labels(labels)
    if len(set(labels)) < 2:
        raise InvalidInput(
            f"classification needs at least 2 classes, got only {sorted(set(labels))}",
            code="single_class",
        )
    codec = LabelCodec.fit(list(labels))
    return codec, codec.to_indices(list(labels))


def _class_targets(
    labels: Sequence[Label], task: str, settings: Settings
) -> tuple[NDArray[np.int64], list[int | str]]:
    if {type(v) is str for v in labels} == {True, False}:
        raise InvalidInput("class labels mix numbers and strings", code="mixed_labels")
    try:
        codec, indices = _factorized(labels)
    except CoreError as error:
        raise InvalidInput(str(error), code="labels_do_not_fit_task") from error
    check_class_count(codec.n_classes, task, settings, list(codec.classes))
    return indices, list(codec.classes)


def check_class_count(
    k: int, task: str, settings: Settings, classes: Sequence[int | str] = ()
) -> None:
    """Refuse ``k`` classes that do not fit ``task`` (binary, multiclass, or auto) or the limit."""
    if k < 2:
        raise InvalidInput(
            f"classification needs at least 2 classes, got only {list(classes)}",
            code="single_class",
        )
    if task == "binary" and k != 2:
        raise InvalidInput(
            f"task binary needs exactly 2 classes, got {k}", code="labels_do_not_fit_task"
        )
    if task == "multiclass" and k < 3:
        raise InvalidInput(
            f"task multiclass needs at least 3 classes, got {k} (use task binary)",
            code="labels_do_not_fit_task",
        )
    if k > settings.max_units:
        raise LimitExceeded(
            f"{k} classes exceed max_units={settings.max_units}", code="too_many_classes"
        )


def _finite_or_none(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (recursively)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def _target_stats(targets: NDArray[Any], classes: list[int | str] | None) -> dict[str, Any]:
    if classes is None:
        return {
            "min": float(targets.min()),
            "max": float(targets.max()),
            "mean": float(targets.mean()),
            "std": float(targets.std()),
        }
    counts = np.bincount(targets, minlength=len(classes))
    return {
        "class_counts": [
            {"label": c, "count": int(n)} for c, n in zip(classes, counts, strict=True)
        ]
    }


def prepare_dataset(
    features: NDArray[np.float64],
    labels: Sequence[Label],
    *,
    task: str | None,
    feature_names: Sequence[str] | None,
    target_name: str,
    test_fraction: float,
    seed: int,
    settings: Settings,
) -> PreparedDataset:
    """Validate labels against the rows, encode them, split, and summarize.

    Parameters
    ----------
    features : ndarray of shape (m, n)
        Already checked by :func:`features_matrix` (finite, within limits).
    labels : sequence of length m
        Class labels (int or str) or regression values.
    """
    m, n = features.shape
    if len(labels) != m:
        raise InvalidInput(f"{len(labels)} targets for {m} rows", code="targets_length_mismatch")
    names = list(feature_names) if feature_names is not None else [f"x{j + 1}" for j in range(n)]
    if len(names) != n:
        raise InvalidInput(
            f"{len(names)} feature names for {n} features", code="feature_names_length_mismatch"
        )
    if len(set(names)) != n:
        raise InvalidInput("feature names must be distinct", code="duplicate_feature_names")
    task = task or infer_task(labels)
    classes: list[int | str] | None
    if task == "regression":
        targets: NDArray[Any] = _regression_targets(labels)
        classes = None
    else:
        targets, classes = _class_targets(labels, task, settings)
        task = "binary" if len(classes) == 2 else "multiclass"
    try:
        train_idx, test_idx = train_test_split_indices(
            targets, test_fraction, seed, stratify=classes is not None
        )
    except CoreError as error:
        raise InvalidInput(str(error), code="invalid_split") from error
    # Sums of values near the float64 limit overflow: such statistics become null, not Infinity
    # (which JSON, and PostgreSQL's json type, cannot hold).
    with np.errstate(over="ignore", invalid="ignore"):
        stats = _finite_or_none(
            {
                "features": feature_stats(rows_to_columns(features), names),
                "target": _target_stats(targets, classes),
                "split": {"n_train": int(train_idx.size), "n_test": int(test_idx.size)},
            }
        )
    return PreparedDataset(
        features, targets, train_idx, test_idx, task, classes, names, target_name, stats
    )
