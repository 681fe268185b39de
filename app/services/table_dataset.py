"""Typed tables as datasets: labels encoded and split, a profile per column, and the columns
stored in the dataset's ``.npz`` (no pickle).

Storage: column ``j`` of the features is ``col<j>`` (float64, NaN where missing, for numeric,
boolean and datetime columns; int32 codes, -1 where missing, for categorical ones, whose texts
are ``cat<j>``); the dataset file's JSON metadata lists the columns' names and types. A table
whose columns are all numeric without missing values also stores ``features`` ``(m, n)``, so it
serves every numeric-only path as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import FieldError, InvalidInput
from app.services.dataset_input import (
    MAX_INFERRED_CLASSES,
    Label,
    PreparedDataset,
    _class_targets,
    _finite_or_none,
    _regression_targets,
    _target_stats,
    check_class_count,
    infer_task,
)
from app.services.table_upload import COLUMN_THREADS, Labels, RawTable, TableColumn
from app.settings import Settings
from app.storage.table_columns import TABLE_KEY
from core.errors import CoreError
from core.preprocessing import train_test_split_indices
from core.table_values import (
    COLUMN_TYPES,
    DEFAULT_NA_VALUES,
    CategoryCodes,
    coerce,
)

TOP_CATEGORIES = 10


# Profiles -------------------------------------------------------------------------------------
def column_profile(name: str, kind: str, column: TableColumn | None) -> dict[str, Any]:
    """Type, missing and distinct counts, number statistics or the most frequent categories."""
    profile: dict[str, Any] = {"name": name, "type": kind}
    if column is None:
        return profile
    if isinstance(column, CategoryCodes):
        counts = column.counts()
        profile["missing"] = len(column) - int(counts.sum())
        profile["distinct"] = int(np.count_nonzero(counts))
        top = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
        profile["top"] = [
            {"value": column.categories[i], "count": int(counts[i])} for i in top if counts[i]
        ]
        return profile
    # One sort gives the rest: NaN (missing) sorts last, the ends are the extremes, and the
    # distinct values are where neighbours differ.
    ordered = np.sort(np.asarray(column, dtype=np.float64))
    n_present = int(np.searchsorted(np.isnan(ordered), True))
    present = ordered[:n_present]
    profile["missing"] = len(ordered) - n_present
    profile["distinct"] = int(n_present and 1 + np.count_nonzero(present[1:] != present[:-1]))
    if present.size:
        with np.errstate(over="ignore", invalid="ignore"):
            profile |= {
                "min": float(present[0]),
                "max": float(present[-1]),
                "mean": float(present.mean()),
                "std": float(present.std()),
            }
    if kind == "datetime" and present.size:
        for key in ("min", "max"):
            profile[f"{key}_iso"] = str(np.datetime64(int(profile[key]), "s"))
    return profile


# Storage --------------------------------------------------------------------------------------
def table_arrays(raw: RawTable) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
    """The arrays and JSON metadata that store ``raw``'s feature columns."""
    arrays: dict[str, NDArray[Any]] = {}
    described = []
    for j, name in enumerate(raw.feature_names):
        kind, column = raw.types[name], raw.columns[name]
        described.append({"name": name, "type": kind})
        if isinstance(column, CategoryCodes):
            arrays[f"col{j}"] = column.codes
            arrays[f"cat{j}"] = np.array(column.categories, dtype=str)
        else:
            arrays[f"col{j}"] = np.asarray(column, dtype=np.float64)
    return arrays, {TABLE_KEY: described}


def numeric_matrix(raw: RawTable) -> NDArray[np.float64]:
    """``features`` ``(m, n)`` of an all-numeric table without missing values, else ``(m, 0)``."""
    m = len(raw.labels)
    names = raw.feature_names
    numbers = [
        column
        for name in names
        if raw.types[name] == "numeric" and isinstance(column := raw.columns[name], np.ndarray)
    ]
    if len(numbers) == len(names):
        matrix = np.column_stack(numbers).astype(np.float64)
        if np.isfinite(matrix).all():
            return matrix.reshape(m, len(names))
    return np.empty((m, 0))


# JSON rows ------------------------------------------------------------------------------------
def _infer_values(values: Sequence[Any], na: Sequence[str]) -> str:
    present = [v for v in values if not (v is None or (isinstance(v, str) and v.strip() in na))]
    if len({repr(v) for v in present}) <= 1:
        return "ignored"
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "numeric"
    _, bad, _ = coerce(present, "datetime", na)
    if not bad and all(isinstance(v, str) for v in present):
        return "datetime"
    return "categorical"


def raw_from_rows(
    rows: Sequence[Sequence[Any]],
    labels: Sequence[Any],
    names: Sequence[str],
    target_name: str,
    column_types: Mapping[str, str],
    drop: Sequence[str] = (),
    na_values: Sequence[str] = DEFAULT_NA_VALUES,
) -> RawTable:
    """A typed table from JSON rows that may mix numbers, text, booleans and nulls."""
    for name in [*column_types, *drop]:
        if name not in names:
            raise InvalidInput(f"no column named {name!r}", code="unknown_column")
    for name, kind in column_types.items():
        if kind not in COLUMN_TYPES:
            raise InvalidInput(
                f"column {name!r}: type {kind!r} is not one of {list(COLUMN_TYPES)}",
                code="invalid_column_type",
            )
    keep = [i for i, label in enumerate(labels) if label is not None]
    types: dict[str, str] = {}
    columns: dict[str, TableColumn] = {}
    errors: list[FieldError] = []
    for j, name in enumerate(names):
        values = [rows[i][j] for i in keep]
        given = "ignored" if name in drop else column_types.get(name)
        types[name] = given or _infer_values(values, na_values)
        if types[name] == "ignored":
            continue
        column, bad, out_of_range = coerce(values, types[name], na_values)
        for where, code in ((bad, "not_numeric"), (out_of_range, "out_of_range")):
            if where:
                shown = ", ".join(str(keep[i]) for i in where[:5])
                message = f"{len(where)} value(s) do not fit type {types[name]} (rows {shown})"
                errors.append(FieldError(field=f"features.{name}", message=message, code=code))
        columns[name] = CategoryCodes.from_texts(column) if types[name] == "categorical" else column
    if errors:
        raise InvalidInput(f"{len(errors)} bad column(s)", code="invalid_values", errors=errors)
    if not columns:
        raise InvalidInput("every feature column is ignored", code="no_feature_columns")
    kept = [labels[i] for i in keep]
    return RawTable(types, columns, target_name, kept, len(labels) - len(keep))


# The dataset ----------------------------------------------------------------------------------
def encode_targets(
    labels: Labels, task: str | None, settings: Settings
) -> tuple[str, NDArray[Any], list[int | str] | None]:
    """The task, the stored targets (class indices or values) and the classes of ``labels``.

    A column of text classes (codes) or of int64 numbers is encoded by numpy; other labels (a
    list from JSON rows, float classes) by the rules of :mod:`app.services.dataset_input`.
    """
    if isinstance(labels, CategoryCodes):
        if task == "regression":
            raise InvalidInput("regression targets must be numbers", code="labels_do_not_fit_task")
        classes: list[int | str] = list(labels.categories)
        check_class_count(len(classes), task or "auto", settings, classes)
        return _class_task(classes), labels.codes.astype(np.int64), classes
    if isinstance(labels, np.ndarray) and labels.dtype == np.int64 and task != "regression":
        distinct, indices = np.unique(labels, return_inverse=True)
        if task is not None or distinct.size <= MAX_INFERRED_CLASSES:
            classes = distinct.tolist()
            check_class_count(len(classes), task or "auto", settings, classes)
            return _class_task(classes), indices.astype(np.int64), classes
    if isinstance(labels, np.ndarray) and task in (None, "regression"):
        return "regression", labels.astype(np.float64), None
    values: list[Label] = labels.tolist() if isinstance(labels, np.ndarray) else labels
    task = task or infer_task(values)
    if task == "regression":
        return task, _regression_targets(values), None
    targets, classes = _class_targets(values, task, settings)
    return _class_task(classes), targets, classes


def _class_task(classes: Sequence[int | str]) -> str:
    return "binary" if len(classes) == 2 else "multiclass"


def prepare_table(
    raw: RawTable, *, task: str | None, test_fraction: float, seed: int, settings: Settings
) -> PreparedDataset:
    """Encode the labels, split, and profile the columns of ``raw``."""
    m = len(raw.labels)
    if m < 2:
        raise InvalidInput("a dataset needs at least 2 rows", code="too_few_samples")
    task, targets, classes = encode_targets(raw.labels, task, settings)
    try:
        train_idx, test_idx = train_test_split_indices(
            targets, test_fraction, seed, stratify=classes is not None
        )
    except CoreError as error:
        raise InvalidInput(str(error), code="invalid_split") from error
    with ThreadPoolExecutor(max_workers=COLUMN_THREADS) as pool:
        profiles = list(
            pool.map(
                lambda item: column_profile(item[0], item[1], raw.columns.get(item[0])),
                raw.types.items(),
            )
        )
    stats = _finite_or_none(
        {
            "features": [p for p in profiles if p["type"] != "ignored"],
            "columns": profiles,
            "target": _target_stats(targets, classes),
            "split": {"n_train": int(train_idx.size), "n_test": int(test_idx.size)},
            "rows_dropped_missing_target": raw.dropped_rows,
        }
    )
    return PreparedDataset(
        numeric_matrix(raw),
        targets,
        train_idx,
        test_idx,
        task,
        classes,
        raw.feature_names,
        raw.target_name,
        stats,
        raw,
    )


def is_number(value: object) -> bool:
    """Whether ``value`` is a finite JSON number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
