"""Model request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasPath, BaseModel, ConfigDict, Field, FiniteFloat

from app.api.schemas.common import (
    ClassLabel,
    DatasetId,
    Distribution,
    Dtype,
    HiddenActivation,
    Init,
    Name,
    OutputActivation,
    Seed,
    Task,
)


class HiddenLayer(BaseModel):
    """One hidden layer."""

    model_config = ConfigDict(extra="forbid", strict=True)

    units: int = Field(gt=0, examples=[4])
    activation: HiddenActivation = "tanh"


class PreprocessingCreate(BaseModel):
    """How a table model encodes its columns (fitted on training rows when a job trains)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    impute: Literal["median", "mean", "constant"] = "median"
    fill_value: FiniteFloat = Field(default=0.0, description="The value of impute=constant.")
    scaling: Literal["standard", "minmax", "none"] = "standard"
    max_categories: int | None = Field(
        default=None, ge=1, le=1000, description="Keep the N most frequent categories, plus other."
    )
    missing_indicators: bool = Field(
        default=False, description="A 0/1 column per column that had missing training values."
    )


class ColumnSchema(BaseModel):
    """One input column of a table model."""

    name: str
    type: Literal["numeric", "categorical", "boolean", "datetime"]
    encoded_width: int = Field(description="Network inputs the column becomes.")
    categories: list[str] | None = None


class ModelCreate(BaseModel):
    """A new network; its parameters are initialized at creation and stored as version 0."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "notes-2-4-1",
                    "task": "binary",
                    "n_inputs": 2,
                    "hidden_layers": [{"units": 4, "activation": "tanh"}],
                    "init": "glorot",
                    "seed": 2,
                }
            ]
        },
    )

    name: Name
    description: str = Field(default="", max_length=2000, pattern=r"^[^\x00]*$")
    task: Task | None = Field(default=None, description="Taken from the dataset when left out.")
    n_inputs: int | None = Field(default=None, gt=0)
    hidden_layers: list[HiddenLayer] = Field(
        default_factory=lambda: [HiddenLayer(units=4, activation="tanh")]
    )
    output_activation: OutputActivation | None = Field(
        default=None, description="sigmoid (binary), softmax (multiclass), linear (regression)."
    )
    classes: list[ClassLabel] | None = Field(default=None, min_length=2)
    n_outputs: int | None = Field(default=None, gt=0)
    init: Init = "auto"
    distribution: Distribution = "normal"
    seed: Seed = 2
    dtype: Dtype = "float64"
    dataset_id: DatasetId | None = Field(
        default=None, description="Stands in for n_inputs, task and classes."
    )
    preprocessing: PreprocessingCreate | None = Field(
        default=None,
        description="Encoding of the dataset's columns (a table dataset gets the defaults).",
    )
    derived_features: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=100,
        description="Extra inputs from numeric columns: products, powers, sin, cos.",
        examples=[["x1^2", "x1*x2", "sin(x1)"]],
    )


class ModelUpdate(BaseModel):
    """Fields a client may change after creation."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"name": "circle-net", "description": "first try"}]},
    )

    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00]*$")


class ModelRead(BaseModel):
    """A model's architecture and state."""

    id: str
    name: str
    description: str
    task: Task
    n_inputs: int
    n_outputs: int
    classes: list[int | str] | None
    hidden_layers: list[HiddenLayer] = Field(
        validation_alias=AliasPath("architecture", "hidden_layers")
    )
    output_activation: OutputActivation = Field(
        validation_alias=AliasPath("architecture", "output_activation")
    )
    init: Init
    distribution: Distribution
    seed: int
    dtype: Dtype
    architecture: dict[str, Any]
    n_parameters: int
    current_version: int
    status: Literal["ready", "training"]
    latest_metrics: dict[str, Any] | None
    dataset_id: str | None
    input_schema: list[ColumnSchema] | None = Field(
        default=None,
        validation_alias=AliasPath("architecture", "input_schema"),
        description="A table model's input columns in upload order; null: rows of numbers.",
    )
    created_at: datetime
    updated_at: datetime


class ModelPage(BaseModel):
    """A page of models."""

    items: list[ModelRead]
    total: int
    limit: int
    offset: int


class ModelVersionRead(BaseModel):
    """One immutable parameter version."""

    version: int
    current: bool
    created_at: datetime
    job_id: str | None
    metrics: dict[str, Any] | None
    note: str


class ParameterRead(BaseModel):
    """One parameter matrix (``W`` is ``(n_l, n_{l-1})``, ``b`` is ``(n_l, 1)``)."""

    name: str
    shape: list[int]
    values: list[list[float]]


class ParametersRead(BaseModel):
    """All parameters of one version."""

    model_id: str
    version: int
    dtype: Dtype
    parameters: list[ParameterRead]
