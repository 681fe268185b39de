"""Live snapshots of a training job: its latest parameters at a progress point.

The reporter writes ``jobs/<id>/snapshot.npz`` at most every ``SNAPSHOT_SECONDS`` (and when the
job pauses), so a client can redraw what the network computes while it learns. A snapshot is
disposable: it is renamed into place (readers see the old file or the new one) but not fsynced,
because a crash loses nothing a client needs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from app.storage.arrays import ArrayStore
from core.pipeline import PREPROCESSING_KEY, Preprocessor
from core.serialization import npz_bytes, npz_from_bytes

SNAPSHOT_SECONDS = 0.3


@dataclass(frozen=True)
class Snapshot:
    """Parameters ``W1, b1, ...`` after ``iteration`` passes (``cost``: the latest recorded),
    and the preprocessing stage the job fitted on its training rows (None: the model has none,
    or the snapshot does not say)."""

    iteration: int
    n_iter: int
    cost: float | None
    parameters: dict[str, NDArray[Any]]
    stage: Preprocessor | None = None


def stage_of(metadata: dict[str, Any]) -> Preprocessor | None:
    """The preprocessing stage kept in an ``.npz``'s metadata, if any."""
    stage = metadata.get(PREPROCESSING_KEY)
    return Preprocessor.from_dict(stage) if stage is not None else None


def snapshot_path(store: ArrayStore, job_id: str) -> Path:
    """``jobs/<id>/snapshot.npz``."""
    return store.job_dir(job_id) / "snapshot.npz"


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Write ``snapshot`` to ``path`` by renaming a temporary file into place."""
    metadata: dict[str, Any] = {
        "iteration": snapshot.iteration,
        "n_iter": snapshot.n_iter,
        "cost": snapshot.cost,
    }
    if snapshot.stage is not None:
        metadata[PREPROCESSING_KEY] = snapshot.stage.to_dict()
    data = npz_bytes(snapshot.parameters, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def read_snapshot(path: Path) -> Snapshot | None:
    """The snapshot at ``path``, or None when there is none (yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    arrays, metadata = npz_from_bytes(data)
    cost = metadata.get("cost")
    return Snapshot(
        iteration=int(metadata["iteration"]),
        n_iter=int(metadata["n_iter"]),
        cost=float(cost) if cost is not None else None,
        parameters=arrays,
        stage=stage_of(metadata),
    )


class SnapshotTimer:
    """Decides when the next snapshot is due (every ``interval`` seconds)."""

    def __init__(self, interval: float = SNAPSHOT_SECONDS) -> None:
        self.interval = interval
        self.next_due = 0.0

    def due(self) -> bool:
        """True (and the timer restarted) when a snapshot should be written now."""
        now = time.monotonic()
        if now < self.next_due:
            return False
        self.next_due = now + self.interval
        return True
