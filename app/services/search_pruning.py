"""Median pruning: stop a trial whose validation cost is worse than the median of the finished
trials' validation costs at the same iteration (Optuna's ``MedianPruner`` rule).

A trial is judged on its first job (its first fold) from the recorded validation history, only
after ``MIN_FINISHED`` trials have finished and past ``WARMUP`` of its iterations, so early noise
prunes nothing. The curves of finished jobs never change and are cached.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Sequence
from typing import Any

from app.services.search_params import apply_params
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.search_tables import TrialRow

MIN_FINISHED = 2
WARMUP = 0.1

Curve = tuple[list[int], list[float]]


def cost_at(curve: Curve, iteration: int) -> float | None:
    """The last recorded cost at or before ``iteration`` (None before the first record)."""
    iterations, costs = curve
    index = bisect.bisect_right(iterations, iteration) - 1
    return costs[index] if index >= 0 else None


class MedianPruner:
    """Decides which running trials to stop; keeps the finished trials' curves."""

    def __init__(self) -> None:
        self._finished: dict[str, Curve] = {}

    @staticmethod
    def _curve(db: Database, job_id: str) -> Curve:
        with db.session() as session:
            _, _, val_iterations, val_costs = JobQueue(session).history(job_id)
        return val_iterations, val_costs

    def _finished_curve(self, db: Database, job_id: str) -> Curve:
        if job_id not in self._finished:
            self._finished[job_id] = self._curve(db, job_id)
        return self._finished[job_id]

    def to_prune(
        self, db: Database, spec: dict[str, Any], trials: Sequence[TrialRow]
    ) -> list[TrialRow]:
        """The running trials to stop now, each with ``pruned_at`` set to the iteration."""
        done = [t for t in trials if t.status == "succeeded" and t.job_ids]
        if len(done) < MIN_FINISHED:
            return []
        curves = [self._finished_curve(db, t.job_ids[0]) for t in done]
        pruned = []
        for trial in trials:
            if trial.status != "running" or not trial.job_ids:
                continue
            iterations, costs = self._curve(db, trial.job_ids[0])
            if not iterations:
                continue
            _, train = apply_params(spec["base"], spec["train"], trial.params)
            step = iterations[-1]
            if step < WARMUP * int(train["n_iter"]):
                continue
            others = [c for c in (cost_at(curve, step) for curve in curves) if c is not None]
            if len(others) >= MIN_FINISHED and costs[-1] > statistics.median(others):
                trial.pruned_at = step
                pruned.append(trial)
        return pruned
