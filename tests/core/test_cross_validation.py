"""K-fold indices against scikit-learn's KFold and StratifiedKFold on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import KFold, StratifiedKFold

from core.cross_validation import fold_split
from core.errors import ConfigurationError


@pytest.mark.parametrize(("m", "k"), [(10, 2), (23, 5), (7, 7), (100, 3)])
def test_kfold_equals_sklearn(m: int, k: int) -> None:
    y = np.arange(m) % 3
    for fold, (train, test) in enumerate(KFold(k).split(np.zeros((m, 1)))):
        ours = fold_split(y, k, fold, stratified=False)
        np.testing.assert_array_equal(ours[0], train)
        np.testing.assert_array_equal(ours[1], test)


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("labels", [["b", "a", "c"], [1, 0], [0, 1, 2, 3]])
def test_stratified_equals_sklearn(k: int, labels: list[object]) -> None:
    rng = np.random.default_rng(0)
    y = np.array(labels, dtype=object)[rng.integers(0, len(labels), size=61)]
    y = np.array(y.tolist())
    for fold, (train, test) in enumerate(StratifiedKFold(k).split(np.zeros((61, 1)), y)):
        ours = fold_split(y, k, fold, stratified=True)
        np.testing.assert_array_equal(ours[0], train)
        np.testing.assert_array_equal(ours[1], test)


def test_shuffled_folds_partition_the_samples_and_follow_the_seed() -> None:
    y = np.repeat([0, 1], [30, 12])
    splits = [fold_split(y, 4, f, stratified=True, rng=np.random.default_rng(3)) for f in range(4)]
    tests = np.sort(np.concatenate([test for _, test in splits]))
    np.testing.assert_array_equal(tests, np.arange(42))
    again = fold_split(y, 4, 1, stratified=True, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(again[1], splits[1][1])
    assert all(np.sum(y[test] == 1) == 3 for _, test in splits)


def test_bad_folds_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="folds must be >= 2"):
        fold_split(np.zeros(5), 1, 0, stratified=False)
    with pytest.raises(ConfigurationError, match="exceeds the size of every class"):
        fold_split(np.array([0, 1, 0, 1]), 3, 0, stratified=True)
