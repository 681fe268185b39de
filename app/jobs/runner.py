"""The body of a training job, the one function every executor calls: :func:`run_job`.

A claimed (``running``) job is trained with ``core.training.train`` from its checkpoint if one
exists (so a resumed job ends bit-identical to an uninterrupted run), else from its base version.
Endings:

* success (``completed``, ``tol``, ``early_stopping``, ``max_seconds``): a new immutable version
  becomes current in one transaction (:mod:`app.jobs.outcomes`);
* ``DivergenceError``: ``failed`` with code ``diverged``; any other error: ``failed`` with code
  ``internal`` (the traceback goes to the log only); a cancel request: ``cancelled``. None of these
  touches the model's current version;
* shutdown (SIGTERM): checkpoint, and the job goes back to ``queued`` to be resumed;
* a pause request, or the step target ``pause_at``: checkpoint, and the job is ``paused`` until
  it is resumed (:mod:`app.jobs.controlled_reporter`).
* a storage fault (full or read-only disk, :mod:`app.storage.faults`): the job goes back to
  ``queued`` too, without counting the run as an attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.jobs.controlled_reporter import ControlledReporter
from app.jobs.data import training_data
from app.jobs.heartbeat import HeartbeatKeeper
from app.jobs.history_points import BoundedHistory
from app.jobs.job_spec import JobSpec
from app.jobs.outcomes import Outcomes
from app.jobs.reporter import JobLost
from app.jobs.snapshots import snapshot_path
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.faults import storage_fault
from app.storage.job_queue import JobQueue
from app.storage.repositories import DatasetRepository, JobRepository, ModelRepository
from app.storage.tables import DatasetRow, JobRow, ModelRow
from core.errors import ConfigurationError, CoreError, DivergenceError
from core.pipeline import pipeline_from_bytes
from core.serialization import load_state
from core.training import train
from core.training_state import History, TrainingState

logger = logging.getLogger("annserve.jobs")

# Target work between two callbacks (parameters x samples per pass): small networks report every
# few iterations so the callback stays cheap; large ones every iteration so cancel stays prompt.
CALLBACK_WORK = 100_000
MAX_CALLBACK_EVERY = 50


@dataclass
class Signals:
    """How a worker tells a running job to stop: shutdown requested, parent still alive."""

    should_stop: Callable[[], bool] = field(default=lambda: False)
    parent_alive: Callable[[], bool] = field(default=lambda: True)


def callback_every(n_parameters: int, m: int) -> int:
    """Iterations between two callbacks for a network of this size on ``m`` samples."""
    work = max(1, n_parameters * m)
    return max(1, min(MAX_CALLBACK_EVERY, CALLBACK_WORK // work))


@dataclass
class _Loaded:
    job: JobRow
    model: ModelRow
    dataset: DatasetRow
    spec: JobSpec


def _load(db: Database, job_id: str) -> _Loaded:
    with db.session() as session:
        job = JobRepository(session).get(job_id)
        if job is None:
            raise JobLost(job_id)
        model = ModelRepository(session).get(job.model_id)
        dataset = DatasetRepository(session).get(job.dataset_id)
    if model is None or dataset is None:
        raise ConfigurationError("the job's model or dataset no longer exists")
    return _Loaded(job, model, dataset, JobSpec.from_dict(job.params))


class JobRun:
    def __init__(
        self, settings: Settings, db: Database, job_id: str, worker_id: str, signals: Signals
    ) -> None:
        self.settings, self.db, self.signals = settings, db, signals
        self.job_id, self.worker_id = job_id, worker_id
        self.store = ArrayStore(settings.data_dir)
        self.checkpoint_path = self.store.checkpoint_path(job_id)
        self.outcomes = Outcomes(db, self.store, job_id, worker_id)

    # Setup ---------------------------------------------------------------------------------
    def _resume_state(self) -> TrainingState | None:
        if not self.checkpoint_path.exists():
            return None
        try:
            return load_state(self.checkpoint_path)
        except (ConfigurationError, OSError):
            # An unreadable checkpoint costs the work since the start, not the job: the seed
            # makes a run from scratch end with the same parameters.
            logger.warning("unusable checkpoint; restarting", extra={"job": self.job_id})
            self.checkpoint_path.unlink(missing_ok=True)
            return None

    def _reset_history(self, history: History) -> BoundedHistory:
        stored = BoundedHistory(self.settings.history_max_points)
        with self.db.session() as session:
            stored.reset(JobQueue(session), self.job_id, history)
        return stored

    # The run -------------------------------------------------------------------------------
    def run(self) -> str:
        loaded = _load(self.db, self.job_id)
        spec, model = loaded.spec, loaded.model
        arrays, metadata = self.store.load_dataset(loaded.dataset.id)
        base = pipeline_from_bytes(self.store.model_version_bytes(model.id, spec.base_version))
        ann = base.ann
        data = training_data(arrays, loaded.dataset, model, spec, base.preprocessor, metadata)
        state = self._resume_state()
        history = state.history if state is not None else History()
        stored_history = self._reset_history(history)
        every = callback_every(ann.n_parameters, data.X.shape[1])
        pause_at = loaded.job.pause_at
        if pause_at is not None:
            every = 1  # step mode pauses at exactly that iteration
        options = spec.with_options(callback_every=every).options
        if state is not None:
            logger.info("resuming", extra={"job": self.job_id, "iteration": state.iteration})
        reporter = ControlledReporter(
            self.settings,
            self.db,
            self.job_id,
            self.worker_id,
            self.checkpoint_path,
            history_sent=len(history.iterations),
            val_history_sent=len(history.val_iterations),
            stored_history=stored_history,
            should_stop=self.signals.should_stop,
            parent_alive=self.signals.parent_alive,
            parameters=lambda: ann.parameters,
            snapshot_path=snapshot_path(self.store, self.job_id),
            pause_at=pause_at,
            stage=data.preprocessor,
        )
        cpu_start = time.process_time()
        try:
            try:
                result = train(
                    ann,
                    data.X,
                    data.Y,
                    options,
                    X_val=data.X_val,
                    Y_val=data.Y_val,
                    callback=reporter,
                    resume=state,
                )
            finally:
                # No checkpoint may land after the job's files are removed below.
                reporter.finish()
        except DivergenceError as error:
            message = (
                f"training diverged at iteration {error.iteration}: the cost became non-finite; "
                f"lower the learning rate (it was {options.learning_rate})"
            )
            code = {"code": "diverged", "message": message, "iteration": error.iteration}
            return self.outcomes.end("failed", reporter, error=code)
        cpu_s = time.process_time() - cpu_start
        if reporter.shutdown:
            return self.outcomes.release(reporter, result)
        if reporter.paused:
            return reporter.mark_paused(result)
        if reporter.cancelled:
            return self.outcomes.end("cancelled", reporter, history=result.history)
        resumed = state.iteration if state is not None else None
        return self.outcomes.succeed(ann, data, result, reporter, model, spec, resumed, cpu_s)


def run_job(
    settings: Settings,
    job_id: str,
    worker_id: str,
    *,
    db: Database | None = None,
    signals: Signals | None = None,
) -> str:
    """Train the claimed job ``job_id`` as ``worker_id``; return the status it was left in.

    ``"queued"`` means it was checkpointed for a shutdown, ``"lost"`` that another worker owns it
    now. :class:`app.jobs.reporter.ParentGone` propagates: the caller must exit at once.
    """
    own_db = db is None
    database = db if db is not None else Database(settings.database_url)
    run = JobRun(settings, database, job_id, worker_id, signals or Signals())
    try:
        with HeartbeatKeeper(settings, database, job_id, worker_id):
            return run.run()
    except JobLost:
        logger.warning("job taken over by another worker", extra={"job": job_id})
        return "lost"
    except CoreError as error:
        # Data the network cannot fit (e.g. negative targets for a relu output): the message
        # names the problem and holds nothing internal.
        logger.warning("job failed: invalid input", extra={"job": job_id, "error": str(error)})
        return run.outcomes.fail("invalid_input", str(error))
    except Exception as error:
        if storage_fault(error) is not None:
            # A full or read-only disk is the host's fault, not the job's: it waits in the
            # queue (the run not counted) and resumes from its checkpoint once writes work.
            logger.warning(
                "storage fault; job requeued", extra={"job": job_id, "error": str(error)}
            )
            return run.outcomes.requeue()
        logger.exception("job failed with an internal error", extra={"job": job_id})
        return run.outcomes.fail(
            "internal", "an internal error stopped training; it has been logged"
        )
    finally:
        if own_db:
            database.dispose()
