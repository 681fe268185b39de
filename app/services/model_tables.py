"""Models of tables: which models get a preprocessing stage, fitting it, and the dataset checks.

A model gets a stage (:class:`core.pipeline.Preprocessor`) when its dataset is a table (an
upload, or JSON rows with text or nulls) or when the client asks for preprocessing or derived
features; other models take rows of numbers as they are. The stage is fitted on the dataset's
training split when the model is created (this fixes the network's inputs: categories, date
parts, indicator columns) and its statistics are fitted again on the job's training rows
whenever a job trains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInput
from app.storage.table_columns import TABLE_KEY
from app.storage.tables import DatasetRow
from core.encoders import EncodingOptions
from core.errors import CoreError
from core.pipeline import Preprocessor
from core.table_values import Table


@dataclass(frozen=True)
class PreprocessingSpec:
    """What a client asks of the stage (already type-checked at the edge)."""

    impute: str = "median"
    fill_value: float = 0.0
    scaling: str = "standard"
    max_categories: int | None = None
    missing_indicators: bool = False
    derived_features: Sequence[str] = field(default_factory=tuple)

    def options(self) -> EncodingOptions:
        """Core's encoding options."""
        return EncodingOptions(
            self.impute, self.fill_value, self.scaling, self.max_categories, self.missing_indicators
        )


def dataset_columns(dataset: DatasetRow) -> list[tuple[str, str]]:
    """The dataset's feature columns and their types, in order (all numeric for numbers)."""
    profiles = dataset.stats.get(TABLE_KEY)
    if profiles is None:
        return [(name, "numeric") for name in dataset.feature_names]
    return [(p["name"], p["type"]) for p in profiles if p["type"] != "ignored"]


def is_table(dataset: DatasetRow) -> bool:
    """Whether the dataset holds typed columns."""
    return TABLE_KEY in dataset.stats


def has_number_rows(dataset: DatasetRow) -> bool:
    """Whether the dataset's features are finite numbers throughout (its ``features`` array)."""
    profiles = dataset.stats.get(TABLE_KEY)
    if profiles is None:
        return True
    used = [p for p in profiles if p["type"] != "ignored"]
    return all(p["type"] == "numeric" and p.get("missing", 0) == 0 for p in used)


def fit_stage(
    table: Table,
    columns: Sequence[tuple[str, str]],
    spec: PreprocessingSpec,
    targets: NDArray[np.float64] | None,
    center_targets: bool,
) -> Preprocessor:
    """A stage fitted on training rows ``table``, or ``InvalidInput`` naming the bad option."""
    try:
        return Preprocessor.fit(
            table,
            columns,
            spec.options(),
            derived=spec.derived_features,
            targets=targets,
            center_targets=center_targets,
        )
    except CoreError as error:
        raise InvalidInput(str(error), code="invalid_preprocessing") from error


def check_table_dataset(schema: Sequence[Mapping[str, Any]], dataset: DatasetRow, use: str) -> None:
    """``InvalidInput`` unless ``dataset`` has every column of ``schema`` with its type."""
    have = dict(dataset_columns(dataset))
    for column in schema:
        name, kind = column["name"], column["type"]
        if name not in have:
            raise InvalidInput(
                f"the model cannot {use} dataset {dataset.id}: it has no column {name!r}",
                code="columns_mismatch",
            )
        if have[name] != kind:
            raise InvalidInput(
                f"the model cannot {use} dataset {dataset.id}: column {name!r} is "
                f"{have[name]} there, {kind} in the model",
                code="columns_mismatch",
            )
