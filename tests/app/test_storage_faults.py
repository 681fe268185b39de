"""Full and read-only disks: 507/503 problems, nothing half written, /readyz not ready, and a
worker pool that survives, keeps its size and resumes the job once space is back."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from app.storage.faults import storage_fault
from tests.app.helpers import assert_problem
from tests.app.jobs_support import make_dataset, make_model, start_job, wait_final, wait_for
from tests.app.process_support import FaultFlag, eventually, fault_server, pool_workers
from tests.conftest import StartServer

pytestmark = pytest.mark.timeout(180)


def _wrapped(error: Exception) -> OperationalError:
    return OperationalError("INSERT INTO jobs ...", {}, error)


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "full"),
        (sqlite3.OperationalError("database or disk is full"), "full"),
        (_wrapped(sqlite3.OperationalError("database or disk is full")), "full"),
        (OSError(errno.EROFS, "Read-only file system"), "read_only"),
        (PermissionError(errno.EACCES, "Permission denied"), "read_only"),
        (_wrapped(sqlite3.OperationalError("attempt to write a readonly database")), "read_only"),
        (sqlite3.OperationalError("database is locked"), None),
        (OSError(errno.ENOENT, "No such file"), None),
        (ValueError("no"), None),
    ],
)
def test_storage_faults_are_recognized(error: Exception, fault: str | None) -> None:
    assert storage_fault(error) == fault


def test_a_fault_raised_while_handling_another_is_recognized() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("writing failed") from inner
    except RuntimeError as outer:
        assert storage_fault(outer) == "full"


def _files(data_dir: Path) -> set[Path]:
    return {p for p in data_dir.rglob("*") if p.is_file() and p.suffix != ".db"} - {
        p for p in data_dir.rglob("annserve.db*")
    }


def _names(data_dir: Path, folder: str) -> set[str]:
    directory = data_dir / folder
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


@pytest.mark.slow
def test_full_disk_answers_507_and_the_pool_recovers(
    live_server: StartServer, tmp_path: Path
) -> None:
    flag = FaultFlag(tmp_path / "fault")
    flag.set(None)
    server = fault_server(
        live_server,
        flag,
        max_concurrent_jobs=4,
        checkpoint_interval=0.2,
        storage_retry_interval=0.3,
    )
    eventually(lambda: len(pool_workers(server.process.pid)) == 4, 30, "4 workers")
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        dataset = make_dataset(client)
        model = make_model(client, dataset["id"])
        job = start_job(client, model["id"], dataset["id"], n_iter=30_000)
        wait_for(client, job["id"], lambda j: (j["progress"] or {}).get("iteration", 0) > 3000)
        datasets_before = _names(server.data_dir, "datasets")
        models_before = _names(server.data_dir, "models")

        flag.set("full")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not ready"
        assert "no space" in ready.json()["reason"]
        assert_problem(
            client.post("/v1/datasets/generate", json={"kind": "xor", "n_samples": 40}),
            507,
            "insufficient_storage",
        )
        assert_problem(client.post("/v1/models", json={**model_spec(dataset["id"])}), 507)
        # Nothing half written: no file and no folder of the failed creations, no temp files.
        assert _names(server.data_dir, "datasets") == datasets_before
        assert _names(server.data_dir, "models") == models_before
        # A worker that dies while the disk is full is replaced all the same.
        os.kill(pool_workers(server.process.pid)[0], signal.SIGKILL)
        eventually(lambda: len(pool_workers(server.process.pid)) == 4, 20, "4 workers again")
        time.sleep(1.0)  # several retry rounds of the workers and the pool's supervisor
        # The job cannot even be requeued while nothing can be written, but it is not failed.
        assert client.get(f"/v1/jobs/{job['id']}").json()["status"] in {"queued", "running"}
        assert len(pool_workers(server.process.pid)) == 4

        flag.set(None)
        done = wait_final(client, job["id"], timeout=90)
        assert done["status"] == "succeeded", done
        assert done["result"]["resumed_from_iteration"] > 0
        assert client.get("/readyz").status_code == 200
        again = start_job(client, model["id"], dataset["id"], n_iter=500)
        assert wait_final(client, again["id"])["status"] == "succeeded"
        assert len(pool_workers(server.process.pid)) == 4
        assert server.process.poll() is None
    assert not [p for p in server.data_dir.rglob("*.tmp")]


def model_spec(dataset_id: str) -> dict[str, object]:
    return {"name": "m", "dataset_id": dataset_id, "hidden_layers": [{"units": 3}]}


def test_read_only_storage_answers_503(live_server: StartServer, tmp_path: Path) -> None:
    flag = FaultFlag(tmp_path / "fault")
    flag.set(None)
    server = fault_server(live_server, flag, max_concurrent_jobs=1, storage_retry_interval=0.3)
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        dataset = make_dataset(client)
        flag.set("read_only")
        body = assert_problem(
            client.post("/v1/datasets/generate", json={"kind": "xor", "n_samples": 40}),
            503,
            "storage_unavailable",
        )
        assert "read-only" in body["detail"]
        assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 503
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "read-only" in ready.json()["reason"]
        assert client.get(f"/v1/datasets/{dataset['id']}").status_code == 200  # reads still work
        flag.set(None)
        assert client.get("/readyz").status_code == 200
        assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 204
