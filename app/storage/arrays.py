"""Arrays on disk as ``.npz`` files, written atomically and read without pickles.

Layout under the data dir::

    datasets/<dataset_id>.npz
    models/<model_id>/v<version>.npz      (immutable once written)
    models/.changes                       (touched after every change under models/)
    jobs/<job_id>/checkpoint.npz

Paths are only ever built from ids that pass :func:`app.ids.validate_id`. Every write is
core's atomic one (:func:`core.files.atomic_write_bytes`; immutable versions are hard-linked into
place, so two writers cannot both create one): a crash leaves the old file or the new one, never
half of one. The format is core's (``core.serialization``):
JSON metadata travels inside the archive as a uint8 array named ``__metadata__``, so a model
version file loads with ``core.serialization.load_model``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from app.ids import DATASET, JOB, MODEL, validate_id
from app.storage.array_slices import NpzSlices
from app.storage.change_marker import ChangeMarker
from core.files import atomic_write_bytes
from core.serialization import npz_from_bytes, save_npz


def write_npz_atomic(
    path: Path,
    arrays: Mapping[str, NDArray[Any]],
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write ``arrays`` and JSON ``metadata`` to ``path`` atomically (core's ``.npz`` format)."""
    save_npz(path, arrays, metadata or {})


def read_npz(path: Path) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
    """The arrays and JSON metadata stored at ``path`` (never unpickles anything)."""
    return npz_from_bytes(path.read_bytes())


class ArrayStore:
    """The data dir's array files, addressed by validated ids."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir)
        self.datasets_dir = self.root / "datasets"
        self.models_dir = self.root / "models"
        self.model_changes = ChangeMarker(self.models_dir / ".changes")
        """Touched after every write or removal under ``models/``, by every process."""
        self.jobs_dir = self.root / "jobs"
        self.job_changes = ChangeMarker(self.jobs_dir / ".changes")
        """Touched when a job is queued and when one ends: polling workers and the search
        scheduler wake at once instead of at their next poll."""

    # Paths ---------------------------------------------------------------------------------
    def dataset_path(self, dataset_id: str) -> Path:
        """``datasets/<id>.npz``."""
        return self.datasets_dir / f"{validate_id(dataset_id, DATASET)}.npz"

    def model_dir(self, model_id: str) -> Path:
        """``models/<id>/``."""
        return self.models_dir / validate_id(model_id, MODEL)

    def model_version_path(self, model_id: str, version: int) -> Path:
        """``models/<id>/v<version>.npz``."""
        if not isinstance(version, int) or version < 0:
            raise ValueError(f"version must be a non-negative int, got {version!r}")
        return self.model_dir(model_id) / f"v{version}.npz"

    def job_dir(self, job_id: str) -> Path:
        """``jobs/<id>/``."""
        return self.jobs_dir / validate_id(job_id, JOB)

    def checkpoint_path(self, job_id: str) -> Path:
        """``jobs/<id>/checkpoint.npz``."""
        return self.job_dir(job_id) / "checkpoint.npz"

    # Datasets ------------------------------------------------------------------------------
    def save_dataset(
        self,
        dataset_id: str,
        arrays: Mapping[str, NDArray[Any]],
        metadata: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write a dataset's arrays; returns the path."""
        path = self.dataset_path(dataset_id)
        write_npz_atomic(path, arrays, metadata)
        return path

    def load_dataset(self, dataset_id: str) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
        """A dataset's arrays and metadata (``FileNotFoundError`` if missing)."""
        return read_npz(self.dataset_path(dataset_id))

    def open_dataset(self, dataset_id: str) -> NpzSlices:
        """A dataset's file, open for reading in row slices (``FileNotFoundError`` if missing)."""
        return NpzSlices(self.dataset_path(dataset_id))

    def delete_dataset(self, dataset_id: str) -> None:
        """Remove a dataset's file (no error if it is already gone)."""
        self.dataset_path(dataset_id).unlink(missing_ok=True)

    # Models --------------------------------------------------------------------------------
    def load_model_version(
        self, model_id: str, version: int
    ) -> tuple[dict[str, NDArray[Any]], dict[str, Any]]:
        """A parameter version's arrays and metadata."""
        return read_npz(self.model_version_path(model_id, version))

    def save_model_version_bytes(self, model_id: str, version: int, data: bytes) -> Path:
        """Write an immutable version from ready-made ``.npz`` bytes (e.g. ``model_to_bytes``)."""
        path = self.model_version_path(model_id, version)
        atomic_write_bytes(path, data, overwrite=False)
        self.model_changes.touch()
        return path

    def model_version_bytes(self, model_id: str, version: int) -> bytes:
        """The raw ``.npz`` file of a version, for download."""
        return self.model_version_path(model_id, version).read_bytes()

    def delete_model(self, model_id: str) -> None:
        """Remove every file of a model."""
        shutil.rmtree(self.model_dir(model_id), ignore_errors=True)
        self.model_changes.touch()

    # Jobs ----------------------------------------------------------------------------------
    def delete_job(self, job_id: str) -> None:
        """Remove every file of a job."""
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    # Operations ----------------------------------------------------------------------------
    def is_writable(self) -> bool:
        """Whether a file can be created, synced and removed in the data dir."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready.") as handle:
                handle.write(b"ok")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            return False
        return True
