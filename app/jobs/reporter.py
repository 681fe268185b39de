"""The training callback of a job: throttled progress, history, heartbeats, cancel, checkpoints.

Core calls it every ``callback_every`` iterations; it does real work only when a timer is due, so
reporting stays a small share of training time (it measures that share itself):

* every ``progress_interval`` s, one transaction writes progress and the heartbeat and reads the
  cancel flag; every fourth one also appends the costs recorded since the last append. A writer
  thread runs these transactions, so training never waits for the database;
* every ``checkpoint_interval`` s, the whole training state is written atomically to
  ``jobs/<id>/checkpoint.npz`` (by a background thread: training does not wait for the disk);
* a shutdown request (SIGTERM) checkpoints and stops; a dead parent process stops at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.jobs import job_metrics
from app.jobs.history_points import BoundedHistory, Chunk
from app.settings import Settings
from app.storage.db import Database
from app.storage.job_queue import JobQueue
from app.storage.tables import utcnow
from core.serialization import save_state
from core.training_state import History, Progress, TrainingState

logger = logging.getLogger("annserve.jobs")

_Write = tuple[Chunk | None, dict[str, Any]]

# Costs recorded since the last write are appended at every HISTORY_EVERY-th progress write.
HISTORY_EVERY = 4


class JobLost(Exception):  # noqa: N818 - a control-flow signal
    """The job is no longer this worker's (reclaimed or deleted): stop without touching it."""


# A BaseException so that no ``except Exception`` in between swallows it.
class ParentGone(BaseException):
    """The process that started this worker died: exit at once, leaving the job to recovery."""


def progress_body(
    iteration: int, n_iter: int, cost: float | None, val_cost: float | None, elapsed: float
) -> dict[str, Any]:
    """The ``progress`` object clients see (``eta_s`` from the mean time per iteration)."""
    eta = elapsed / iteration * (n_iter - iteration) if iteration else None
    return {
        "iteration": iteration,
        "n_iter": n_iter,
        "fraction": iteration / n_iter,
        "cost": cost,
        "val_cost": val_cost,
        "elapsed_s": elapsed,
        "eta_s": eta,
    }


def write_checkpoint(path: Path, state: TrainingState) -> None:
    """Write ``state`` to ``path`` atomically (temp file, fsync, rename), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_state(state, path)
    job_metrics.checkpoint_written()


class Reporter:
    """The callback passed to ``ANN.fit`` for one job run."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        job_id: str,
        worker_id: str,
        checkpoint_path: Path,
        *,
        history_sent: int = 0,
        val_history_sent: int = 0,
        stored_history: BoundedHistory | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        parent_alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self.settings, self.db = settings, db
        self.job_id, self.worker_id = job_id, worker_id
        self.checkpoint_path = checkpoint_path
        self.sent, self.val_sent = history_sent, val_history_sent
        self.stored_history = stored_history or BoundedHistory(settings.history_max_points)
        self.should_stop, self.parent_alive = should_stop, parent_alive
        now = time.monotonic()
        self.next_flush = now + settings.progress_interval
        self.next_checkpoint = now + settings.checkpoint_interval
        self.cancelled = False
        self.shutdown = False
        self.seconds = 0.0
        """Wall time spent inside this callback (reporting overhead)."""
        self._writer: threading.Thread | None = None
        # Progress writes go through a one-slot outbox to a writer thread, so training never
        # waits for the database; a write that finds the slot taken is skipped (the next one
        # carries its history too).
        self._outbox: queue.Queue[_Write | None] = queue.Queue(maxsize=1)
        self._sends = 0
        self._cancel_seen = False
        self._lost = False
        self._error: Exception | None = None
        self._sender = threading.Thread(target=self._write_loop, name="annserve-progress")
        self._sender.daemon = True
        self._sender.start()

    def __call__(self, progress: Progress) -> bool:
        start = time.perf_counter()
        try:
            return self._report(progress)
        finally:
            self.seconds += time.perf_counter() - start

    def _report(self, progress: Progress) -> bool:
        if self._lost:
            raise JobLost(self.job_id)
        if self._error is not None:
            raise self._error
        if self._cancel_seen:
            self.cancelled = True
            return False
        now = time.monotonic()
        if self.should_stop():
            self.checkpoint(progress.state(), wait=True)
            self.shutdown = True
            return False
        if now >= self.next_flush:
            if not self.parent_alive():
                raise ParentGone
            self.next_flush = now + self.settings.progress_interval
            # A snapshot copies the whole history, so it is taken for every few writes only.
            state = None
            if self._sends % HISTORY_EVERY == 0 or now >= self.next_checkpoint:
                state = progress.state()
            body = progress_body(
                progress.iteration,
                progress.n_iter,
                progress.cost,
                progress.val_cost,
                progress.elapsed,
            )
            self._send(state.history if state is not None else None, body)
            if state is not None and now >= self.next_checkpoint:
                self.checkpoint(state)
        return True

    def unsent(self, history: History) -> Chunk:
        """The part of ``history`` not yet written to the database."""
        return (
            history.iterations[self.sent :],
            history.costs[self.sent :],
            history.val_iterations[self.val_sent :],
            history.val_costs[self.val_sent :],
        )

    def _send(self, history: History | None, body: dict[str, Any]) -> None:
        chunk = self.unsent(history) if history is not None else None
        try:
            self._outbox.put_nowait((chunk, body))
        except queue.Full:
            return
        self._sends += 1
        if history is not None:
            self.sent, self.val_sent = len(history.iterations), len(history.val_iterations)

    def _write_loop(self) -> None:
        while True:
            item = self._outbox.get()
            try:
                if item is None:
                    return
                if self._write(*item):
                    self._cancel_seen = True
            except JobLost:
                self._lost = True
            except Exception as error:  # handed to the training thread, which raises it
                self._error = error
            finally:
                self._outbox.task_done()

    def _write(self, chunk: Chunk | None, progress: dict[str, Any] | None) -> bool:
        with self.db.session() as session:
            queue_ = JobQueue(session)
            cancel = queue_.heartbeat(self.job_id, self.worker_id, utcnow(), progress)
            if cancel is None:
                raise JobLost(self.job_id)
            if chunk is not None:
                self.stored_history.write(queue_, self.job_id, chunk)
        return cancel

    def write_final_history(self, queue_: JobQueue, history: History) -> None:
        """Store the rest of ``history`` and its last points, in the caller's transaction
        (the end of a run, after :meth:`finish`)."""
        self.stored_history.write(queue_, self.job_id, self.unsent(history), final=True)
        self.sent, self.val_sent = len(history.iterations), len(history.val_iterations)

    def flush(self, history: History | None, progress: dict[str, Any] | None) -> bool:
        """Write progress, heartbeat and new history now, in this thread; True if cancelled.

        For the end of a run, after :meth:`finish`.
        """
        cancel = self._write(self.unsent(history) if history is not None else None, progress)
        if history is not None:
            self.sent, self.val_sent = len(history.iterations), len(history.val_iterations)
        return cancel

    def checkpoint(self, state: TrainingState, *, wait: bool = False) -> None:
        """Write the resumable state and restart the checkpoint timer.

        The write (serialization, fsync, rename) runs in a background thread so training does
        not wait for the disk; ``wait`` writes in this thread after any pending write. A due
        checkpoint is skipped while the previous one is still being written.
        """
        self.next_checkpoint = time.monotonic() + self.settings.checkpoint_interval
        if wait:
            if self._writer is not None:
                self._writer.join()
            write_checkpoint(self.checkpoint_path, state)
            return
        if self._writer is not None and self._writer.is_alive():
            return
        self._writer = threading.Thread(
            target=self._write_checkpoint, args=(state,), name="annserve-checkpoint", daemon=True
        )
        self._writer.start()

    def _write_checkpoint(self, state: TrainingState) -> None:
        try:
            write_checkpoint(self.checkpoint_path, state)
        except OSError:
            # The previous checkpoint stays valid (writes are atomic); the next one may succeed.
            logger.exception("writing a checkpoint failed", extra={"job": self.job_id})

    def finish(self) -> None:
        """Wait for pending progress and checkpoint writes and stop the writer thread.

        Called when training stops, before the job's row or files change; raises the error of
        a progress write that failed (its history chunk would otherwise be missing).
        """
        if self._sender.is_alive():
            self._outbox.put(None)
            self._sender.join()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        if self._error is not None:
            raise self._error
