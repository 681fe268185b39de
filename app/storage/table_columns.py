"""How a dataset file holds typed columns: per-column arrays plus their description in the
file's JSON metadata (categories as codes and their texts, no pickle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.storage.tables import DatasetRow
from core.table_values import CategoryCodes, Column, Table

TABLE_KEY = "columns"
"""The metadata key that describes the stored columns (absent in a numeric-only file)."""


def columns_from_arrays(
    arrays: Mapping[str, NDArray[Any]], metadata: Mapping[str, Any]
) -> dict[str, Column] | None:
    """The feature columns stored by :func:`table_arrays`; None for a numeric-only file."""
    described = metadata.get(TABLE_KEY)
    if described is None:
        return None
    columns: dict[str, Column] = {}
    for j, entry in enumerate(described):
        if entry["type"] == "categorical":
            coded = CategoryCodes(arrays[f"col{j}"], tuple(arrays[f"cat{j}"].tolist()))
            columns[entry["name"]] = coded.texts()
        else:
            columns[entry["name"]] = arrays[f"col{j}"]
    return columns


def stored_table(
    arrays: Mapping[str, NDArray[Any]], metadata: Mapping[str, Any], dataset: DatasetRow
) -> dict[str, Column]:
    """The dataset's feature columns, from its file's arrays and metadata."""
    columns = columns_from_arrays(arrays, metadata)
    if columns is not None:
        return columns
    features = arrays["features"]
    return {name: features[:, j] for j, name in enumerate(dataset.feature_names)}


def rows_of(table: Mapping[str, Column], index: NDArray[np.int64]) -> Table:
    """The rows ``index`` of every column."""
    return {name: column[index] for name, column in table.items()}
