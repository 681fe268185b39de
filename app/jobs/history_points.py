"""The stored cost history of a job, bounded to ``settings.history_max_points`` per series.

Core records a cost every ``record_every`` iterations, so a long job records millions; storing
them all made the database grow by megabytes per job. The stored series keeps the first point,
then every ``stride``-th recorded point, with ``stride`` doubling (dropping every other kept
point) whenever the series would pass the bound; the last point is added when the run ends. So
a series holds at most ``history_max_points`` points evenly spread over the whole run (plus the
last one), and the
same recorded costs always give the same stored points (a resumed job stores what an
uninterrupted one would).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.storage.job_queue import JobQueue
from core.training_state import History

Chunk = tuple[list[int], list[float], list[int], list[float]]
"""New recorded points: iterations, costs, validation iterations, validation costs."""


@dataclass
class _Series:
    max_points: int
    stride: int = 1
    seen: int = 0
    """Recorded points seen so far (kept or not)."""
    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    last: tuple[int, float] | None = None

    def add(self, iterations: Sequence[int], costs: Sequence[float]) -> tuple[int, bool]:
        """Take newly recorded points; the number of them kept, and whether older kept points
        were dropped (the stored series must then be rewritten)."""
        before, thinned = len(self.iterations), False
        for iteration, cost in zip(iterations, costs, strict=True):
            if self.seen % self.stride == 0:
                self.iterations.append(int(iteration))
                self.costs.append(float(cost))
                if len(self.iterations) > self.max_points:
                    self.iterations, self.costs = self.iterations[::2], self.costs[::2]
                    self.stride *= 2
                    thinned = True
            self.seen += 1
            self.last = (int(iteration), float(cost))
        return (0 if thinned else len(self.iterations) - before), thinned

    def final_point(self) -> tuple[list[int], list[float]]:
        """The last recorded point when it is not stored yet."""
        if self.last is None or (self.iterations and self.iterations[-1] == self.last[0]):
            return [], []
        return [self.last[0]], [self.last[1]]


class BoundedHistory:
    """What of a job's recorded costs is written to the database, and the writes."""

    def __init__(self, max_points: int) -> None:
        self.train = _Series(max_points)
        self.val = _Series(max_points)

    def write(self, queue: JobQueue, job_id: str, chunk: Chunk, *, final: bool = False) -> None:
        """Store the kept part of ``chunk`` (rewriting the series when it was thinned); with
        ``final``, the run's last points too."""
        its, costs, val_its, val_costs = chunk
        new, thinned = self.train.add(its, costs)
        val_new, val_thinned = self.val.add(val_its, val_costs)
        if thinned or val_thinned:
            queue.clear_history(job_id)
            queue.append_history(
                job_id, self.train.iterations, self.train.costs, self.val.iterations, self.val.costs
            )
        else:
            queue.append_history(
                job_id,
                self.train.iterations[len(self.train.iterations) - new :],
                self.train.costs[len(self.train.costs) - new :],
                self.val.iterations[len(self.val.iterations) - val_new :],
                self.val.costs[len(self.val.costs) - val_new :],
            )
        if final:
            queue.append_history(job_id, *self.train.final_point(), *self.val.final_point())

    def reset(self, queue: JobQueue, job_id: str, history: History) -> None:
        """Start the stored history over from ``history`` (a checkpoint's, or empty)."""
        queue.clear_history(job_id)
        chunk = (
            list(history.iterations),
            list(history.costs),
            list(history.val_iterations),
            list(history.val_costs),
        )
        self.write(queue, job_id, chunk)
