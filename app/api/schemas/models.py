"""Model request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasPath, BaseModel, ConfigDict, Field

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
