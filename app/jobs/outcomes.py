"""How a job run ends: the database and file changes of success, failure, cancel and shutdown.

Success writes the new immutable ``models/<id>/v<N>.npz`` first, then ONE transaction records the
version, makes it current, stores the metrics and ends the job; every ending is conditional on
the job still being this worker's (:class:`app.jobs.reporter.JobLost` otherwise) and removes the
checkpoint except a shutdown, which keeps it for the resumption.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.jobs import job_metrics
from app.jobs.data import TrainingData, evaluate
from app.jobs.job_spec import JobSpec
from app.jobs.reporter import JobLost, Reporter, progress_body
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.repositories import JobRepository, ModelRepository
from app.storage.tables import ModelRow, ModelVersionRow, utcnow
from core.network import ANN
from core.pipeline import Pipeline, Preprocessor, pipeline_to_bytes
from core.training_state import History, TrainingResult

logger = logging.getLogger("annserve.jobs")


def final_progress(result: TrainingResult) -> dict[str, Any]:
    """The ``progress`` object of a run that stopped (at its last iteration)."""
    h = result.history
    return progress_body(
        result.n_iter,
        int(result.state.options["n_iter"]),
        h.costs[-1] if h.costs else None,
        h.val_costs[-1] if h.val_costs else None,
        result.elapsed,
    )


@dataclass
class Outcomes:
    """The endings of one run of ``job_id`` by ``worker_id``."""

    db: Database
    store: ArrayStore
    job_id: str
    worker_id: str

    @property
    def checkpoint_path(self) -> Path:
        """``jobs/<id>/checkpoint.npz``."""
        return self.store.checkpoint_path(self.job_id)

    def end(
        self,
        status: str,
        reporter: Reporter,
        *,
        error: dict[str, Any] | None = None,
        history: History | None = None,
    ) -> str:
        """End the job ``failed`` or ``cancelled``; the model's version is left as it was."""
        with self.db.session() as session:
            queue = JobQueue(session)
            job = JobRepository(session).get(self.job_id)
            if not queue.finish(self.job_id, self.worker_id, status, error=error):
                raise JobLost(self.job_id)
            if history is not None:
                reporter.write_final_history(queue, history)
            if job is not None:
                queue.mark_model_ready(job.model_id)
        self.checkpoint_path.unlink(missing_ok=True)
        job_metrics.job_ended(status)
        logger.info("job ended", extra={"job": self.job_id, "status": status})
        return status

    def release(self, reporter: Reporter, result: TrainingResult) -> str:
        """Shutdown: progress written, the job back to ``queued``; the checkpoint stays."""
        reporter.flush(result.history, final_progress(result))
        with self.db.session() as session:
            JobQueue(session).release(self.job_id, self.worker_id, graceful=True)
        logger.info("job checkpointed for shutdown", extra={"job": self.job_id})
        return "queued"

    def requeue(self) -> str:
        """A storage fault stopped the run: back to ``queued``, not counted as an attempt."""
        with self.db.session() as session:
            JobQueue(session).release(self.job_id, self.worker_id, graceful=True)
        return "queued"

    def _write_version(self, model_id: str, ann: ANN, stage: Preprocessor | None = None) -> int:
        data = pipeline_to_bytes(Pipeline(stage, ann))
        while True:
            with self.db.session() as session:
                version = (ModelRepository(session).latest_version_number(model_id) or 0) + 1
            try:
                self.store.save_model_version_bytes(model_id, version, data)
                return version
            except FileExistsError:
                # A file without a version row was left by a run that died before its commit.
                with self.db.session() as session:
                    recorded = ModelRepository(session).get_version(model_id, version)
                if recorded is None:
                    self.store.model_version_path(model_id, version).unlink()

    def succeed(
        self,
        ann: ANN,
        data: TrainingData,
        result: TrainingResult,
        reporter: Reporter,
        model: ModelRow,
        spec: JobSpec,
        resumed: int | None,
        cpu_s: float,
    ) -> str:
        """Store the new version and end the job ``succeeded``, in one transaction."""
        scores = evaluate(ann, data)
        version = self._write_version(model.id, ann, data.preprocessor)
        metrics = {"job_id": self.job_id, "version": version, **scores}
        body = {
            "stop_reason": result.stop_reason,
            "n_iter": result.n_iter,
            "final_cost": result.final_cost,
            "best_iteration": result.best_iteration,
            "best_val_cost": result.best_val_cost,
            "elapsed_s": result.elapsed,
            "version": version,
            "resumed_from_iteration": resumed,
            "reporting_s": reporter.seconds,
            "cpu_s": cpu_s,
            **scores,
        }
        with self.db.session() as session:
            queue = JobQueue(session)
            done = queue.finish(
                self.job_id,
                self.worker_id,
                "succeeded",
                result=body,
                progress=final_progress(result),
                produced_version=version,
            )
            if done:
                reporter.write_final_history(queue, result.history)
                models = ModelRepository(session)
                models.add_version(
                    ModelVersionRow(
                        model_id=model.id,
                        version=version,
                        job_id=self.job_id,
                        metrics=metrics,
                        note=f"trained from v{spec.base_version} ({result.stop_reason})",
                    )
                )
                row = models.get(model.id)
                assert row is not None
                row.current_version = version
                row.latest_metrics = metrics
                row.status = "ready"
                row.updated_at = utcnow()
        if not done:
            self.store.model_version_path(model.id, version).unlink(missing_ok=True)
            raise JobLost(self.job_id)
        self.checkpoint_path.unlink(missing_ok=True)
        job_metrics.job_ended("succeeded", result.elapsed, result.n_iter - (resumed or 0))
        logger.info("job succeeded", extra={"job": self.job_id, "version": version})
        return "succeeded"

    def fail(self, code: str, message: str) -> str:
        """End the job ``failed`` with ``code`` before or instead of training."""
        error = {"code": code, "message": message}
        with self.db.session() as session:
            queue = JobQueue(session)
            job = JobRepository(session).get(self.job_id)
            if queue.finish(self.job_id, self.worker_id, "failed", error=error) and job:
                queue.mark_model_ready(job.model_id)
        self.checkpoint_path.unlink(missing_ok=True)
        job_metrics.job_ended("failed")
        return "failed"
