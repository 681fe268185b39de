"""Run comparison bodies: the runs asked for, and each run's settings, scores and curve."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.services.run_comparison import MAX_RUNS


class RunRefIn(BaseModel):
    """A model version to compare (its current version by default)."""

    model_config = ConfigDict(extra="forbid")

    model_id: str = Field(examples=["mdl_0123456789abcdef"])
    version: int | None = Field(default=None, ge=0, description="Default: the current version.")


class CompareRequest(BaseModel):
    """The runs to put side by side, in the order they are shown."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "models": [
                        {"model_id": "mdl_0123456789abcdef"},
                        {"model_id": "mdl_fedcba9876543210", "version": 1},
                    ]
                }
            ]
        },
    )

    models: list[RunRefIn] = Field(min_length=1, max_length=MAX_RUNS)


class CostCurveRead(BaseModel):
    """A run's recorded costs, thinned to about 200 points (None: a non-finite cost)."""

    iterations: list[int]
    costs: list[float | None]
    val_iterations: list[int]
    val_costs: list[float | None]


class RunRead(BaseModel):
    """One run: the model version, the settings it was built and trained with, its scores on
    its training and validation rows, and its cost curve."""

    model_id: str
    name: str
    task: str
    version: int
    job_id: str | None
    trained: bool = Field(description="False for a version not produced by training.")
    settings: dict[str, Any]
    train: dict[str, Any] | None
    validation: dict[str, Any] | None
    final_cost: float | None
    best_val_cost: float | None
    iterations: int | None
    stop_reason: str | None
    training_seconds: float | None
    curve: CostCurveRead | None


class ComparisonRead(BaseModel):
    """The runs side by side, and the names of the settings that differ between them."""

    runs: list[RunRead]
    differences: list[str]
