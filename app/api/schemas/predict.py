"""Bodies of predict, accuracy and evaluate.

``PredictRequest`` documents the predict body; the endpoint itself parses the bytes and checks
the rows with numpy (see :mod:`app.services.predictions`) because pydantic validation of large
row lists would cost more than the prediction.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat

from app.api.schemas.common import ClassLabel, DatasetId, TargetValue

Split = Literal["train", "test", "all"]


Records = Annotated[
    list[dict[str, float | str | bool | None]] | None,
    Field(
        min_length=1,
        description="A table model's rows keyed by column name (any order; null for missing).",
    ),
]
"""Rows of a table model by column name, as predict and evaluate take them."""


class PredictRequest(BaseModel):
    """Rows to predict: ``inputs`` (one list of values per row) or, for a table model,
    ``records`` (objects keyed by column name)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"inputs": [[0.5, -1.0], [1.2, 0.3]]},
                {"records": [{"size": 3.5, "colour": "red", "when": "2021-03-04"}]},
                {"inputs": [[3.5, "red", None]]},
            ]
        },
    )

    inputs: list[list[float | str | bool | None]] | None = Field(
        default=None,
        min_length=1,
        description="Rows (m, n_inputs); a table model's rows hold its columns in upload order.",
    )
    records: Records = None
    version: int | None = Field(
        default=None, ge=0, le=2_147_483_647, description="Parameter version (default: current)."
    )


class PredictResponse(BaseModel):
    """Predictions: class labels (classifiers) or values (regressors), one per row."""

    model_id: str
    model_version: int
    trained: bool = Field(description="False when version 0 (the initialization) answered.")
    predictions: list[ClassLabel | float | list[float]]
    probabilities: list[list[float]] | None = Field(
        default=None, description="(m, k) per-class probabilities, in the order of classes."
    )
    classes: list[ClassLabel] | None = None
    warnings: list[str] | None = Field(
        default=None,
        description="A table model's notes: ignored columns, values unseen in training.",
    )


class AccuracyRead(BaseModel):
    """Share of correctly classified samples of a dataset split."""

    accuracy: float
    n_samples: int
    model_id: str
    model_version: int
    trained: bool
    dataset_id: str | None
    split: Split | None


class EvaluateRequest(BaseModel):
    """What to score: a stored dataset (and split), or inline rows with their targets."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"dataset_id": "ds_0123456789abcdef", "split": "test"},
                {"inputs": [[0.0, 0.0], [1.0, 1.0]], "targets": [0, 1]},
                {"inputs": [[3.5, "red", None], [1.0, "blue", "2021-03-04"]], "targets": [0, 1]},
                {"records": [{"size": 3.5, "colour": "red"}], "targets": ["yes"]},
            ]
        },
    )

    dataset_id: DatasetId | None = None
    split: Split = "test"
    inputs: list[list[FiniteFloat | str | bool | None]] | None = Field(
        default=None,
        min_length=1,
        description="Rows (m, n_inputs); a table model's rows hold its columns in upload order.",
    )
    records: Records = None
    targets: list[TargetValue | list[FiniteFloat]] | None = Field(default=None, min_length=1)
    version: int | None = Field(default=None, ge=0, le=2_147_483_647)


class PerClassRead(BaseModel):
    """Scores of one class."""

    label: ClassLabel
    precision: float
    recall: float
    f1: float
    support: int


class AverageRead(BaseModel):
    """Averaged precision, recall and F1."""

    precision: float
    recall: float
    f1: float


class EvaluationRead(BaseModel):
    """The report: classification fields for classifiers, regression fields for regressors."""

    task: str
    n_samples: int
    model_id: str
    model_version: int
    trained: bool
    dataset_id: str | None = Field(default=None, description="Absent for inline rows.")
    split: Split | None = Field(default=None, description="Absent for inline rows.")
    accuracy: float | None = None
    log_loss: float | None = None
    classes: list[ClassLabel] | None = None
    confusion_matrix: list[list[int]] | None = Field(
        default=None, description="Rows: true class; columns: predicted class (order of classes)."
    )
    per_class: list[PerClassRead] | None = None
    macro_avg: AverageRead | None = None
    weighted_avg: AverageRead | None = None
    mse: float | None = None
    rmse: float | None = None
    mae: float | None = None
    r2: float | None = None
