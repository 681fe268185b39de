"""Bodies of job pause control, live snapshots and neuron maps."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_STEP = 1_000_000


class StepRequest(BaseModel):
    """Train this many more passes, then pause again."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"iterations": 10}]})

    iterations: int = Field(default=1, ge=1, le=MAX_STEP)


class SnapshotRead(BaseModel):
    """A job's latest parameters: ``W1, b1, ...`` after ``iteration`` passes."""

    job_id: str
    model_id: str
    status: str
    iteration: int
    n_iter: int
    cost: float | None
    parameters: dict[str, list[list[float]]]


class NeuronLayer(BaseModel):
    """One layer: each unit's output over the grid (``values[unit][k]``), and its parameters."""

    layer: int
    activation: str
    units: int
    min: float
    max: float
    values: list[list[float]]
    W: list[list[float]]
    b: list[float]


class NeuronMapsRead(BaseModel):
    """Every input feature and unit output on a ``resolution x resolution`` grid over ``extent``
    of the two raw inputs.

    Grid point ``k`` is row ``k // resolution`` (from ``x2_min`` up) and column
    ``k % resolution`` (from ``x1_min`` right); ``extent`` is ``[x1_min, x1_max, x2_min, x2_max]``.
    ``inputs[f][k]`` is the network's input feature ``input_names[f]`` (after the model's
    preprocessing: scaled columns and derived features such as ``x1^2``) at point ``k``.
    """

    model_id: str
    version: int | None = None
    job_id: str | None = None
    iteration: int | None = None
    resolution: int
    extent: list[float]
    input_names: list[str]
    inputs: list[list[float]]
    layers: list[NeuronLayer]
