"""Arrays plus JSON metadata in one ``.npz``: models, training checkpoints and datasets.

The metadata is UTF-8 JSON stored as a ``uint8`` array under the key ``__metadata__``; files are
read with ``allow_pickle=False``, so loading never runs code. Writes to a path are atomic: a
temporary file in the same directory is written, flushed, fsynced and renamed over the target
(:mod:`core.files`), so a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from core.errors import ConfigurationError
from core.files import atomic_write_bytes, atomic_writer
from core.network import ANN
from core.training_state import TrainingState

Array = NDArray[Any]
METADATA_KEY = "__metadata__"
FORMAT_VERSION = 1


def npz_bytes(arrays: Mapping[str, Array], metadata: Mapping[str, Any]) -> bytes:
    """Serialize ``arrays`` (numeric or bool, never object) and JSON ``metadata`` to bytes."""
    buffer = io.BytesIO()
    write_npz(buffer, arrays, metadata)
    return buffer.getvalue()


def write_npz(handle: BinaryIO, arrays: Mapping[str, Array], metadata: Mapping[str, Any]) -> None:
    """Write ``arrays`` and ``metadata`` as ``.npz`` to ``handle``, an array at a time (numpy
    copies no more than 16 MiB of one at once)."""
    if METADATA_KEY in arrays:
        raise ConfigurationError(f"array name {METADATA_KEY!r} is reserved.")
    checked: dict[str, Array] = {}
    for name, value in arrays.items():
        array = np.asarray(value)
        if array.dtype.kind not in "biufcU":
            raise ConfigurationError(f"array {name!r} has unsupported dtype {array.dtype}.")
        checked[name] = array
    try:
        text = json.dumps(dict(metadata), allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"metadata is not JSON-able: {exc}") from exc
    checked[METADATA_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    np.savez(handle, **checked)  # type: ignore[arg-type]


def npz_from_bytes(data: bytes) -> tuple[dict[str, Array], dict[str, Any]]:
    """Inverse of :func:`npz_bytes`: ``(arrays, metadata)``."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"not a readable .npz file: {exc}") from exc
    raw = arrays.pop(METADATA_KEY, None)
    if raw is None:
        raise ConfigurationError(f"the .npz file has no {METADATA_KEY!r} entry.")
    try:
        metadata = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"the .npz metadata is not valid JSON: {exc}") from exc
    return arrays, metadata


def save_npz(path: str | Path, arrays: Mapping[str, Array], metadata: Mapping[str, Any]) -> None:
    """Write arrays and metadata to ``path`` atomically, streamed to the file (no copy of the
    whole archive in memory)."""
    with atomic_writer(path) as handle:
        write_npz(handle, arrays, metadata)


def load_npz(path: str | Path) -> tuple[dict[str, Array], dict[str, Any]]:
    """Read ``(arrays, metadata)`` written by :func:`save_npz`."""
    return npz_from_bytes(Path(path).read_bytes())


# ----------------------------------------------------------------------------- models
def model_to_bytes(ann: ANN) -> bytes:
    """Architecture and parameters of ``ann`` as ``.npz`` bytes (exact round trip)."""
    metadata = {"kind": "model", "format": FORMAT_VERSION, "architecture": ann.architecture()}
    return npz_bytes(ann.parameters, metadata)


def model_from_bytes(data: bytes) -> ANN:
    """Rebuild the network written by :func:`model_to_bytes`."""
    arrays, metadata = npz_from_bytes(data)
    if metadata.get("kind") != "model":
        raise ConfigurationError(f"not a model file (kind {metadata.get('kind')!r}).")
    return ANN.from_architecture(metadata["architecture"], arrays)


def save_model(ann: ANN, path: str | Path) -> None:
    """Write ``ann`` to ``path`` atomically."""
    atomic_write_bytes(path, model_to_bytes(ann))


def load_model(path: str | Path) -> ANN:
    """Read a network written by :func:`save_model`."""
    return model_from_bytes(Path(path).read_bytes())


# ----------------------------------------------------------------------------- checkpoints
def state_to_bytes(state: TrainingState) -> bytes:
    """A training checkpoint as ``.npz`` bytes."""
    arrays, metadata = state.to_arrays()
    return npz_bytes(arrays, {**metadata, "format": FORMAT_VERSION})


def state_from_bytes(data: bytes) -> TrainingState:
    """Inverse of :func:`state_to_bytes`."""
    arrays, metadata = npz_from_bytes(data)
    return TrainingState.from_arrays(arrays, metadata)


def save_state(state: TrainingState, path: str | Path) -> None:
    """Write a checkpoint to ``path`` atomically."""
    atomic_write_bytes(path, state_to_bytes(state))


def load_state(path: str | Path) -> TrainingState:
    """Read a checkpoint written by :func:`save_state`."""
    return state_from_bytes(Path(path).read_bytes())
