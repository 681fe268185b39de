"""A trial as jobs: the models and jobs of one trial (one per fold), and its score.

Models are named after their search, trial and fold, so creating a trial's jobs again (after a
scheduler died half-way) finds what was already made instead of training it twice.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from app.jobs.job_spec import JobSpec
from app.services.model_spec import HiddenLayerSpec, ModelSpec
from app.services.search_params import apply_params
from app.services.searches import finite_or_none
from app.storage.search_tables import SearchRow, TrialRow
from app.storage.tables import JobRow


def model_name(search_id: str, number: int, fold: int | None) -> str:
    """The name of a trial's model (``srch_..-t3`` or, with cross-validation, ``-t3-f1``)."""
    return f"{search_id}-t{number}" + (f"-f{fold}" if fold is not None else "")


@dataclass(frozen=True)
class TrialPlan:
    """What one trial trains: a model spec and a job spec per fold."""

    models: list[ModelSpec]
    jobs: list[JobSpec]


def _model_spec(base: dict[str, Any], name: str, dataset_id: str, description: str) -> ModelSpec:
    return ModelSpec(
        name=name,
        task=base.get("task"),
        n_inputs=base.get("n_inputs"),
        hidden_layers=tuple(
            HiddenLayerSpec(int(layer["units"]), str(layer["activation"]))
            for layer in base.get("hidden_layers", [])
        ),
        output_activation=base.get("output_activation"),
        classes=base.get("classes"),
        n_outputs=base.get("n_outputs"),
        init=base.get("init", "auto"),
        distribution=base.get("distribution", "normal"),
        seed=int(base.get("seed", 2)),
        dtype=base.get("dtype", "float64"),
        dataset_id=dataset_id,
        description=description,
    )


def _job_spec(train: dict[str, Any], validation: str | float | dict[str, Any] | None) -> JobSpec:
    options = {k: v for k, v in train.items() if k not in ("early_stopping", "validation")}
    stopping = train.get("early_stopping")
    return JobSpec.create(
        validation=validation,
        patience=stopping["patience"] if stopping else None,
        min_delta=stopping["min_delta"] if stopping else 0.0,
        **options,
    )


def plan_trial(search: SearchRow, trial: TrialRow) -> TrialPlan:
    """The models and jobs of ``trial``: one of each, or one per fold with cross-validation."""
    spec = search.spec
    base, train = apply_params(spec["base"], spec["train"], trial.params)
    description = f"trial {trial.number} of search {search.id}"
    cv = spec.get("cv")
    if cv is None:
        name = model_name(search.id, trial.number, None)
        model = _model_spec(base, name, search.dataset_id, description)
        return TrialPlan([model], [_job_spec(train, spec["validation"])])
    models, jobs = [], []
    for fold in range(int(cv["folds"])):
        name = model_name(search.id, trial.number, fold)
        models.append(_model_spec(base, name, search.dataset_id, f"{description}, fold {fold}"))
        validation = {
            "folds": int(cv["folds"]),
            "fold": fold,
            "stratified": bool(cv["stratified"]),
            "seed": int(train["seed"]),
        }
        jobs.append(_job_spec(train, validation))
    return TrialPlan(models, jobs)


def job_score(job: JobRow, metric: str) -> float | None:
    """The job's validation score for ``metric`` (``val_cost``: its last validation cost)."""
    if metric == "val_cost":
        return finite_or_none((job.progress or {}).get("val_cost"))
    validation = (job.result or {}).get("validation") or {}
    return finite_or_none(validation.get(metric))


@dataclass(frozen=True)
class TrialScore:
    """A trial's score over its folds: mean, population standard deviation, each fold's."""

    value: float
    std: float
    folds: list[float]
    train_seconds: float


def score_trial(jobs: list[JobRow], metric: str) -> TrialScore | None:
    """The score of a trial whose jobs all succeeded; None if one has no score."""
    values = [job_score(job, metric) for job in jobs]
    if any(v is None for v in values):
        return None
    folds = [float(v) for v in values if v is not None]
    seconds = sum(float((job.result or {}).get("elapsed_s", 0.0)) for job in jobs)
    std = statistics.pstdev(folds) if len(folds) > 1 else 0.0
    return TrialScore(statistics.fmean(folds), std, folds, seconds)
