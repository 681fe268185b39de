"""The search scheduler: a loop next to the job executor that turns searches into trial jobs.

Each tick it takes (or renews) the lease of every active search it can (a conditional
``UPDATE``, so of several server processes one schedules a search at a time, and another takes
over when a holder dies and its lease runs out), then for each: collects finished trials, prunes
(median rule), cancels on request, creates trials up to ``max_parallel`` and ``max_trials``
(stopping new ones after ``max_seconds``), and finally keeps the best trial's model.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound, ServiceError, ServiceUnavailable
from app.jobs.executor import Executor
from app.services.job_images import thinned_curve
from app.services.jobs import JobService
from app.services.models import ModelService
from app.services.search_pruning import MedianPruner
from app.services.search_strategies import STRATEGIES
from app.services.search_trials import model_name, plan_trial, score_trial
from app.services.searches import SearchView
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.repositories import JobRepository, ModelRepository
from app.storage.search_repository import SearchRepository
from app.storage.search_tables import TRIAL_ACTIVE_STATUSES, SearchRow, TrialRow
from app.storage.tables import JOB_ACTIVE_STATUSES, JobRow, utcnow
from app.storage.tenancy import current_tenant

logger = logging.getLogger("annserve.searches")
TICK_SECONDS = 0.25
CURVE_POINTS = 400
"""At most about this many points of each trial's stored cost curve (a figure shows no more)."""


def new_scheduler_id(host: str) -> str:
    """``host:pid:random``: unique per scheduler, readable in the row."""
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


class SearchScheduler:
    """Advances every active search whose lease it holds; ``start`` runs it in a thread."""

    def __init__(self, settings: Settings, executor: Executor) -> None:
        self.settings, self.executor = settings, executor
        self.scheduler_id = new_scheduler_id(settings.hostname)
        self.pruner = MedianPruner()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Schedule in a daemon thread (no-op when already started)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="annserve-search", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and give up the leases, so another scheduler continues at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        db = Database(self.settings.database_url)
        try:
            with db.session() as session:
                repository = SearchRepository(session)
                for search_id in repository.active_ids():
                    repository.release(search_id, self.scheduler_id)
        except Exception:
            logger.exception("releasing search leases failed")
        finally:
            db.dispose()

    def _loop(self) -> None:
        """Tick every ``TICK_SECONDS``, and at once when a job of this data dir is queued or
        ends (its marker), so a trial's worker slot is refilled without waiting for a tick."""
        db = Database(self.settings.database_url)
        job_changes = ArrayStore(self.settings.data_dir).job_changes
        try:
            while not self._stop.is_set():
                seen = job_changes.token()  # before the tick: a later change wakes the next
                try:
                    self.tick(db)
                except Exception:
                    # The database may be briefly away; the next tick tries again.
                    logger.exception("search scheduling failed")
                job_changes.wait(seen, TICK_SECONDS)
        finally:
            db.dispose()

    def tick(self, db: Database) -> None:
        """One pass over the active searches."""
        with db.session() as session:
            search_ids = SearchRepository(session).active_ids()
        lease = timedelta(seconds=self.settings.heartbeat_timeout)
        for search_id in search_ids:
            now = utcnow()
            with db.session() as session:
                claimed = SearchRepository(session).claim(
                    search_id, self.scheduler_id, now, now + lease
                )
            if claimed:
                SearchRun(self, db, search_id).advance()


class SearchRun:
    """One advance of one search by the scheduler holding its lease."""

    def __init__(self, scheduler: SearchScheduler, db: Database, search_id: str) -> None:
        settings = scheduler.settings
        arrays = ArrayStore(settings.data_dir)
        self.scheduler, self.db, self.search_id = scheduler, db, search_id
        self.owner = scheduler.scheduler_id
        self.models = ModelService(db, arrays, settings)
        self.jobs = JobService(db, arrays, settings, scheduler.executor)

    def _load(self) -> tuple[SearchRow, list[TrialRow]]:
        with self.db.session() as session:
            repository = SearchRepository(session)
            row = repository.get(self.search_id)
            trials = list(repository.trials(self.search_id))
        assert row is not None
        return row, trials

    def _update_trial(self, trial: TrialRow, **values: object) -> None:
        with self.db.session() as session:
            SearchRepository(session).update_trial(
                self.search_id, trial.number, TRIAL_ACTIVE_STATUSES, **values
            )

    def advance(self) -> None:
        """Collect, prune, cancel or launch, then finish or record progress, acting for the
        search's tenant (its trials' models and jobs are that tenant's)."""
        row, trials = self._load()
        acting = current_tenant.set(row.tenant)
        try:
            self._advance(row, trials)
        finally:
            current_tenant.reset(acting)

    def _advance(self, row: SearchRow, trials: list[TrialRow]) -> None:
        if row.status == "queued":
            with self.db.session() as session:
                SearchRepository(session).update_owned(
                    self.search_id, self.owner, status="running", started_at=utcnow()
                )
            row, trials = self._load()
        for trial in trials:
            if trial.status in TRIAL_ACTIVE_STATUSES:
                self._collect(row, trial)
        row, trials = self._load()
        if row.cancel_requested:
            self._cancel_active(row, trials)
        else:
            if row.spec["pruning"] == "median":
                for trial in self.scheduler.pruner.to_prune(self.db, row.spec, trials):
                    self._cancel_jobs(trial.job_ids)
                    self._update_trial(trial, status="pruning", pruned_at=trial.pruned_at)
            self._launch(row, trials)
        row, trials = self._load()
        self._record(row, trials)

    # Trials ----------------------------------------------------------------------------------
    def _existing(self, row: SearchRow, trial: TrialRow, folds: int) -> list[str | None]:
        """Ids of the trial's models made so far, fold by fold (None: not made yet)."""
        names = [
            model_name(row.id, trial.number, f if row.spec["cv"] else None) for f in range(folds)
        ]
        found: list[str | None] = []
        with self.db.session() as session:
            for name in names:
                models, _ = ModelRepository(session).list(limit=1, offset=0, name=name)
                found.append(models[0].id if models else None)
        return found

    def _job_of(self, model_id: str) -> JobRow | None:
        with self.db.session() as session:
            jobs, _ = JobRepository(session).list(limit=1, offset=0, model_id=model_id)
        return jobs[0] if jobs else None

    def _curve(self, job_id: str) -> dict[str, list[Any]]:
        """The job's recorded cost curve, thinned, for the trial row."""
        with self.db.session() as session:
            return thinned_curve(JobQueue(session), job_id, CURVE_POINTS)

    def _materialize(self, row: SearchRow, trial: TrialRow) -> None:
        """Create the trial's models and submit their jobs, reusing whatever already exists."""
        try:
            plan = plan_trial(row, trial)
        except (IndexError, KeyError, TypeError, ValueError) as error:
            # A combination of values that each passed the edge check but not together (a
            # layer index beyond the chosen layer list).
            message = f"the trial's parameters do not combine: {error}"
            self._update_trial(
                trial,
                status="failed",
                error={"code": "invalid_params", "message": message},
                finished_at=utcnow(),
            )
            return
        existing = self._existing(row, trial, len(plan.models))
        model_ids, job_ids = [], []
        try:
            for model_spec, job_spec, found in zip(plan.models, plan.jobs, existing, strict=True):
                model_id = found or self.models.create(model_spec).id
                job = self._job_of(model_id) or self.jobs.submit(model_id, row.dataset_id, job_spec)
                model_ids.append(model_id)
                job_ids.append(job.id)
        except ServiceUnavailable:
            logger.warning("trial not submitted yet", extra={"search": row.id})
            return
        except ServiceError as error:
            error_body = {"code": error.code, "message": error.detail}
            self._update_trial(
                trial,
                status="failed",
                error=error_body,
                model_ids=model_ids,
                job_ids=job_ids,
                finished_at=utcnow(),
            )
            return
        self._update_trial(trial, status="running", model_ids=model_ids, job_ids=job_ids)

    def _collect(self, row: SearchRow, trial: TrialRow) -> None:
        if trial.status == "creating":
            self._materialize(row, trial)
            return
        with self.db.session() as session:
            found = [JobRepository(session).get(job_id) for job_id in trial.job_ids]
        jobs = [job for job in found if job is not None]
        if len(jobs) < len(found):
            error = {"code": "job_deleted", "message": "a job of the trial was deleted"}
            self._update_trial(trial, status="failed", error=error, finished_at=utcnow())
            return
        statuses = {job.status for job in jobs}
        if statuses == {"succeeded"}:
            score = score_trial(jobs, row.spec["metric"])
            if score is None:
                error = {"code": "no_score", "message": f"no validation {row.spec['metric']}"}
                self._update_trial(trial, status="failed", error=error, finished_at=utcnow())
                return
            self._update_trial(
                trial,
                status="succeeded",
                value=score.value,
                value_std=score.std,
                fold_values=score.folds,
                train_seconds=score.train_seconds,
                model_version=jobs[0].produced_version,
                curve=self._curve(jobs[0].id),
                finished_at=utcnow(),
            )
            return
        failed = [job for job in jobs if job.status == "failed"]
        if failed:
            self._cancel_jobs(trial.job_ids)
        if statuses & set(JOB_ACTIVE_STATUSES):
            return
        if failed:
            error = failed[0].error or {"code": "failed", "message": "a job of the trial failed"}
            self._update_trial(trial, status="failed", error=error, finished_at=utcnow())
        else:
            status = "pruned" if trial.status == "pruning" else "cancelled"
            self._update_trial(trial, status=status, finished_at=utcnow())

    def _cancel_jobs(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            with contextlib.suppress(NotFound):
                self.jobs.cancel(job_id)

    def _cancel_active(self, row: SearchRow, trials: list[TrialRow]) -> None:
        for trial in trials:
            if trial.status == "creating":
                folds = int(row.spec["cv"]["folds"]) if row.spec["cv"] else 1
                model_ids = [m for m in self._existing(row, trial, folds) if m is not None]
                jobs = [self._job_of(model_id) for model_id in model_ids]
                job_ids = [job.id for job in jobs if job is not None]
                self._cancel_jobs(job_ids)
                self._update_trial(trial, status="running", model_ids=model_ids, job_ids=job_ids)
            elif trial.status in TRIAL_ACTIVE_STATUSES:
                self._cancel_jobs(trial.job_ids)

    def _time_up(self, row: SearchRow) -> bool:
        limit = row.spec.get("max_seconds")
        if limit is None or row.started_at is None:
            return False
        return (utcnow() - row.started_at).total_seconds() >= float(limit)

    def _launch(self, row: SearchRow, trials: list[TrialRow]) -> None:
        spec = row.spec
        strategy = STRATEGIES[spec["strategy"]]
        active = sum(1 for t in trials if t.status in TRIAL_ACTIVE_STATUSES)
        number = len(trials)
        while active < spec["max_parallel"] and number < spec["max_trials"]:
            if self._time_up(row):
                return
            finished = [t for t in trials if t.status not in TRIAL_ACTIVE_STATUSES]
            trial = TrialRow(
                search_id=row.id,
                number=number,
                status="creating",
                params=strategy(spec, number, finished),
                job_ids=[],
                model_ids=[],
            )
            try:
                with self.db.session() as session:
                    SearchRepository(session).add_trial(trial)
            except IntegrityError:
                return  # another scheduler created it: the lease moved
            self._materialize(row, trial)
            trials.append(trial)
            number, active = number + 1, active + 1

    # The search ------------------------------------------------------------------------------
    def _record(self, row: SearchRow, trials: list[TrialRow]) -> None:
        view = SearchView(row, trials)
        leaderboard = view.leaderboard()
        best = leaderboard[0] if leaderboard else None
        values: dict[str, object] = {
            "best_trial": best.number if best else None,
            "best_value": best.value if best else None,
            "best_model_id": best.model_ids[0] if best and best.model_ids else None,
            "updated_at": utcnow(),
        }
        active = any(t.status in TRIAL_ACTIVE_STATUSES for t in trials)
        exhausted = len(trials) >= row.spec["max_trials"] or self._time_up(row)
        if not active and (row.cancel_requested or exhausted):
            self._clean_up(row, trials, best)
            if row.cancel_requested:
                values["status"] = "cancelled"
            elif best is not None:
                values["status"] = "succeeded"
            else:
                values["status"] = "failed"
                values["error"] = {"code": "no_trial_succeeded", "message": "no trial succeeded"}
            values |= {"finished_at": utcnow(), "lease_until": None}
        with self.db.session() as session:
            repository = SearchRepository(session)
            if not repository.update_owned(self.search_id, self.owner, **values):
                return  # the lease moved to another scheduler
        row, trials = self._load()
        with self.db.session() as session:
            progress = SearchView(row, trials).progress()
            SearchRepository(session).update_owned(self.search_id, self.owner, progress=progress)
        if "status" in values:
            logger.info("search ended", extra={"search": row.id, "status": values["status"]})

    def _clean_up(self, row: SearchRow, trials: list[TrialRow], best: TrialRow | None) -> None:
        """Delete every trial's models but the best one's (all are kept with ``keep: all``)."""
        if row.spec["keep"] == "all":
            return
        keep = best.model_ids[0] if best and best.model_ids else None
        for trial in trials:
            for model_id in trial.model_ids:
                if model_id == keep:
                    continue
                try:
                    self.models.delete(model_id)
                except (Conflict, NotFound):
                    logger.warning("trial model not deleted", extra={"model": model_id})
