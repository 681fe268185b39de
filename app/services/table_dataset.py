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
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import FieldError, InvalidInput
from app.services.dataset_input import (
    PreparedDataset,
    _class_targets,
    _finite_or_none,
    _regression_targets,
    _target_stats,
    infer_task,
)
from app.services.table_upload import RawTable
from app.settings import Settings
from app.storage.table_columns import TABLE_KEY
from core.errors import CoreError
from core.preprocessing import train_test_split_indices
from core.table_values import COLUMN_TYPES, DEFAULT_NA_VALUES, Column, coerce, missing_mask

TOP_CATEGORIES = 10


# Profiles -------------------------------------------------------------------------------------
def column_profile(name: str, kind: str, column: Column | None, m: int) -> dict[str, Any]:
    """Type, missing and distinct counts, number statistics or the most frequent categories."""
    profile: dict[str, Any] = {"name": name, "type": kind}
    if column is None:
        return profile
    missing = missing_mask(column)
    profile["missing"] = int(missing.sum())
    if kind == "categorical":
        counts = Counter(v for v in column if v is not None)
        profile["distinct"] = len(counts)
        profile["top"] = [
            {"value": value, "count": count} for value, count in counts.most_common(TOP_CATEGORIES)
        ]
        return profile
    present = np.asarray(column[~missing], dtype=np.float64)
    profile["distinct"] = int(np.unique(present).size)
    if present.size:
        with np.errstate(over="ignore", invalid="ignore"):
            profile |= {
                "min": float(present.min()),
                "max": float(present.max()),
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
        if kind == "categorical":
            texts = [v for v in column if v is not None]
            categories = sorted(set(texts))
            lookup = {c: i for i, c in enumerate(categories)}
            arrays[f"col{j}"] = np.array(
                [-1 if v is None else lookup[v] for v in column], dtype=np.int32
            )
            arrays[f"cat{j}"] = np.array(categories, dtype=str)
        else:
            arrays[f"col{j}"] = np.asarray(column, dtype=np.float64)
    return arrays, {TABLE_KEY: described}


def numeric_matrix(raw: RawTable) -> NDArray[np.float64]:
    """``features`` ``(m, n)`` of an all-numeric table without missing values, else ``(m, 0)``."""
    m = len(raw.labels)
    names = raw.feature_names
    if all(raw.types[n] == "numeric" for n in names):
        matrix = np.column_stack([raw.columns[n] for n in names]).astype(np.float64)
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
    columns: dict[str, Column] = {}
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
        columns[name] = column
    if errors:
        raise InvalidInput(f"{len(errors)} bad column(s)", code="invalid_values", errors=errors)
    if not columns:
        raise InvalidInput("every feature column is ignored", code="no_feature_columns")
    kept = [labels[i] for i in keep]
    return RawTable(types, columns, target_name, kept, len(labels) - len(keep))


# The dataset ----------------------------------------------------------------------------------
def prepare_table(
    raw: RawTable, *, task: str | None, test_fraction: float, seed: int, settings: Settings
) -> PreparedDataset:
    """Encode the labels, split, and profile the columns of ``raw``."""
    labels = raw.labels
    m = len(labels)
    if m < 2:
        raise InvalidInput("a dataset needs at least 2 rows", code="too_few_samples")
    task = task or infer_task(labels)
    classes: list[int | str] | None = None
    if task == "regression":
        targets: NDArray[Any] = _regression_targets(labels)
    else:
        targets, classes = _class_targets(labels, task, settings)
        task = "binary" if len(classes) == 2 else "multiclass"
    try:
        train_idx, test_idx = train_test_split_indices(
            targets, test_fraction, seed, stratify=classes is not None
        )
    except CoreError as error:
        raise InvalidInput(str(error), code="invalid_split") from error
    profiles = [
        column_profile(name, kind, raw.columns.get(name), m) for name, kind in raw.types.items()
    ]
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
