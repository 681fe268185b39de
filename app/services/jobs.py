"""Training-job use cases: submit (checked, one active job per model), read, list, cancel, history.

Submission commits a ``queued`` row and then hands the job to the executor; workers claim it from
the database, so the job's state always lives there whatever runs it.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from app.errors import (
    Conflict,
    InvalidInput,
    LimitExceeded,
    NotFound,
    ServiceUnavailable,
    model_not_found,
)
from app.ids import DATASET, JOB, MODEL, is_valid_id, new_id, validate_id
from app.jobs.executor import Executor
from app.jobs.job_spec import JobSpec
from app.services.compatibility import check_compatible
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.job_control import JobControl
from app.storage.job_queue import JobQueue
from app.storage.repositories import DatasetRepository, JobRepository, ModelRepository
from app.storage.tables import DatasetRow, JobRow

logger = logging.getLogger("annserve.jobs")

CostHistory = tuple[list[int], list[float], list[int], list[float]]


def job_not_found(job_id: str) -> NotFound:
    """The error for an unknown job id."""
    return NotFound(f"no job with id {job_id}", code="job_not_found")


class JobService:
    """Submit, read, list and cancel training jobs."""

    def __init__(
        self, db: Database, arrays: ArrayStore, settings: Settings, executor: Executor
    ) -> None:
        self.db = db
        self.arrays = arrays
        self.settings = settings
        self.executor = executor

    # Submission ----------------------------------------------------------------------------
    def _check_spec(self, spec: JobSpec, dataset: DatasetRow, base_version: int) -> JobSpec:
        """``spec`` within the limits and fitting the dataset, its time budget and base version
        filled in."""
        limits, options = self.settings, spec.options
        if options.n_iter > limits.max_train_iterations:
            raise LimitExceeded(
                f"n_iter={options.n_iter} exceeds max_train_iterations="
                f"{limits.max_train_iterations}",
                code="too_many_iterations",
            )
        if options.max_seconds is not None and options.max_seconds > limits.max_job_seconds:
            raise LimitExceeded(
                f"max_seconds={options.max_seconds} exceeds max_job_seconds="
                f"{limits.max_job_seconds}",
                code="too_many_seconds",
            )
        n_test = round(dataset.n_samples * dataset.test_fraction)
        n_train = dataset.n_samples - n_test
        if spec.validation == "test" and n_test == 0:
            raise InvalidInput(
                "the dataset has no test split to validate on", code="no_validation_rows"
            )
        if isinstance(spec.validation, float) and not (
            1 <= round(n_train * spec.validation) < n_train
        ):
            raise InvalidInput(
                f"validation={spec.validation} of {n_train} training rows leaves no "
                "validation or no training rows",
                code="no_validation_rows",
            )
        if spec.early_stopping and spec.validation is None:
            raise InvalidInput(
                "early_stopping needs validation ('test' or a fraction)",
                code="validation_required",
            )
        budget = options.max_seconds or limits.max_job_seconds
        return replace(spec.with_options(max_seconds=budget), base_version=base_version)

    def _dataset(self, dataset_id: str) -> DatasetRow:
        if not is_valid_id(dataset_id, DATASET):
            raise InvalidInput("dataset_id is not a dataset id", code="invalid_dataset_id")
        with self.db.session() as session:
            row = DatasetRepository(session).get(dataset_id)
        if row is None:
            raise InvalidInput(f"no dataset with id {dataset_id}", code="unknown_dataset")
        return row

    def submit(self, model_id: str, dataset_id: str, spec: JobSpec) -> JobRow:
        """Check everything, queue the job and hand it to the executor (202 for the client)."""
        validate_id(model_id, MODEL)
        with self.db.session() as session:
            model = ModelRepository(session).get(model_id)
        if model is None:
            raise model_not_found(model_id)
        dataset = self._dataset(dataset_id)
        check_compatible(model, dataset, training=True)
        base = model.current_version if spec.warm_start else 0
        spec = self._check_spec(spec, dataset, base)
        job = JobRow(
            id=new_id(JOB),
            model_id=model_id,
            dataset_id=dataset_id,
            status="queued",
            params=spec.to_dict(),
            attempts=0,
            cancel_requested=False,
        )
        with self.db.session() as session:
            # The conditional flip is the first write: it serializes concurrent submissions.
            if not JobQueue(session).mark_model_training(model_id):
                raise Conflict(
                    f"model {model_id} already has a queued or running job; wait for it or "
                    "cancel it",
                    code="model_busy",
                )
            JobRepository(session).add(job)
        try:
            self.executor.submit(job.id)
        except Exception as error:
            # Nothing was queued for the client: take the row back so no trace is left.
            with self.db.session() as session:
                JobQueue(session).withdraw(job.id, model_id)
            logger.warning("job %s not submitted: %s", job.id, error)
            raise ServiceUnavailable(
                "the job queue cannot be reached right now; nothing was queued, try again shortly",
                code="queue_unavailable",
            ) from error
        return job

    # Reading -------------------------------------------------------------------------------
    def get(self, job_id: str) -> JobRow:
        """The job's row; ``NotFound`` (or ``InvalidId``) otherwise."""
        validate_id(job_id, JOB)
        with self.db.session() as session:
            row = JobRepository(session).get(job_id)
        if row is None:
            raise job_not_found(job_id)
        return row

    def list(
        self, *, limit: int, offset: int, status: str | None = None, model_id: str | None = None
    ) -> tuple[list[JobRow], int]:
        """A page of jobs, newest first, and the total matching the filters."""
        with self.db.session() as session:
            return JobRepository(session).list(
                limit=limit, offset=offset, status=status, model_id=model_id
            )

    def history(self, job_id: str) -> CostHistory:
        """Recorded costs so far: iterations, costs, validation iterations and costs."""
        self.get(job_id)
        with self.db.session() as session:
            return JobQueue(session).history(job_id)

    # Cancellation --------------------------------------------------------------------------
    def cancel(self, job_id: str) -> JobRow:
        """Cancel a job (idempotent): a queued or paused one ends now, a running one in a second."""
        row = self.get(job_id)
        with self.db.session() as session:
            queue = JobQueue(session)
            if queue.cancel_queued(job_id) or JobControl(session).cancel_paused(job_id):
                queue.mark_model_ready(row.model_id)
                cancelled_queued = True
            else:
                queue.request_cancel(job_id)
                cancelled_queued = False
        if cancelled_queued:
            # A job requeued after an interruption may have left a checkpoint behind.
            self.arrays.delete_job(job_id)
        return self.get(job_id)
