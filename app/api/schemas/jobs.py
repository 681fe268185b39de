"""Training-job request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, FiniteFloat

from app.api.schemas.common import DatasetId, Seed
from core.optimizers import OPTIMIZERS
from core.training_options import TrainingOptions

# Core's optimizer table itself (as the activations in common.py); type checkers see strings.
if TYPE_CHECKING:
    Optimizer = str
else:
    Optimizer = Literal[tuple(OPTIMIZERS)]
DEFAULT = TrainingOptions()
JobStatus = Literal["queued", "running", "paused", "succeeded", "failed", "cancelled"]
Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class EarlyStoppingIn(BaseModel):
    """Stop when the validation cost has not improved by ``min_delta`` for ``patience`` records."""

    model_config = ConfigDict(extra="forbid")

    patience: int = Field(ge=1, le=1_000_000, examples=[20])
    min_delta: FiniteFloat = Field(default=0.0, ge=0.0)


class TrainRequest(BaseModel):
    """Hyperparameters of one training run (defaults are the notes' ``fit``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"dataset_id": "ds_0123456789abcdef", "n_iter": 10000, "learning_rate": 0.1}
            ]
        },
    )

    dataset_id: DatasetId
    n_iter: int = Field(default=DEFAULT.n_iter, ge=1, description="Passes over the training data.")
    learning_rate: FiniteFloat = Field(
        default=DEFAULT.learning_rate,
        gt=0.0,
        validation_alias=AliasChoices("learning_rate", "lambd"),
        description="The notes' lambd (also accepted under that name).",
    )
    batch_size: int | None = Field(
        default=None, ge=1, description="null: full batch, as in the notes."
    )
    optimizer: Optimizer = DEFAULT.optimizer
    l2: FiniteFloat = Field(default=DEFAULT.l2, ge=0.0)
    validation: Literal["test"] | Fraction | None = Field(
        default=None,
        description="'test': the dataset's stored test split; a number: that fraction of the "
        "training rows, carved out with the seed; null: no validation.",
    )
    early_stopping: EarlyStoppingIn | None = None
    tol: FiniteFloat | None = Field(default=None, ge=0.0)
    max_seconds: FiniteFloat | None = Field(default=None, gt=0.0)
    record_every: int = Field(
        default=DEFAULT.record_every, ge=1, description="Record the cost every k passes."
    )
    seed: Seed = Field(default=DEFAULT.seed, description="Shuffling and validation carving.")
    warm_start: bool = Field(
        default=False, description="Continue from the current version instead of version 0."
    )


class JobProgress(BaseModel):
    """Where a job is: iteration, share done, latest costs, time spent and expected."""

    iteration: int
    n_iter: int
    fraction: float
    cost: float | None
    val_cost: float | None
    elapsed_s: float
    eta_s: float | None


class JobError(BaseModel):
    """Why a job failed: ``diverged``, ``interrupted``, ``invalid_input`` or ``internal``."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class JobResult(BaseModel):
    """The outcome of a successful job."""

    model_config = ConfigDict(extra="allow")

    stop_reason: str
    n_iter: int
    final_cost: float
    train: dict[str, Any]
    validation: dict[str, Any] | None
    version: int
    elapsed_s: float
    best_iteration: int | None = None
    best_val_cost: float | None = None
    resumed_from_iteration: int | None = None


class JobRead(BaseModel):
    """A training job."""

    id: str
    model_id: str
    dataset_id: str
    status: JobStatus
    params: dict[str, Any]
    progress: JobProgress | None
    result: JobResult | None
    error: JobError | None
    attempts: int
    cancel_requested: bool
    pause_requested: bool = False
    pause_at: int | None = Field(
        default=None, description="Step mode: the iteration at which the job pauses again."
    )
    produced_version: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(BaseModel):
    """A page of jobs."""

    items: list[JobRead]
    total: int
    limit: int
    offset: int


class JobHistoryRead(BaseModel):
    """Recorded costs: ``costs[k]`` at ``iterations[k]``, validation likewise."""

    job_id: str
    iterations: list[int]
    costs: list[float]
    val_iterations: list[int]
    val_costs: list[float]
