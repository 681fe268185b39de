"""The job callback with pause control and live snapshots (a :class:`Reporter` that also pauses).

On top of the reporter's progress, heartbeats, cancel and checkpoints:

* after each progress write (in the writer thread) it reads the job's pause request;
* at the callback after a request, or once the run reaches ``pause_at`` (step mode, where the
  callback runs every iteration), it checkpoints, writes a snapshot and stops training: the
  runner then marks the job ``paused`` and the worker takes the next job;
* every ``SNAPSHOT_SECONDS`` it writes the current parameters as the job's live snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.jobs.outcomes import final_progress
from app.jobs.reporter import JobLost, Reporter
from app.jobs.snapshots import Snapshot, SnapshotTimer, write_snapshot
from app.storage.job_control import JobControl
from core.pipeline import Preprocessor
from core.training_state import Progress, TrainingResult

ParametersOf = Callable[[], dict[str, Any]]


class ControlledReporter(Reporter):
    """A :class:`Reporter` that pauses on request or at ``pause_at`` and writes snapshots."""

    def __init__(
        self,
        *args: Any,
        parameters: ParametersOf,
        snapshot_path: Path,
        pause_at: int | None = None,
        stage: Preprocessor | None = None,
        **kwargs: Any,
    ) -> None:
        self.pause_at = pause_at
        self._stage = stage
        self.paused = False
        self._pause_seen = False
        self._parameters = parameters
        self._snapshot_path = snapshot_path
        self._snapshots = SnapshotTimer()
        super().__init__(*args, **kwargs)

    def _snapshot(self, progress: Progress) -> None:
        snapshot = Snapshot(
            progress.iteration, progress.n_iter, progress.cost, self._parameters(), self._stage
        )
        write_snapshot(self._snapshot_path, snapshot)

    def _report(self, progress: Progress) -> bool:
        at_step = self.pause_at is not None and progress.iteration >= self.pause_at
        # At the last iteration the run ends anyway: it succeeds rather than pausing.
        last = progress.iteration >= progress.n_iter
        if (self._pause_seen or at_step) and not last and not self._lost:
            self.checkpoint(progress.state(), wait=True)
            self._snapshot(progress)
            self.paused = True
            return False
        carry_on = super()._report(progress)
        if carry_on and self._snapshots.due():
            self._snapshot(progress)
        return carry_on

    def _write(self, chunk: Any, progress: dict[str, Any] | None) -> bool:
        cancel = super()._write(chunk, progress)
        with self.db.session() as session:
            if JobControl(session).pause_requested(self.job_id):
                self._pause_seen = True
        return cancel

    def mark_paused(self, result: TrainingResult) -> str:
        """Write the final progress and history and leave the job ``paused`` (slot given back).

        Called after :meth:`finish`; the checkpoint stays for the resumption.
        """
        self.flush(result.history, final_progress(result))
        with self.db.session() as session:
            if not JobControl(session).mark_paused(
                self.job_id, self.worker_id, final_progress(result)
            ):
                raise JobLost(self.job_id)
        return "paused"
