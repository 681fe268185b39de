"""Pause, resume and step training jobs, and read their live snapshots.

* pause: a queued job pauses at once; a running one checkpoints at its next callback, writes
  ``paused`` and gives its worker slot back (within about ``progress_interval``);
* resume: a paused job goes back to the queue and continues from its checkpoint, so it ends
  bit-identical to an uninterrupted run;
* step: a paused (or queued) job trains ``iterations`` more passes, then pauses again.
"""

from __future__ import annotations

import logging
from typing import Any

from numpy.typing import NDArray

from app.errors import Conflict, NotFound, ServiceUnavailable
from app.jobs.job_spec import JobSpec
from app.jobs.snapshots import Snapshot, read_snapshot, snapshot_path, stage_of
from app.services.jobs import JobService
from app.storage.job_control import JobControl
from app.storage.tables import JOB_ACTIVE_STATUSES, JobRow

logger = logging.getLogger("annserve.jobs")


def _finished(row: JobRow, action: str) -> Conflict:
    detail = f"job {row.id} is {row.status}; only an active job can {action}"
    return Conflict(detail, code="job_finished")


def _iteration(row: JobRow) -> int:
    return int((row.progress or {}).get("iteration", 0))


class JobControlService:
    """Pause control and snapshots on top of :class:`app.services.jobs.JobService`."""

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs
        self.db = jobs.db

    def _submit(self, job_id: str) -> None:
        try:
            self.jobs.executor.submit(job_id)
        except Exception as error:
            # The job stays queued; the executor's resend sweep hands it over later.
            logger.warning("resumed job %s not sent: %s", job_id, error)
            raise ServiceUnavailable(
                "the job is queued again but the job queue cannot be reached right now; it "
                "will be picked up when it is back",
                code="queue_unavailable",
            ) from error

    def pause(self, job_id: str) -> JobRow:
        """Pause (idempotent): a queued job now, a running one at its next progress point."""
        row = self.jobs.get(job_id)
        if row.status not in JOB_ACTIVE_STATUSES:
            raise _finished(row, "pause")
        with self.db.session() as session:
            control = JobControl(session)
            if not control.pause_queued(job_id):
                control.request_pause(job_id)
        return self.jobs.get(job_id)

    def resume(self, job_id: str) -> JobRow:
        """Resume a paused job from its checkpoint (idempotent for a queued or running one)."""
        return self._continue(job_id, None)

    def step(self, job_id: str, iterations: int) -> JobRow:
        """Train ``iterations`` more passes, then pause again (a paused or queued job)."""
        return self._continue(job_id, iterations)

    def _continue(self, job_id: str, iterations: int | None) -> JobRow:
        row = self.jobs.get(job_id)
        if row.status not in JOB_ACTIVE_STATUSES:
            raise _finished(row, "resume" if iterations is None else "step")
        if iterations is not None and row.status == "running":
            raise Conflict(f"job {job_id} is running; pause it before stepping", code="job_running")
        pause_at = None if iterations is None else _iteration(row) + iterations
        with self.db.session() as session:
            control = JobControl(session)
            resumed = control.resume(job_id, pause_at)
            if not resumed and pause_at is not None:
                control.set_pause_at(job_id, pause_at)
            if not resumed and iterations is None and row.status == "running":
                # Resuming a job that is still about to pause withdraws the pause request.
                control.withdraw_pause(job_id)
        if resumed:
            self._submit(job_id)
        return self.jobs.get(job_id)

    # Snapshots -------------------------------------------------------------------------------
    def snapshot(self, job_id: str) -> tuple[JobRow, Snapshot]:
        """The job's latest parameters and the iteration they belong to.

        A succeeded job answers with the version it produced; an active one with its latest
        live snapshot, or its starting parameters (iteration 0) before the first one.
        """
        row = self.jobs.get(job_id)
        n_iter = int(row.params.get("n_iter", 0))
        if row.status == "succeeded" and row.produced_version is not None:
            arrays, metadata = self.jobs.arrays.load_model_version(
                row.model_id, row.produced_version
            )
            result = row.result or {}
            final = int(result.get("n_iter", _iteration(row)))
            parameters = _only_parameters(arrays)
            cost = result.get("final_cost")
            return row, Snapshot(final, n_iter, cost, parameters, stage_of(metadata))
        snapshot = read_snapshot(snapshot_path(self.jobs.arrays, job_id))
        if snapshot is not None:
            return row, snapshot
        if row.status in JOB_ACTIVE_STATUSES:
            base = JobSpec.from_dict(row.params).base_version
            arrays, metadata = self.jobs.arrays.load_model_version(row.model_id, base)
            return row, Snapshot(0, n_iter, None, _only_parameters(arrays), stage_of(metadata))
        raise NotFound(f"job {job_id} ({row.status}) left no snapshot", code="snapshot_not_found")


def _only_parameters(arrays: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    return {name: value for name, value in arrays.items() if name[:1] in ("W", "b")}
