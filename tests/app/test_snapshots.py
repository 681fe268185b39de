"""Live snapshots on disk: parameters, progress and the job's fitted preprocessing stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.jobs.snapshots import Snapshot, read_snapshot, write_snapshot
from core.pipeline import Preprocessor


def test_a_snapshot_keeps_the_stage_the_job_fitted(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = {"x1": rng.normal(3.0, 2.0, 50), "x2": rng.normal(size=50)}
    stage = Preprocessor.fit(table, [("x1", "numeric"), ("x2", "numeric")], derived=["x1^2"])
    parameters = {"W1": rng.normal(size=(2, 3)), "b1": np.zeros((2, 1))}
    path = tmp_path / "jobs" / "job_x" / "snapshot.npz"
    write_snapshot(path, Snapshot(7, 100, 0.25, parameters, stage))
    read = read_snapshot(path)
    assert read is not None
    assert (read.iteration, read.n_iter, read.cost) == (7, 100, 0.25)
    np.testing.assert_array_equal(read.parameters["W1"], parameters["W1"])
    assert read.stage is not None and read.stage.to_dict() == stage.to_dict()
    X, _ = read.stage.transform(table)
    np.testing.assert_allclose(X, stage.transform(table)[0])
    write_snapshot(path, Snapshot(8, 100, None, parameters))  # a model without a stage
    plain = read_snapshot(path)
    assert plain is not None and plain.stage is None and plain.cost is None
    assert read_snapshot(tmp_path / "none.npz") is None
