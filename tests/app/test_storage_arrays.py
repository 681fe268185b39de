"""Array files: atomic, exact round trips, no pickles, immutable versions, validated paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.errors import InvalidId
from app.ids import new_id
from app.storage.arrays import ArrayStore, read_npz, write_npz_atomic
from core.serialization import npz_bytes


@pytest.fixture
def store(tmp_path: Path) -> ArrayStore:
    return ArrayStore(tmp_path)


def test_dataset_round_trip_is_exact(store: ArrayStore) -> None:
    rng = np.random.default_rng(0)
    arrays = {"features": rng.normal(size=(7, 3)), "targets": np.arange(7, dtype=np.int64)}
    dataset_id = new_id("ds")
    path = store.save_dataset(dataset_id, arrays, {"classes": ["a", "b"]})
    assert path == store.root / "datasets" / f"{dataset_id}.npz"
    loaded, metadata = store.load_dataset(dataset_id)
    assert metadata == {"classes": ["a", "b"]}
    assert set(loaded) == {"features", "targets"}
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype
        assert np.array_equal(loaded[name], array)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_model_versions_are_immutable(store: ArrayStore) -> None:
    model_id = new_id("mdl")
    store.save_model_version_bytes(model_id, 0, npz_bytes({"W1": np.ones((2, 2))}, {}))
    with pytest.raises(FileExistsError):
        store.save_model_version_bytes(model_id, 0, npz_bytes({"W1": np.zeros((2, 2))}, {}))
    arrays, _ = store.load_model_version(model_id, 0)
    assert np.array_equal(arrays["W1"], np.ones((2, 2)))
    store.delete_model(model_id)
    assert not store.model_dir(model_id).exists()


def test_checkpoint_is_replaced(store: ArrayStore) -> None:
    job_id = new_id("job")
    path = store.checkpoint_path(job_id)
    write_npz_atomic(path, {"a": np.zeros(3)}, {"iteration": 1})
    write_npz_atomic(path, {"a": np.ones(3)}, {"iteration": 2})
    arrays, metadata = read_npz(path)
    assert metadata["iteration"] == 2
    assert np.array_equal(arrays["a"], np.ones(3))


@pytest.mark.parametrize("bad", ["../etc", "ds_../../x", "DS_0123456789ABCDEF", "ds_123", ""])
def test_paths_only_from_valid_ids(store: ArrayStore, bad: str) -> None:
    with pytest.raises(InvalidId):
        store.dataset_path(bad)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="object"):
        write_npz_atomic(tmp_path / "x.npz", {"a": np.array([{"x": 1}], dtype=object)})
    assert not (tmp_path / "x.npz").exists()


def test_pickled_files_are_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError):
        read_npz(path)


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    write_npz_atomic(path, {"a": np.zeros(2)})
    with pytest.raises(ValueError):
        write_npz_atomic(path, {"a": np.array([object()], dtype=object)})
    arrays, _ = read_npz(path)
    assert np.array_equal(arrays["a"], np.zeros(2))


def test_store_is_writable(store: ArrayStore) -> None:
    assert store.is_writable()
