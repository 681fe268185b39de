"""Search request and response bodies, and the edge check of a search's space.

The space is checked against the same bodies ``POST /v1/models`` and ``POST .../train`` accept:
every choice, and both ends of every range, are written into the base model and training options
and validated there, so a search never schedules a trial its first job would refuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError

from app.api.schemas.common import DatasetId, Seed
from app.api.schemas.jobs import TrainRequest
from app.api.schemas.models import ModelCreate
from app.errors import MAX_REPORTED_ERRORS, FieldError, InvalidInput
from app.services.search_params import apply_params, range_kind
from core.search_space import (
    Choice,
    Dimension,
    IntRange,
    SpaceError,
    grid_size,
    parse_space,
)

MAX_TRIALS = 1000
Metric = Literal["accuracy", "log_loss", "f1_macro", "r2", "mse", "val_cost"]
SearchStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TrialStatus = Literal[
    "creating", "running", "pruning", "succeeded", "failed", "pruned", "cancelled"
]
# Fields of the two bodies a search fills in itself.
_OWN_FIELDS = {"base": ("dataset_id",), "train": ("dataset_id", "warm_start")}


class CrossValidationIn(BaseModel):
    """k-fold cross-validation over the dataset's training rows."""

    model_config = ConfigDict(extra="forbid")

    folds: int = Field(ge=2, le=20, examples=[5])
    stratified: bool = Field(default=True, description="Keep class proportions per fold.")


class SearchCreate(BaseModel):
    """A hyperparameter search: trials of ``base`` trained with ``train``, varied over ``space``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "dataset_id": "ds_0123456789abcdef",
                    "base": {"hidden_layers": [{"units": 4, "activation": "tanh"}]},
                    "train": {"n_iter": 2000},
                    "space": {
                        "learning_rate": {"log_uniform": [0.01, 1.0]},
                        "hidden_layers[*].activation": ["tanh", "relu"],
                    },
                    "strategy": "random",
                    "max_trials": 8,
                }
            ]
        },
    )

    dataset_id: DatasetId
    name: str = Field(default="search", min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    base: dict[str, Any] = Field(default_factory=dict, description="As POST /v1/models.")
    train: dict[str, Any] = Field(default_factory=dict, description="As POST .../train.")
    space: dict[str, Any] = Field(description="path -> [choices] or {uniform|log_uniform|int}.")
    strategy: Literal["grid", "random", "tpe"] = "random"
    max_trials: int | None = Field(
        default=None, ge=1, le=MAX_TRIALS, description="Default: the grid's size, else 10."
    )
    max_parallel: int = Field(default=2, ge=1, le=64)
    max_seconds: FiniteFloat | None = Field(default=None, gt=0.0)
    metric: Metric | None = Field(default=None, description="accuracy, or r2 for regression.")
    direction: Literal["maximize", "minimize"] | None = None
    cv: CrossValidationIn | None = None
    seed: Seed = 0
    pruning: Literal["none", "median"] = "none"
    keep: Literal["best", "all"] = "best"


def _field_errors(prefix: str, error: ValidationError, *, at_prefix: bool) -> list[FieldError]:
    errors = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"])
        field, message = (
            (prefix, f"{loc}: {item['msg']}")
            if at_prefix
            else (
                f"{prefix}.{loc}",
                item["msg"],
            )
        )
        errors.append(FieldError(field=field, message=message, code=item["type"]))
    return errors


def _check(dataset_id: str, base: dict[str, Any], train: dict[str, Any], path: str | None) -> None:
    """Raise ``_RefusedError`` unless both bodies validate; errors name ``space.<path>`` when
    checking a space value, else ``base.<field>`` or ``train.<field>``."""
    errors: list[FieldError] = []
    at_path = path is not None
    try:
        ModelCreate(**{"name": "trial", **base, "dataset_id": dataset_id})
    except ValidationError as error:
        errors += _field_errors(path or "base", error, at_prefix=at_path)
    except TypeError as error:
        errors.append(FieldError(field=path or "base", message=str(error), code="invalid_value"))
    try:
        TrainRequest(**{**train, "dataset_id": dataset_id})
    except ValidationError as error:
        errors += _field_errors(path or "train", error, at_prefix=at_path)
    if errors:
        raise _RefusedError(errors)


class _RefusedError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors


def _candidates(path: str, dimension: Dimension) -> list[Any]:
    kind = range_kind(path)
    if isinstance(dimension, Choice):
        return list(dimension.values)
    if kind is None:
        raise SpaceError(path, "takes a list of choices, not a range", "range_not_allowed")
    if kind == "float" and isinstance(dimension, IntRange):
        raise SpaceError(path, "takes a uniform or log_uniform range", "range_not_allowed")
    if kind == "int" and not isinstance(dimension, IntRange):
        raise SpaceError(path, "takes an int range, not a float range", "range_not_allowed")
    if isinstance(dimension, IntRange):
        return [dimension.low, dimension.high]
    return [float(dimension.low), float(dimension.high)]


def _normalized(body: SearchCreate) -> tuple[dict[str, Any], dict[str, Any]]:
    for part, own in _OWN_FIELDS.items():
        given = getattr(body, part)
        for name in own:
            if name in given:
                error = FieldError(
                    field=f"{part}.{name}", message="is set by the search", code="extra"
                )
                raise _RefusedError([error])
    _check(body.dataset_id, body.base, body.train, None)
    model = ModelCreate(**{"name": body.name, **body.base, "dataset_id": body.dataset_id})
    training = TrainRequest(**{**body.train, "dataset_id": body.dataset_id})
    base = model.model_dump(mode="json", exclude={"dataset_id"})
    train = training.model_dump(mode="json", exclude={"dataset_id", "warm_start"})
    return base, train


def _refuse(errors: list[FieldError]) -> InvalidInput:
    fields = ", ".join(e["field"] for e in errors[:5])
    return InvalidInput(
        f"{len(errors)} invalid field(s): {fields}",
        code="invalid_search",
        errors=errors[:MAX_REPORTED_ERRORS],
    )


def validated_search(body: SearchCreate) -> dict[str, Any]:
    """The stored form of a search request, every path and value checked; ``InvalidInput``
    listing each bad field (``space.<path>``, ``base.<field>``, ``max_trials``...) otherwise."""
    try:
        base, train = _normalized(body)
        space = parse_space(body.space)
        for path, dimension in space.items():
            for value in _candidates(path, dimension):
                trial_base, trial_train = apply_params(base, train, {path: value})
                _check(body.dataset_id, trial_base, trial_train, f"space.{path}")
        trials = body.max_trials
        if body.strategy == "grid":
            size = grid_size(space)
            if size > MAX_TRIALS and (trials is None or trials > MAX_TRIALS):
                message = f"the grid has {size} points, more than {MAX_TRIALS} trials"
                error = FieldError(field="space", message=message, code="too_many_trials")
                raise _RefusedError([error])
            trials = min(size, trials or size)
    except SpaceError as error:
        field = "space" if error.path == "space" else f"space.{error.path}"
        raise _refuse([FieldError(field=field, message=error.message, code=error.code)]) from None
    except _RefusedError as refused:
        raise _refuse(refused.errors) from None
    except IndexError:
        message = "names a layer the base architecture does not have"
        raise _refuse([FieldError(field="space", message=message, code="unknown_path")]) from None
    return {
        "name": body.name,
        "base": base,
        "train": train,
        "space": body.space,
        "strategy": body.strategy,
        "max_trials": trials or 10,
        "max_parallel": body.max_parallel,
        "max_seconds": body.max_seconds,
        "metric": body.metric,
        "direction": body.direction,
        "cv": body.cv.model_dump() if body.cv is not None else None,
        "seed": body.seed,
        "pruning": body.pruning,
        "keep": body.keep,
    }


class TrialRead(BaseModel):
    """One trial: its parameters, score (mean and std over the folds) and the model it made."""

    number: int
    status: TrialStatus
    params: dict[str, Any]
    value: float | None
    value_std: float | None
    fold_values: list[float] | None
    train_seconds: float | None
    model_id: str | None
    model_version: int | None
    job_ids: list[str]
    pruned_at: int | None
    error: dict[str, Any] | None


class SearchProgress(BaseModel):
    """How far a search is: trials by state, time spent and expected."""

    max_trials: int
    created: int
    succeeded: int
    running: int
    pruned: int
    failed: int
    cancelled: int
    elapsed_s: float | None
    eta_s: float | None


class SearchRead(BaseModel):
    """A search, its progress, its best trial and its leaderboard (best first)."""

    id: str
    name: str
    dataset_id: str
    status: SearchStatus
    strategy: str
    metric: str
    direction: str
    spec: dict[str, Any]
    progress: SearchProgress
    best_trial: int | None
    best_value: float | None
    best_params: dict[str, Any] | None
    best_model_id: str | None
    leaderboard: list[TrialRead]
    trials: list[TrialRead]
    error: dict[str, Any] | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SearchSummary(BaseModel):
    """A search in a list: status, progress and best score, without its trials."""

    id: str
    name: str
    dataset_id: str
    status: SearchStatus
    strategy: str
    metric: str
    progress: SearchProgress
    best_value: float | None
    best_model_id: str | None
    created_at: datetime
    finished_at: datetime | None


class SearchPage(BaseModel):
    """A page of searches."""

    items: list[SearchSummary]
    total: int
    limit: int
    offset: int
