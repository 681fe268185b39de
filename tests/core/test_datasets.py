"""Tests for core.datasets: shapes, labels, balance, determinism and the playground's geometry."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.datasets import make_moons

from core.datasets import GENERATORS, Dataset, make_dataset
from core.errors import ConfigurationError

CLASSIFICATION = ["circle", "xor", "gauss", "spiral", "moons"]
REGRESSION = ["reg-plane", "reg-gauss"]


def test_generator_names_are_the_api_names():
    assert set(GENERATORS) == set(CLASSIFICATION + REGRESSION)


@pytest.mark.parametrize("kind", CLASSIFICATION)
@pytest.mark.parametrize("n_samples", [2, 7, 400])
def test_classification_sets_are_balanced_binary(kind, n_samples):
    data = make_dataset(kind, n_samples, noise=0.2, seed=1)
    assert isinstance(data, Dataset)
    assert data.X.shape == (2, n_samples)
    assert data.X.dtype == np.float64
    assert data.y.shape == (n_samples,)
    assert data.y.dtype == np.int64
    assert data.task == "binary"
    assert data.classes == (0, 1)
    assert data.feature_names == ("x1", "x2")
    assert data.kind == kind
    counts = np.bincount(data.y, minlength=2)
    assert abs(int(counts[0]) - int(counts[1])) <= 1
    assert np.isfinite(data.X).all()


@pytest.mark.parametrize("kind", REGRESSION)
def test_regression_sets(kind):
    data = make_dataset(kind, 300, noise=0.1, seed=2)
    assert data.task == "regression"
    assert data.classes is None
    assert data.y.dtype == np.float64
    assert data.X.shape == (2, 300)
    assert np.abs(data.X).max() <= 6.0
    assert np.unique(data.y).size > 100


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_same_seed_same_data_other_seed_other_data(kind):
    a = make_dataset(kind, 50, noise=0.1, seed=5)
    b = make_dataset(kind, 50, noise=0.1, seed=5)
    c = make_dataset(kind, 50, noise=0.1, seed=6)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


def test_generator_instance_is_accepted_and_global_state_untouched():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    make_dataset("circle", 20, seed=np.random.default_rng(3))
    assert np.random.random() == before


def test_arrays_are_read_only():
    data = make_dataset("xor", 10)
    with pytest.raises(ValueError):
        data.X[0, 0] = 1.0
    with pytest.raises(ValueError):
        data.y[0] = 1


def test_samples_are_shuffled():
    y = make_dataset("circle", 200, seed=0).y
    # Unshuffled data would be one block per class: a single label change.
    assert np.count_nonzero(np.diff(y)) > 20


def test_circle_geometry_without_noise():
    data = make_dataset("circle", 500, seed=0)
    r = np.hypot(data.X[0], data.X[1])
    assert r[data.y == 1].max() < 2.5
    assert r[data.y == 0].min() >= 3.5
    assert r.max() <= 5.0


def test_xor_labels_follow_the_quadrant_product():
    data = make_dataset("xor", 500, seed=0)
    product = data.X[0] * data.X[1]
    np.testing.assert_array_equal(data.y == 1, product >= 0)
    assert np.abs(data.X).min() >= 0.3
    assert np.abs(data.X).max() <= 5.3


def test_gauss_centres():
    data = make_dataset("gauss", 4000, seed=0)
    np.testing.assert_allclose(data.X[:, data.y == 1].mean(axis=1), [2.0, 2.0], atol=0.1)
    np.testing.assert_allclose(data.X[:, data.y == 0].mean(axis=1), [-2.0, -2.0], atol=0.1)
    np.testing.assert_allclose(data.X[:, data.y == 1].var(axis=1), [0.5, 0.5], rtol=0.1)


def test_noise_spreads_the_gaussians():
    tight = make_dataset("gauss", 2000, noise=0.0, seed=0)
    wide = make_dataset("gauss", 2000, noise=0.5, seed=0)
    np.testing.assert_allclose(wide.X[:, wide.y == 0].var(axis=1), [4.0, 4.0], rtol=0.15)
    assert wide.X.var() > tight.X.var()


def test_spiral_three_arms_is_multiclass():
    data = make_dataset("spiral", 301, noise=0.0, seed=0, n_classes=3)
    assert data.task == "multiclass"
    assert data.classes == (0, 1, 2)
    counts = np.bincount(data.y)
    assert counts.max() - counts.min() <= 1
    assert np.hypot(data.X[0], data.X[1]).max() < 5.0


def test_gauss_accepts_more_classes():
    data = make_dataset("gauss", 300, seed=0, n_classes=4)
    assert data.classes == (0, 1, 2, 3)
    means = np.stack([data.X[:, data.y == c].mean(axis=1) for c in range(4)])
    # Four distinct centres on a circle of radius 2*sqrt(2).
    np.testing.assert_allclose(np.hypot(means[:, 0], means[:, 1]), 2 * np.sqrt(2), atol=0.3)


def test_moons_match_sklearn_without_noise():
    data = make_dataset("moons", 100, seed=0)
    X_ref, y_ref = make_moons(n_samples=100, shuffle=False, noise=None)
    ours = sorted(zip(data.X[0].round(12), data.X[1].round(12), data.y, strict=True))
    ref = sorted(zip(X_ref[:, 0].round(12), X_ref[:, 1].round(12), y_ref, strict=True))
    assert ours == ref


def test_reg_plane_values():
    data = make_dataset("reg-plane", 200, seed=0)
    np.testing.assert_allclose(data.y, (data.X[0] + data.X[1]) / 10)


def test_reg_gauss_values_at_bump_centres_and_far_away():
    data = make_dataset("reg-gauss", 5000, seed=0)
    assert data.y.min() >= -1.0
    assert data.y.max() <= 1.0
    near = np.hypot(data.X[0] + 4.0, data.X[1] - 2.5) < 0.2
    assert near.sum() >= 3
    assert (data.y[near] > 0.9).all()
    far = np.hypot(data.X[0] - 2.0, data.X[1]) < 0.3  # between bumps, > 2 from every centre
    assert far.sum() >= 3
    assert (data.y[far] == 0.0).all()


@pytest.mark.parametrize("n_samples", [1, 0, -3])
def test_too_few_samples_names_the_value(n_samples):
    with pytest.raises(ConfigurationError, match=str(n_samples)):
        make_dataset("circle", n_samples)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"kind": "square"}, "square"),
        ({"kind": "circle", "noise": 1.5}, "1.5"),
        ({"kind": "circle", "noise": -0.1}, "-0.1"),
        ({"kind": "circle", "n_classes": 3}, "n_classes=3"),
        ({"kind": "spiral", "n_classes": 1}, "got 1"),
        ({"kind": "reg-plane", "n_classes": 2}, "regression"),
        ({"kind": "spiral", "n_samples": 3, "n_classes": 4}, "got 3"),
        ({"kind": "circle", "n_samples": 2.5}, "2.5"),
    ],
)
def test_bad_options_raise(kwargs, fragment):
    with pytest.raises(ConfigurationError, match=re.escape(fragment)):
        make_dataset(**kwargs)
