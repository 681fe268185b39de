"""Search use cases: create (checked against its dataset), read with its leaderboard, list,
cancel, delete.

A search only writes its own rows here; the scheduler (:mod:`app.services.search_scheduler`),
running next to the job executor, turns it into trial jobs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import Conflict, FieldError, InvalidInput, NotFound
from app.ids import DATASET, SEARCH, is_valid_id, new_id, validate_id
from app.settings import Settings
from app.storage.db import Database
from app.storage.repositories import DatasetRepository
from app.storage.search_repository import SearchRepository
from app.storage.search_tables import (
    SEARCH_ACTIVE_STATUSES,
    TRIAL_ACTIVE_STATUSES,
    SearchRow,
    TrialRow,
)
from app.storage.tables import DatasetRow, utcnow

# Metric -> (tasks it applies to, the direction that is better).
METRICS: dict[str, tuple[tuple[str, ...], str]] = {
    "accuracy": (("binary", "multiclass"), "maximize"),
    "log_loss": (("binary", "multiclass"), "minimize"),
    "f1_macro": (("binary", "multiclass"), "maximize"),
    "r2": (("regression",), "maximize"),
    "mse": (("regression",), "minimize"),
    "val_cost": (("binary", "multiclass", "regression"), "minimize"),
}
DEFAULT_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}
DEFAULT_VALIDATION_FRACTION = 0.2


def search_not_found(search_id: str) -> NotFound:
    """The error for an unknown search id."""
    return NotFound(f"no search with id {search_id}", code="search_not_found")


def _invalid(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput(
        f"{field}: {message}",
        code=code,
        errors=[FieldError(field=field, message=message, code=code)],
    )


@dataclass(frozen=True)
class SearchView:
    """A search row with its trials, ranked, and its progress."""

    row: SearchRow
    trials: list[TrialRow]

    @property
    def spec(self) -> dict[str, Any]:
        """The stored request."""
        return self.row.spec

    def leaderboard(self) -> list[TrialRow]:
        """The succeeded trials, best first (ties: the earlier trial)."""
        sign = -1.0 if self.spec["direction"] == "maximize" else 1.0
        done = [t for t in self.trials if t.status == "succeeded" and t.value is not None]
        return sorted(done, key=lambda t: (sign * float(t.value or 0.0), t.number))

    def progress(self, now: datetime | None = None) -> dict[str, Any]:
        """Trials by state, seconds since the start and the expected remainder."""
        counts = {s: 0 for s in ("succeeded", "running", "pruned", "failed", "cancelled")}
        for trial in self.trials:
            state = "running" if trial.status in TRIAL_ACTIVE_STATUSES else trial.status
            counts[state] += 1
        started, finished = self.row.started_at, self.row.finished_at
        elapsed = None
        if started is not None:
            elapsed = ((finished or now or utcnow()) - started).total_seconds()
        ended = counts["succeeded"] + counts["pruned"] + counts["failed"] + counts["cancelled"]
        total = int(self.spec["max_trials"])
        eta = None
        if self.row.status in SEARCH_ACTIVE_STATUSES and elapsed is not None and ended:
            eta = elapsed / ended * max(0, total - ended)
            if self.spec.get("max_seconds") is not None:
                eta = min(eta, max(0.0, float(self.spec["max_seconds"]) - elapsed))
        elif self.row.status not in SEARCH_ACTIVE_STATUSES:
            eta = 0.0
        return {
            "max_trials": total,
            "created": len(self.trials),
            **counts,
            "elapsed_s": elapsed,
            "eta_s": eta,
        }


def trial_body(trial: TrialRow) -> dict[str, Any]:
    """The JSON form of a trial (the model is the first fold's)."""
    return {
        "number": trial.number,
        "status": trial.status,
        "params": trial.params,
        "value": trial.value,
        "value_std": trial.value_std,
        "fold_values": trial.fold_values,
        "train_seconds": trial.train_seconds,
        "model_id": trial.model_ids[0] if trial.model_ids else None,
        "model_version": trial.model_version,
        "job_ids": trial.job_ids,
        "pruned_at": trial.pruned_at,
        "error": trial.error,
    }


class SearchService:
    """Create, read, list, cancel and delete searches."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    # Creation ------------------------------------------------------------------------------
    def _dataset(self, dataset_id: str) -> DatasetRow:
        if not is_valid_id(dataset_id, DATASET):
            raise _invalid("dataset_id", "is not a dataset id", "invalid_dataset_id")
        with self.db.session() as session:
            row = DatasetRepository(session).get(dataset_id)
        if row is None:
            raise _invalid("dataset_id", f"no dataset with id {dataset_id}", "unknown_dataset")
        return row

    @staticmethod
    def _validation(spec: dict[str, Any], dataset: DatasetRow) -> str | float | None:
        n_test = round(dataset.n_samples * dataset.test_fraction)
        n_train = dataset.n_samples - n_test
        cv = spec["cv"]
        if cv is not None:
            if cv["folds"] > n_train:
                message = f"{cv['folds']} folds exceed the {n_train} training rows"
                raise _invalid("cv.folds", message, "too_many_folds")
            return None
        chosen = spec["train"].get("validation")
        if chosen is not None:
            return chosen
        return "test" if n_test > 0 else DEFAULT_VALIDATION_FRACTION

    def create(self, dataset_id: str, spec: dict[str, Any]) -> SearchRow:
        """Check ``spec`` (from the API's ``validated_search``) against the dataset; store it
        ``queued`` for the scheduler."""
        dataset = self._dataset(dataset_id)
        metric = spec["metric"] or DEFAULT_METRIC[dataset.task]
        tasks, better = METRICS[metric]
        if dataset.task not in tasks:
            message = f"{metric} does not apply to a {dataset.task} dataset"
            raise _invalid("metric", message, "metric_not_for_task")
        n_iter = int(spec["train"]["n_iter"])
        if n_iter > self.settings.max_train_iterations:
            message = f"exceeds max_train_iterations={self.settings.max_train_iterations}"
            raise _invalid("train.n_iter", message, "too_many_iterations")
        spec = {**spec, "metric": metric, "direction": spec["direction"] or better}
        spec["validation"] = self._validation(spec, dataset)
        if spec["cv"] is not None and dataset.task == "regression":
            spec["cv"] = {**spec["cv"], "stratified": False}
        row = SearchRow(
            id=new_id(SEARCH),
            dataset_id=dataset_id,
            status="queued",
            spec=spec,
            cancel_requested=False,
        )
        with self.db.session() as session:
            SearchRepository(session).add(row)
        return row

    # Reading -------------------------------------------------------------------------------
    def get(self, search_id: str) -> SearchRow:
        """The search's row; ``NotFound`` (or ``InvalidId``) otherwise."""
        validate_id(search_id, SEARCH)
        with self.db.session() as session:
            row = SearchRepository(session).get(search_id)
        if row is None:
            raise search_not_found(search_id)
        return row

    def view(self, search_id: str) -> SearchView:
        """The search with its trials."""
        row = self.get(search_id)
        with self.db.session() as session:
            trials = list(SearchRepository(session).trials(search_id))
        return SearchView(row, trials)

    def curves(self, search_id: str, numbers: list[int]) -> dict[int, dict[str, Any]]:
        """The stored cost curves of some of the search's trials, by trial number."""
        with self.db.session() as session:
            return SearchRepository(session).curves(search_id, numbers)

    def list(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        dataset_id: str | None = None,
    ) -> tuple[list[SearchView], int]:
        """A page of searches, newest first, and the total matching the filters."""
        with self.db.session() as session:
            repository = SearchRepository(session)
            rows, total = repository.list(
                limit=limit, offset=offset, status=status, dataset_id=dataset_id
            )
            views = [SearchView(row, list(repository.trials(row.id))) for row in rows]
        return views, total

    # Changes -------------------------------------------------------------------------------
    def cancel(self, search_id: str) -> SearchRow:
        """Ask for cancellation (idempotent): the scheduler cancels the running trials' jobs
        and keeps the finished ones."""
        self.get(search_id)
        with self.db.session() as session:
            SearchRepository(session).request_cancel(search_id)
        return self.get(search_id)

    def delete(self, search_id: str) -> None:
        """Delete a finished search's rows; its kept models stay (they are ordinary models)."""
        row = self.get(search_id)
        if row.status in SEARCH_ACTIVE_STATUSES:
            raise Conflict(
                f"search {search_id} is {row.status}; cancel it first", code="search_active"
            )
        with self.db.session() as session:
            SearchRepository(session).delete(search_id)


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
