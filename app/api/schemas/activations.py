"""The activation functions a network may use, as ``GET /v1/activations`` lists them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.common import Task


class ActivationRead(BaseModel):
    """One activation function and where in a network it may be used."""

    name: str = Field(examples=["tanh"])
    hidden: bool = Field(description="May be a hidden layer's activation.")
    output: bool = Field(description="May be the output activation.")


class ActivationsRead(BaseModel):
    """Every activation the API accepts, and the output activations each task allows."""

    activations: list[ActivationRead]
    outputs_by_task: dict[Task, list[str]] = Field(
        description="Output activations a task allows; the first is its default."
    )
