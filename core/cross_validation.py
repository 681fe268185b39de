"""K-fold cross-validation indices: plain and stratified, the folds scikit-learn's ``KFold`` and
``StratifiedKFold`` build.

Without a generator the folds equal scikit-learn's with ``shuffle=False`` (its algorithm, so a
search scored here can be checked against ``GridSearchCV``); with one, the samples (or each
class's samples) are permuted first, which is what ``shuffle=True`` means there.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import ConfigurationError, ShapeError

IndexArray = NDArray[np.int64]


def _check(m: int, k: int) -> None:
    if k < 2:
        raise ConfigurationError(f"folds must be >= 2, got {k}.")
    if k > m:
        raise ConfigurationError(f"folds={k} exceeds the number of samples {m}.")


def kfold_assignment(m: int, k: int, rng: np.random.Generator | None = None) -> IndexArray:
    """The test fold ``(m,)`` of each sample: ``k`` contiguous blocks, the first ``m % k`` of
    them one sample larger (of a permutation of the samples when ``rng`` is given)."""
    _check(m, k)
    sizes = np.full(k, m // k, dtype=np.int64)
    sizes[: m % k] += 1
    order = np.arange(m) if rng is None else rng.permutation(m)
    folds = np.empty(m, dtype=np.int64)
    folds[order] = np.repeat(np.arange(k), sizes)
    return folds


def stratified_assignment(
    y: ArrayLike, k: int, rng: np.random.Generator | None = None
) -> IndexArray:
    """The test fold ``(m,)`` of each sample with every fold keeping the class proportions.

    Classes are numbered in order of first appearance; the samples sorted by class are dealt
    to the folds in turn, so fold sizes differ by at most one per class.
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ShapeError(f"y must be 1-D (one target per sample), got shape {labels.shape}.")
    m = labels.shape[0]
    _check(m, k)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    _, by_appearance = np.unique(first, return_inverse=True)
    encoded = by_appearance[inverse.reshape(-1)]
    n_classes = first.size
    if np.bincount(encoded).max() < k:
        raise ConfigurationError(f"folds={k} exceeds the size of every class.")
    ordered = np.sort(encoded)
    allocation = np.array(
        [np.bincount(ordered[i::k], minlength=n_classes) for i in range(k)], dtype=np.int64
    )
    folds = np.empty(m, dtype=np.int64)
    for c in range(n_classes):
        for_class = np.repeat(np.arange(k), allocation[:, c])
        if rng is not None:
            rng.shuffle(for_class)
        folds[encoded == c] = for_class
    return folds


def fold_split(
    y: ArrayLike,
    k: int,
    fold: int,
    *,
    stratified: bool,
    rng: np.random.Generator | None = None,
) -> tuple[IndexArray, IndexArray]:
    """Training and validation indices (sorted) of fold ``fold`` of ``k``."""
    if not 0 <= fold < k:
        raise ConfigurationError(f"fold must be in [0, {k}), got {fold}.")
    labels = np.asarray(y)
    folds = (
        stratified_assignment(labels, k, rng)
        if stratified
        else kfold_assignment(labels.shape[0], k, rng)
    )
    return np.flatnonzero(folds != fold).astype(np.int64), np.flatnonzero(folds == fold)
