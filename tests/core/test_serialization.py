"""npz round trips: generic arrays + metadata, models, checkpoints; atomic writes, no pickles."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core import ANN, ConfigurationError
from core.serialization import (
    METADATA_KEY,
    atomic_write_bytes,
    load_model,
    load_npz,
    load_state,
    model_from_bytes,
    model_to_bytes,
    npz_bytes,
    npz_from_bytes,
    save_model,
    save_npz,
    save_state,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)


@settings(max_examples=40, deadline=None)
@given(
    content=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_.]{0,8}", fullmatch=True), arrays, max_size=4
    ),
    metadata=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
)
def test_npz_bytes_round_trip(content, metadata) -> None:
    loaded, meta = npz_from_bytes(npz_bytes(content, metadata))
    assert meta == json.loads(json.dumps(metadata))
    assert loaded.keys() == content.keys()
    for name, value in content.items():
        assert loaded[name].dtype == value.dtype and loaded[name].shape == value.shape
        assert loaded[name].tobytes() == value.tobytes()


def test_metadata_is_stored_as_uint8_not_pickle(tmp_path) -> None:
    save_npz(tmp_path / "d.npz", {"X": np.ones((2, 3))}, {"name": "circle", "n": 3})
    with np.load(tmp_path / "d.npz", allow_pickle=False) as raw:
        assert raw[METADATA_KEY].dtype == np.uint8
    arrays, meta = load_npz(tmp_path / "d.npz")
    assert meta == {"name": "circle", "n": 3}
    np.testing.assert_array_equal(arrays["X"], np.ones((2, 3)))


def test_rejects_objects_reserved_names_and_non_json() -> None:
    with pytest.raises(ConfigurationError, match="dtype"):
        npz_bytes({"a": np.array([{}], dtype=object)}, {})
    with pytest.raises(ConfigurationError, match="reserved"):
        npz_bytes({METADATA_KEY: np.zeros(1)}, {})
    with pytest.raises(ConfigurationError, match="JSON"):
        npz_bytes({}, {"x": float("nan")})
    with pytest.raises(ConfigurationError, match="npz"):
        npz_from_bytes(b"not a zip")
    buffer = io.BytesIO()
    np.savez(buffer, a=np.zeros(2))
    with pytest.raises(ConfigurationError, match=METADATA_KEY):
        npz_from_bytes(buffer.getvalue())


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path) -> None:
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["f.bin"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_model_round_trip_exact(tmp_path, dtype: str) -> None:
    ann = ANN(
        3,
        [5, 4],
        2,
        hidden_activation=["relu", "sigmoid"],
        output_activation="linear",
        seed=4,
        dtype=dtype,
        distribution="uniform",
    )
    ann.fit(np.random.default_rng(0).standard_normal((3, 20)), np.zeros((2, 20)), n_iter=5)
    for loaded in (model_from_bytes(model_to_bytes(ann)), _via_path(tmp_path, ann)):
        assert loaded.architecture() == ann.architecture()
        assert loaded.flat_parameters.tobytes() == ann.flat_parameters.tobytes()
        assert loaded.dtype == np.dtype(dtype)
    with pytest.raises(ConfigurationError, match="not a model"):
        model_from_bytes(npz_bytes({}, {"kind": "dataset"}))


def _via_path(tmp_path, ann: ANN) -> ANN:
    save_model(ann, tmp_path / "m.npz")
    return load_model(tmp_path / "m.npz")


def test_state_round_trip_exact(tmp_path) -> None:
    X = np.random.default_rng(0).standard_normal((2, 30))
    Y = (X[:1] > 0).astype(float)
    result = ANN(2, 4, 1).fit(X, Y, n_iter=7, optimizer="adam", batch_size=8, X_val=X, Y_val=Y)
    save_state(result.state, tmp_path / "checkpoint.npz")
    loaded = load_state(tmp_path / "checkpoint.npz")
    original = result.state
    assert loaded.history == original.history and loaded.iteration == 7
    assert loaded.rng_state == original.rng_state and loaded.options == original.options
    assert loaded.best_val_cost == original.best_val_cost and loaded.elapsed == original.elapsed
    for name in original.parameters:
        assert loaded.parameters[name].tobytes() == original.parameters[name].tobytes()
    assert original.best_parameters is not None and loaded.best_parameters is not None
    for name in original.optimizer_state:
        assert loaded.optimizer_state[name].tobytes() == original.optimizer_state[name].tobytes()
    with pytest.raises(ConfigurationError, match="not a model"):
        load_model(tmp_path / "checkpoint.npz")
