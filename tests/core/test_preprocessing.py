"""Tests for core.preprocessing: splits, label codec, standardizer, stats and input checks."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigurationError, CoreError, ShapeError
from core.preprocessing import (
    LabelCodec,
    Standardizer,
    check_finite,
    check_matrix,
    feature_stats,
    one_hot,
    train_test_split_indices,
)

# ---------------------------------------------------------------- train_test_split_indices


def _assert_partition(train: np.ndarray, test: np.ndarray, m: int) -> None:
    assert train.dtype == np.int64
    assert test.dtype == np.int64
    assert np.all(np.diff(train) > 0)
    assert np.all(np.diff(test) > 0)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(m))


def test_split_sizes_and_partition():
    y = np.repeat([0, 1], 50)
    train, test = train_test_split_indices(y, 0.2, seed=0)
    _assert_partition(train, test, 100)
    assert test.size == 20
    # Stratified: exact class proportions when they divide evenly.
    assert np.bincount(y[test]).tolist() == [10, 10]


def test_split_is_deterministic_per_seed():
    y = np.arange(60) % 3
    a = train_test_split_indices(y, 0.3, seed=4)
    b = train_test_split_indices(y, 0.3, seed=4)
    c = train_test_split_indices(y, 0.3, seed=5)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 30), min_size=1, max_size=6),
    fraction=st.floats(0.01, 0.95),
    seed=st.integers(0, 2**16),
)
def test_stratified_split_keeps_every_class(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    train, test = train_test_split_indices(y, fraction, seed=seed)
    _assert_partition(train, test, y.size)
    for c, count in enumerate(counts):
        assert np.count_nonzero(y[train] == c) >= 1
        if count >= 2:
            assert np.count_nonzero(y[test] == c) >= 1
    # Total test size stays close to the requested share (bounded by the per-class rules).
    forced = sum(1 for n in counts if n >= 2)
    assert test.size <= max(round(y.size * fraction), forced)


def test_string_labels_are_stratified():
    y = np.array(["cat"] * 9 + ["dog"] * 3)
    _train, test = train_test_split_indices(y, 0.25, seed=0)
    assert sorted(y[test].tolist()) == ["cat", "cat", "dog"]


def test_float_targets_are_split_without_stratification():
    y = np.linspace(0.0, 1.0, 10)
    train, test = train_test_split_indices(y, 0.3, seed=1)
    _assert_partition(train, test, 10)
    assert test.size == 3


def test_unstratified_split_of_labels():
    y = np.repeat([0, 1], [95, 5])
    train, test = train_test_split_indices(y, 0.1, seed=0, stratify=False)
    _assert_partition(train, test, 100)
    assert test.size == 10


def test_zero_fraction_gives_empty_test_set():
    train, test = train_test_split_indices(np.array([0, 1, 0, 1]), 0.0)
    assert test.size == 0
    np.testing.assert_array_equal(train, np.arange(4))


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_bad_fraction_raises(fraction):
    with pytest.raises(ConfigurationError, match=re.escape(str(fraction))):
        train_test_split_indices(np.array([0, 1, 0, 1]), fraction)


def test_split_that_empties_train_raises():
    with pytest.raises(ConfigurationError, match="empty"):
        train_test_split_indices(np.array([0.5]), 0.9)
    with pytest.raises(ConfigurationError, match="empty"):
        train_test_split_indices(np.array([], dtype=np.int64), 0.2)


def test_split_rejects_2d_targets():
    with pytest.raises(ShapeError):
        train_test_split_indices(np.zeros((2, 3), dtype=np.int64))


# ---------------------------------------------------------------- LabelCodec and one_hot


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0, 1], 3), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    with pytest.raises(CoreError, match="3"):
        one_hot([0, 3], 3)


def test_binary_codec_encodes_positive_as_second_class():
    codec = LabelCodec.fit(["yes", "no", "yes"])
    assert codec.classes == ("no", "yes")
    assert codec.n_outputs == 1
    Y = codec.encode(["yes", "no"])
    assert Y.shape == (1, 2)
    np.testing.assert_array_equal(Y, [[1.0, 0.0]])
    assert codec.decode(np.array([[0.9, 0.2]])) == ["yes", "no"]
    assert codec.decode(np.array([1, 0])) == ["yes", "no"]


def test_multiclass_codec_round_trip():
    labels = [3, 1, 2, 3, 1]
    codec = LabelCodec.fit(labels)
    assert codec.classes == (1, 2, 3)
    assert codec.n_outputs == 3
    Y = codec.encode(labels)
    assert Y.shape == (3, 5)
    np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
    assert codec.decode(Y) == labels
    np.testing.assert_array_equal(codec.to_indices(labels), [2, 0, 1, 2, 0])


def test_whole_floats_are_the_same_class_as_ints():
    codec = LabelCodec.fit(np.array([0.0, 1.0, 1.0]))
    assert codec.classes == (0, 1)
    assert all(type(c) is int for c in codec.classes)
    np.testing.assert_array_equal(codec.to_indices([1, 0.0]), [1, 0])


def test_codec_rejects_bad_labels():
    with pytest.raises(CoreError, match=r"0\.5"):
        LabelCodec.fit([0.5, 1.0])
    with pytest.raises(CoreError, match="mix"):
        LabelCodec.fit([1, "a"])
    with pytest.raises(ConfigurationError, match="at least 2"):
        LabelCodec.fit([1, 1])
    codec = LabelCodec.fit(["a", "b"])
    with pytest.raises(CoreError, match="'z'"):
        codec.encode(["a", "z"])
    with pytest.raises(ShapeError):
        codec.decode(np.zeros((2, 3)))
    with pytest.raises(CoreError):
        codec.decode(np.array([0, 2]))


def test_codec_dict_round_trip_is_json():
    codec = LabelCodec.fit(["b", "a", "c"])
    data = json.loads(json.dumps(codec.to_dict()))
    assert LabelCodec.from_dict(data) == codec


# ---------------------------------------------------------------- Standardizer


def test_standardizer_zero_mean_unit_std_and_inverse():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 5.0, (3, 200))
    X[2] = 7.0  # a constant feature must not give NaN
    scaler = Standardizer.fit(X)
    assert scaler.mean.shape == (3, 1)
    assert scaler.scale.shape == (3, 1)
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z[:2].mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:2].std(axis=1), 1.0)
    np.testing.assert_array_equal(Z[2], 0.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)


def test_standardizer_matches_sklearn():
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(1).uniform(-4, 9, (4, 50))
    ours = Standardizer.fit(X).transform(X)
    theirs = StandardScaler().fit_transform(X.T).T
    np.testing.assert_allclose(ours, theirs)


def test_standardizer_dict_round_trip():
    scaler = Standardizer.fit(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    data = json.loads(json.dumps(scaler.to_dict()))
    restored = Standardizer.from_dict(data)
    np.testing.assert_array_equal(restored.mean, scaler.mean)
    np.testing.assert_array_equal(restored.scale, scaler.scale)
    with pytest.raises(ConfigurationError):
        Standardizer.from_dict({"mean": [0.0], "scale": [0.0]})


def test_standardizer_shape_errors():
    scaler = Standardizer.fit(np.ones((2, 4)))
    with pytest.raises(ShapeError, match="2 rows"):
        scaler.transform(np.ones((3, 4)))
    with pytest.raises(ShapeError):
        Standardizer.fit(np.ones(4))
    with pytest.raises(ShapeError):
        Standardizer.fit(np.ones((2, 0)))
    with pytest.raises(CoreError, match="non-finite"):
        Standardizer.fit(np.array([[1.0, np.nan]]))


# ---------------------------------------------------------------- stats and checks


def test_feature_stats():
    X = np.array([[1.0, 2.0, 3.0], [-1.0, -1.0, 5.0]])
    stats = feature_stats(X, ["a", "b"])
    assert stats[0] == {"name": "a", "min": 1.0, "max": 3.0, "mean": 2.0, "std": np.std([1, 2, 3])}
    assert stats[1]["min"] == -1.0
    assert stats[1]["max"] == 5.0
    assert json.dumps(stats)
    assert feature_stats(np.zeros((1, 0)))[0]["mean"] is None
    with pytest.raises(ShapeError):
        feature_stats(X, ["only one"])


def test_check_finite_names_array_and_position():
    check_finite(np.ones((2, 2)), "X")
    X = np.ones((2, 3))
    X[1, 2] = np.inf
    X[1, 1] = np.nan
    with pytest.raises(CoreError, match=r"inputs .*\(1, 1\)"):
        check_finite(X, "inputs")


def test_check_matrix():
    assert check_matrix([[1, 2]], "X").dtype == np.float64
    with pytest.raises(ShapeError, match="W"):
        check_matrix(np.ones(3), "W")
    with pytest.raises(ShapeError, match="numeric"):
        check_matrix(np.array([["a"]]), "X")
