"""The cleanup sweep: remove the files of the data dir that nothing points at any more.

Crashes and failed writes can leave behind temporary files (``.<name>.<random>.tmp``), dataset
files and model folders or versions without their rows, and folders of jobs that have ended
(their checkpoints are only needed while a job can still resume). :func:`sweep` removes them.

A file is only removed once it is older than ``grace`` seconds: a create writes its file before
the row that points at it, so a young file without a row may be a write in flight. A job's folder
is removed once the job has ended (or no longer exists), whatever its age: no writer is left.
Sweeps are idempotent, so several processes may sweep the same data dir at once. A database
without a single dataset or model row next to a data dir holding files is taken for the wrong
database: then only temporary files are removed.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select

from app.ids import DATASET, JOB, MODEL, is_valid_id
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.tables import DatasetRow, JobRow, ModelRow, ModelVersionRow

logger = logging.getLogger("annserve.cleanup")
ENDED = frozenset({"succeeded", "failed", "cancelled"})
_VERSION_FILE = re.compile(r"v(\d+)\.npz")


@dataclass
class CleanupReport:
    """What one sweep removed."""

    temp_files: int = 0
    dataset_files: int = 0
    model_folders: int = 0
    model_versions: int = 0
    job_folders: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by kind."""
        return asdict(self)


@dataclass(frozen=True)
class _Rows:
    datasets: set[str]
    models: set[str]
    versions: set[tuple[str, int]]
    jobs: dict[str, str]  # id -> status


def _rows(db: Database) -> _Rows:
    with db.session() as session:
        versions = session.execute(select(ModelVersionRow.model_id, ModelVersionRow.version))
        return _Rows(
            datasets=set(session.scalars(select(DatasetRow.id))),
            models=set(session.scalars(select(ModelRow.id))),
            versions={(model_id, int(version)) for model_id, version in versions},
            jobs={
                job_id: status
                for job_id, status in session.execute(select(JobRow.id, JobRow.status))
            },
        )


def _newest_mtime(path: Path) -> float:
    """The latest modification time of ``path`` or anything inside it."""
    newest = path.stat().st_mtime
    if path.is_dir():
        for child in path.rglob("*"):
            newest = max(newest, child.lstat().st_mtime)
    return newest


def _is_temp(path: Path) -> bool:
    return path.name.startswith(".") and (path.suffix == ".tmp" or path.name.startswith(".ready."))


class _Sweep:
    def __init__(self, store: ArrayStore, rows: _Rows, grace: float, now: float) -> None:
        self.store, self.rows = store, rows
        self.cutoff = now - grace
        self.report = CleanupReport()

    def old(self, path: Path) -> bool:
        try:
            return _newest_mtime(path) < self.cutoff
        except FileNotFoundError:
            return False

    def temp_files(self) -> None:
        for path in list(self.store.root.rglob(".*")):
            if path.is_file() and _is_temp(path) and self.old(path):
                path.unlink(missing_ok=True)
                self.report.temp_files += 1

    def datasets(self) -> None:
        for path in _entries(self.store.datasets_dir, "*.npz"):
            orphan = is_valid_id(path.stem, DATASET) and path.stem not in self.rows.datasets
            if orphan and self.old(path):
                path.unlink(missing_ok=True)
                self.report.dataset_files += 1

    def models(self) -> None:
        for folder in _entries(self.store.models_dir, "*"):
            if not folder.is_dir() or not is_valid_id(folder.name, MODEL):
                continue
            if folder.name not in self.rows.models:
                if self.old(folder):
                    shutil.rmtree(folder, ignore_errors=True)
                    self.report.model_folders += 1
                continue
            for path in _entries(folder, "v*.npz"):
                match = _VERSION_FILE.fullmatch(path.name)
                recorded = match and (folder.name, int(match[1])) in self.rows.versions
                if match and not recorded and self.old(path):
                    path.unlink(missing_ok=True)
                    self.report.model_versions += 1

    def jobs(self) -> None:
        for folder in _entries(self.store.jobs_dir, "*"):
            if not folder.is_dir() or not is_valid_id(folder.name, JOB):
                continue
            status = self.rows.jobs.get(folder.name)
            if status in ENDED or (status is None and self.old(folder)):
                shutil.rmtree(folder, ignore_errors=True)
                self.report.job_folders += 1


def _entries(directory: Path, pattern: str) -> list[Path]:
    return sorted(directory.glob(pattern)) if directory.is_dir() else []


def sweep(db: Database, store: ArrayStore, grace: float, now: float | None = None) -> CleanupReport:
    """Remove what nothing points at (see the module docstring); what was removed.

    The rows are read before the files are listed: a file created after that read is younger
    than any useful ``grace`` and is left alone.
    """
    rows = _rows(db)
    work = _Sweep(store, rows, grace, time.time() if now is None else now)
    work.temp_files()
    if rows.datasets or rows.models:
        work.datasets()
        work.models()
        work.jobs()
    elif _entries(store.datasets_dir, "*.npz") or _entries(store.models_dir, "*"):
        # Files but not one row: more likely a database that is not this data dir's (a wrong
        # URL) than a data dir whose every row went. Nothing is removed on such a guess.
        logger.warning("cleanup skipped: the database has no rows for the files in the data dir")
    if work.report.model_folders or work.report.model_versions:
        store.model_changes.touch()
    return work.report


class CleanupThread:
    """Sweeps at start and then every ``interval`` seconds (0: once), in a daemon thread."""

    def __init__(self, db: Database, store: ArrayStore, grace: float, interval: float) -> None:
        self.db, self.store = db, store
        self.grace, self.interval = grace, interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="annserve-cleanup", daemon=True)

    def start(self) -> None:
        """Start sweeping."""
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                report = sweep(self.db, self.store, self.grace)
                if any(report.as_dict().values()):
                    logger.info("cleanup removed files", extra=report.as_dict())
            except Exception:
                logger.exception("cleanup sweep failed; trying again later")
            if not self.interval or self._stopping.wait(self.interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the sweep under way, if any."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
