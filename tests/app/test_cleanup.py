"""The cleanup sweep: stale temp files, files without rows and ended jobs' folders go; files
in use and young files (writes in flight) stay. Also through ``annserve cleanup`` and at the
start of a real server."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from app.cli import main
from app.settings import Settings, get_settings
from app.storage.arrays import ArrayStore
from app.storage.cleanup import sweep
from app.storage.db import Database
from app.storage.migrate import run_migrations
from app.storage.tables import JobRow, ModelVersionRow
from tests.app.process_support import eventually
from tests.app.test_jobs_queue import _seed
from tests.conftest import StartServer, stop_process

HOUR = 3600.0
ORPHAN_DATASET = "ds_00000000000000ff"
ORPHAN_MODEL = "mdl_00000000000000ff"
ORPHAN_JOB = "job_00000000000000ff"


def _age(path: Path, seconds: float = 2 * HOUR) -> Path:
    """Make ``path`` (and everything in it) look ``seconds`` old."""
    stamp = time.time() - seconds
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(item, (stamp, stamp))
    return path


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _litter(store: ArrayStore) -> dict[str, Path]:
    """Files a crash can leave behind, old and young, next to the seeded rows' files."""
    files = {
        "old_tmp": _age(_touch(store.datasets_dir / f".{ORPHAN_DATASET}.npz.k3j2.tmp")),
        "young_tmp": _touch(store.models_dir / "mdl_0000000000000000" / ".v1.npz.a8c1.tmp"),
        "old_probe": _age(_touch(store.root / ".ready.x1y2z3.tmp")),
        "orphan_dataset": _age(_touch(store.dataset_path(ORPHAN_DATASET))),
        "young_orphan_dataset": _touch(store.dataset_path("ds_00000000000000fe")),
        "orphan_model": _age(_touch(store.model_version_path(ORPHAN_MODEL, 0)).parent),
        "orphan_version": _age(_touch(store.model_version_path("mdl_0000000000000000", 3))),
        "orphan_job": _age(_touch(store.checkpoint_path(ORPHAN_JOB)).parent),
        "ended_job": _touch(store.checkpoint_path("job_0000000000000000")),
        "ended_empty_job": store.job_dir("job_0000000000000001"),
        "running_job": _age(_touch(store.checkpoint_path("job_0000000000000002"))),
        "dataset": _age(_touch(store.dataset_path("ds_0000000000000001"))),
        "version": _age(_touch(store.model_version_path("mdl_0000000000000000", 0))),
    }
    files["ended_empty_job"].mkdir(parents=True)
    return files


GONE = {"old_tmp", "old_probe", "orphan_dataset", "orphan_model", "orphan_version"} | {
    "orphan_job",
    "ended_job",
    "ended_empty_job",
}


def _seeded(data_dir: Path) -> Database:
    url = f"sqlite:///{data_dir / 'annserve.db'}"
    run_migrations(url)
    db = Database(url)
    _seed(db, 3)
    with db.session() as session:
        for job_id, status in (
            ("job_0000000000000000", "succeeded"),
            ("job_0000000000000001", "failed"),
        ):
            session.execute(update(JobRow).where(JobRow.id == job_id).values(status=status))
        session.execute(
            update(JobRow).where(JobRow.id == "job_0000000000000002").values(status="running")
        )
        session.add(ModelVersionRow(model_id="mdl_0000000000000000", version=0, note="init"))
    return db


def test_the_sweep_removes_only_what_nothing_points_at(tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    store = ArrayStore(tmp_path)
    files = _litter(store)
    try:
        report = sweep(db, store, grace=HOUR)
    finally:
        db.dispose()
    assert {name for name, path in files.items() if not path.exists()} == GONE
    assert report.as_dict() == {
        "temp_files": 2,
        "dataset_files": 1,
        "model_folders": 1,
        "model_versions": 1,
        "job_folders": 3,
    }


def test_annserve_cleanup_sweeps_once_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _seeded(tmp_path)
    db.dispose()
    files = _litter(ArrayStore(tmp_path))
    monkeypatch.setenv("ANNSERVE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert main(["cleanup", "--grace", "60"]) == 0
    finally:
        get_settings.cache_clear()
    counts = json.loads(capsys.readouterr().out)
    assert counts["job_folders"] == 3 and counts["temp_files"] == 2
    assert {name for name, path in files.items() if not path.exists()} == GONE


def test_an_empty_database_next_to_files_removes_only_temp_files(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    run_migrations(url)
    db = Database(url)  # not the database of these files
    store = ArrayStore(tmp_path)
    dataset = _age(_touch(store.dataset_path(ORPHAN_DATASET)))
    temp = _age(_touch(store.datasets_dir / ".x.npz.k3j2.tmp"))
    try:
        report = sweep(db, store, grace=HOUR)
    finally:
        db.dispose()
    assert dataset.exists() and not temp.exists()
    assert report.as_dict()["dataset_files"] == 0


def test_a_server_sweeps_its_data_dir_at_start(live_server: StartServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"ANNSERVE_LOG_LEVEL": "warning", "ANNSERVE_MAX_CONCURRENT_JOBS": "0"}
    server = live_server(data_dir=data_dir, env=env)
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        kept = client.post("/v1/datasets/generate", json={"kind": "xor", "n_samples": 20})
        assert kept.status_code == 201
    stop_process(server.process)
    store = ArrayStore(Settings(data_dir=data_dir).data_dir)
    orphan = _age(_touch(store.dataset_path(ORPHAN_DATASET)))
    leftover = _age(_touch(store.models_dir / f".{ORPHAN_MODEL}.v0.npz.q1w2.tmp"))
    server = live_server(data_dir=data_dir, env=env)
    eventually(lambda: not orphan.exists() and not leftover.exists(), 20, "the start-up sweep")
    assert store.dataset_path(kept.json()["id"]).exists()
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        assert client.get(f"/v1/datasets/{kept.json()['id']}/data").status_code == 200
