"""Dataset request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasPath, BaseModel, ConfigDict, Field, FiniteFloat

from app.api.schemas.common import GeneratorKind, Name, Seed, TargetValue, Task

Cell = FiniteFloat | bool | Annotated[str, Field(max_length=10_000)] | None
ColumnType = Literal["numeric", "categorical", "boolean", "datetime", "ignored"]
TestFraction = Field(default=0.2, ge=0.0, le=0.9, description="Share of samples held out.")


class DatasetCreate(BaseModel):
    """A dataset sent as JSON rows: ``features`` is ``(m, n)``, ``targets`` has ``m`` entries."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "four points",
                    "features": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
                    "targets": ["no", "yes", "yes", "no"],
                    "feature_names": ["a", "b"],
                    "test_fraction": 0.25,
                }
            ]
        },
    )

    name: Name
    features: list[list[Cell]] = Field(
        description="Rows (m, n), one sample per row: numbers, or a table's mixed values "
        "(text, booleans, ISO dates, null for missing)."
    )
    targets: list[TargetValue | None] = Field(
        description="One per row: class labels (ints or strings) or regression values; "
        "rows of a table whose target is null are dropped."
    )
    column_types: dict[str, ColumnType] | None = Field(
        default=None, description="Column types to use instead of the inferred ones."
    )
    drop: list[str] = Field(default_factory=list, description="Columns to ignore.")
    na_values: list[str] | None = Field(
        default=None, description='Texts read as missing (default "", NA, NaN, null, None, ?).'
    )
    feature_names: list[Name] | None = None
    target_name: Name = "y"
    task: Task | None = Field(default=None, description="Inferred from the targets when left out.")
    test_fraction: float = TestFraction
    seed: Seed = Field(default=0, description="Seed of the train/test split.")


class DatasetGenerate(BaseModel):
    """A toy dataset from the playground's generators."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"kind": "circle", "n_samples": 400, "noise": 0.1, "seed": 0}]
        },
    )

    kind: GeneratorKind
    n_samples: int = Field(default=400, ge=2)
    noise: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: Seed = 0
    n_classes: int | None = Field(
        default=None, ge=2, le=10, description="Arms of 'spiral' or blobs of 'gauss'."
    )
    name: Name | None = None
    test_fraction: float = TestFraction


class DatasetRead(BaseModel):
    """A dataset's description: shape, task, classes, split and per-feature statistics."""

    id: str
    name: str
    task: Task
    n_samples: int
    n_features: int
    feature_names: list[str]
    target_name: str
    classes: list[int | str] | None
    test_fraction: float
    split_seed: int
    n_train: int = Field(validation_alias=AliasPath("stats", "split", "n_train"))
    n_test: int = Field(validation_alias=AliasPath("stats", "split", "n_test"))
    source: dict[str, Any]
    stats: dict[str, Any]
    created_at: datetime


class DatasetPage(BaseModel):
    """A page of datasets."""

    items: list[DatasetRead]
    total: int
    limit: int
    offset: int


class DatasetData(BaseModel):
    """A dataset's rows, labels as clients gave them, and which rows are held out."""

    id: str
    subset: Literal["all", "train", "test"]
    feature_names: list[str]
    target_name: str
    features: list[list[float | str | bool | None]]
    targets: list[int | float | str]
    split: list[Literal["train", "test"]]
