"""Data preparation: train/test splits, label encoding, standardization and input checks.

Arrays follow the notes' column convention: ``X`` is ``(n_x, m)``, ``Y`` is ``(n_y, m)``; label
vectors are 1-D of length ``m``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.decision import class_indices
from core.errors import ConfigurationError, CoreError, ShapeError

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]
Label = int | str


def check_matrix(X: Any, name: str, n_rows: int | None = None) -> FloatArray:
    """``X`` as a float64 ``(n_rows, m)`` array; raises ShapeError naming ``name`` otherwise."""
    A = np.asarray(X)
    if A.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D array (features, samples), got shape {A.shape}.")
    if n_rows is not None and A.shape[0] != n_rows:
        raise ShapeError(f"{name} must have {n_rows} rows, got shape {A.shape}.")
    if not (np.issubdtype(A.dtype, np.number) or A.dtype == np.bool_):
        raise ShapeError(f"{name} must be numeric, got dtype {A.dtype}.")
    return A.astype(np.float64, copy=False)


def check_finite(X: ArrayLike, name: str) -> None:
    """Raise CoreError naming ``name`` and the first NaN or infinite position of ``X``."""
    A = np.asarray(X)
    bad = ~np.isfinite(A)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CoreError(
            f"{name} contains a non-finite value ({A[position]}) at index {position}; "
            f"{int(bad.sum())} bad value(s) in total."
        )


def _is_categorical(y: NDArray[Any]) -> bool:
    return not np.issubdtype(y.dtype, np.floating)


def _stratified_test_counts(counts: IndexArray, test_fraction: float) -> IndexArray:
    """Test-set size per class: about ``fraction * count``, at least 1 when a class has >= 2
    samples, at most ``count - 1``; the total is the rounded overall size where the bounds allow."""
    ideal = counts * test_fraction
    low = np.where((counts >= 2) & (test_fraction > 0), 1, 0)
    high = counts - 1
    take = np.clip(np.floor(ideal).astype(np.int64), low, high)
    target = int(np.clip(round(float(counts.sum()) * test_fraction), low.sum(), high.sum()))
    # Largest-remainder rounding: give the missing samples to the classes furthest below ideal.
    for c in np.argsort(-(ideal - take), kind="stable"):
        if take.sum() >= target:
            break
        if take[c] < high[c]:
            take[c] += 1
    for c in np.argsort(ideal - take, kind="stable"):
        if take.sum() <= target:
            break
        if take[c] > low[c]:
            take[c] -= 1
    return take


def train_test_split_indices(
    y: ArrayLike,
    test_fraction: float = 0.2,
    seed: int | np.random.Generator = 0,
    stratify: bool = True,
) -> tuple[IndexArray, IndexArray]:
    """Split sample indices into a training and a test set.

    Parameters
    ----------
    y : array_like of shape (m,)
        Targets. Integer, boolean or string targets are classes and are stratified when
        ``stratify`` is true; float targets are treated as regression values (plain random split).
    test_fraction : float
        Share of samples in the test set, in ``[0, 1)``; 0 gives an empty test set.
    seed : int or numpy.random.Generator
        Source of randomness; the same seed gives the same split.
    stratify : bool
        Keep class proportions: every class keeps at least one training sample, and a class
        with at least two samples also gets at least one test sample.

    Returns
    -------
    train_idx, test_idx : ndarray of int64
        Sorted, disjoint indices covering ``0..m-1``.
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ShapeError(f"y must be 1-D (one target per sample), got shape {labels.shape}.")
    if not 0.0 <= test_fraction < 1.0:
        raise ConfigurationError(f"test_fraction must be in [0, 1), got {test_fraction!r}.")
    m = labels.shape[0]
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if stratify and _is_categorical(labels) and m > 0:
        classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        n_test = _stratified_test_counts(counts.astype(np.int64), test_fraction)
        test_parts = [
            rng.permutation(np.flatnonzero(inverse == c))[: n_test[c]] for c in range(classes.size)
        ]
        test_idx = np.concatenate(test_parts).astype(np.int64)
    else:
        n_test = round(m * test_fraction)
        if m - n_test < 1:
            raise ConfigurationError(
                f"test_fraction={test_fraction} of {m} sample(s) leaves the training set empty."
            )
        test_idx = rng.permutation(m)[:n_test].astype(np.int64)
    mask = np.zeros(m, dtype=bool)
    mask[test_idx] = True
    train_idx = np.flatnonzero(~mask).astype(np.int64)
    if train_idx.size == 0:
        raise ConfigurationError(f"{m} sample(s) leave the training set empty.")
    return train_idx, np.sort(test_idx)


def one_hot(indices: ArrayLike, k: int) -> FloatArray:
    """One-hot matrix ``(k, m)`` of class indices ``(m,)`` in ``0..k-1``."""
    idx = np.asarray(indices)
    if idx.ndim != 1:
        raise ShapeError(f"indices must be 1-D, got shape {idx.shape}.")
    if idx.size and (idx.min() < 0 or idx.max() >= k):
        raise CoreError(
            f"class indices must be in [0, {k - 1}], got range {idx.min()}..{idx.max()}."
        )
    Y = np.zeros((k, idx.size), dtype=np.float64)
    Y[idx.astype(np.int64), np.arange(idx.size)] = 1.0
    return Y


def _normalize_label(value: Any) -> Label:
    """A label as int or str: whole floats become ints so ``1.0`` and ``1`` are one class."""
    if isinstance(value, str | np.str_):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if np.isfinite(value) and float(value).is_integer():
            return int(value)
        raise CoreError(f"class labels must be whole numbers or strings, got {value!r}.")
    raise CoreError(f"class labels must be whole numbers or strings, got {value!r}.")


def _as_label_list(labels: Any) -> list[Label]:
    values = np.asarray(labels, dtype=object)
    if values.ndim != 1:
        raise ShapeError(f"labels must be 1-D, got shape {values.shape}.")
    return [_normalize_label(v) for v in values]


@dataclass(frozen=True)
class LabelCodec:
    """Maps class labels to network targets and back.

    Two classes give one sigmoid output (``Y`` of shape ``(1, m)``, 1 for ``classes[1]``);
    ``k > 2`` classes give one-hot targets of shape ``(k, m)`` for a softmax output.
    """

    classes: tuple[Label, ...]

    def __post_init__(self) -> None:
        if len(self.classes) < 2:
            raise ConfigurationError(f"need at least 2 classes, got {list(self.classes)}.")
        if len({type(c) for c in self.classes}) > 1:
            raise ConfigurationError(f"classes mix numbers and strings: {list(self.classes)}.")
        if len(set(self.classes)) != len(self.classes):
            raise ConfigurationError(f"classes must be distinct, got {list(self.classes)}.")

    @classmethod
    def fit(cls, labels: Any) -> LabelCodec:
        """A codec whose classes are the sorted unique values of ``labels`` (ints or strings)."""
        values = _as_label_list(labels)
        kinds = {type(v) for v in values}
        if len(kinds) > 1:
            raise CoreError("class labels mix numbers and strings.")
        return cls(tuple(sorted(set(values))))

    @property
    def n_classes(self) -> int:
        """Number of classes ``k``."""
        return len(self.classes)

    @property
    def n_outputs(self) -> int:
        """Output units the network needs: 1 for two classes, ``k`` otherwise."""
        return 1 if self.n_classes == 2 else self.n_classes

    def to_indices(self, labels: Any) -> IndexArray:
        """Class indices ``(m,)`` of ``labels``; unknown labels raise CoreError naming them."""
        lookup = {c: i for i, c in enumerate(self.classes)}
        values = _as_label_list(labels)
        unknown = sorted({repr(v) for v in values if v not in lookup})
        if unknown:
            raise CoreError(
                f"unknown label(s) {', '.join(unknown[:10])}; known classes: {list(self.classes)}."
            )
        return np.array([lookup[v] for v in values], dtype=np.int64)

    def encode(self, labels: Any) -> FloatArray:
        """Targets ``Y``: ``(1, m)`` of 0/1 for two classes, one-hot ``(k, m)`` otherwise."""
        indices = self.to_indices(labels)
        if self.n_classes == 2:
            return indices.astype(np.float64)[np.newaxis, :]
        return one_hot(indices, self.n_classes)

    def decode(self, indices_or_Y: ArrayLike) -> list[Label]:
        """Labels from class indices ``(m,)`` or from outputs ``(n_outputs, m)``.

        A ``(1, m)`` output is thresholded at 0.5 (``classes[1]`` when ``> 0.5``); a ``(k, m)``
        output takes the arg-max of each column.
        """
        A = np.asarray(indices_or_Y)
        if A.ndim == 2:
            if A.shape[0] != self.n_outputs:
                raise ShapeError(
                    f"outputs must have {self.n_outputs} row(s) for {self.n_classes} classes, "
                    f"got shape {A.shape}."
                )
            idx = class_indices(A)
        elif A.ndim == 1:
            idx = A.astype(np.int64)
            if idx.size and (not np.array_equal(idx, A) or idx.min() < 0):
                raise CoreError(f"class indices must be whole numbers >= 0, got {A[:5]}.")
            if idx.size and idx.max() >= self.n_classes:
                raise CoreError(f"class index {idx.max()} out of range for {self.n_classes}.")
        else:
            raise ShapeError(f"expected indices (m,) or outputs (n, m), got shape {A.shape}.")
        return [self.classes[i] for i in idx]

    def to_dict(self) -> dict[str, list[Label]]:
        """JSON-able form."""
        return {"classes": list(self.classes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelCodec:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(_normalize_label(c) for c in data["classes"]))


@dataclass(frozen=True, eq=False)
class Standardizer:
    """Per-feature standardization :math:`(X - \\mu) / s` learned on training data.

    ``mean`` and ``scale`` have shape ``(n_x, 1)``; ``scale`` is the population standard
    deviation, or 1 where a feature is constant (so constant features map to 0, not NaN).
    """

    mean: FloatArray
    scale: FloatArray

    @classmethod
    def fit(cls, X: ArrayLike) -> Standardizer:
        """Learn mean and scale from training data ``X`` of shape ``(n_x, m)``, ``m >= 1``."""
        A = check_matrix(X, "X")
        if A.shape[1] == 0:
            raise ShapeError("X must have at least one sample (column) to fit a standardizer.")
        check_finite(A, "X")
        std = A.std(axis=1, keepdims=True)
        return cls(mean=A.mean(axis=1, keepdims=True), scale=np.where(std > 0, std, 1.0))

    @property
    def n_features(self) -> int:
        """Number of features ``n_x``."""
        return int(self.mean.shape[0])

    def transform(self, X: ArrayLike) -> FloatArray:
        """Standardized copy of ``X`` ``(n_x, m)``."""
        return (check_matrix(X, "X", self.n_features) - self.mean) / self.scale

    def inverse_transform(self, X: ArrayLike) -> FloatArray:
        """Undo :meth:`transform`."""
        return check_matrix(X, "X", self.n_features) * self.scale + self.mean

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-able form: ``{"mean": [...], "scale": [...]}`` (one value per feature)."""
        return {"mean": self.mean[:, 0].tolist(), "scale": self.scale[:, 0].tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Sequence[float]]) -> Standardizer:
        """Inverse of :meth:`to_dict`."""
        mean = np.asarray(data["mean"], dtype=np.float64).reshape(-1, 1)
        scale = np.asarray(data["scale"], dtype=np.float64).reshape(-1, 1)
        if mean.shape != scale.shape:
            raise ShapeError(f"mean {mean.shape} and scale {scale.shape} differ in length.")
        if (scale <= 0).any() or not np.isfinite(scale).all():
            raise ConfigurationError(f"scale must be finite and > 0, got {scale[:, 0].tolist()}.")
        return cls(mean=mean, scale=scale)


def feature_stats(X: ArrayLike, feature_names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per-feature summary of ``X`` ``(n_x, m)``: min, max, mean, std (population), as floats.

    Each dict also has ``name`` when ``feature_names`` is given. An empty ``X`` gives ``None``
    statistics rather than NaN so the result stays valid JSON.
    """
    A = check_matrix(X, "X")
    if feature_names is not None and len(feature_names) != A.shape[0]:
        raise ShapeError(f"{len(feature_names)} feature names for {A.shape[0]} features.")
    stats: list[dict[str, Any]] = []
    for i, row in enumerate(A):
        entry: dict[str, Any] = {} if feature_names is None else {"name": feature_names[i]}
        if row.size:
            entry |= {
                "min": float(row.min()),
                "max": float(row.max()),
                "mean": float(row.mean()),
                "std": float(row.std()),
            }
        else:
            entry |= {"min": None, "max": None, "mean": None, "std": None}
        stats.append(entry)
    return stats
