"""Checks on the arrays given to a network: shapes, dtypes, finiteness and target values.

Errors name what was expected and what was received: :class:`~core.errors.ShapeError` for shapes,
:class:`~core.errors.ConfigurationError` for everything else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import ConfigurationError, ShapeError

Array = NDArray[Any]


def _real_finite(array: Array, dtype: np.dtype[Any], name: str) -> Array:
    if array.dtype.kind not in "fiub":
        raise ConfigurationError(f"{name} must hold real numbers, got dtype {array.dtype}.")
    array = np.ascontiguousarray(array, dtype=dtype)
    if not np.all(np.isfinite(array)):
        raise ConfigurationError(f"{name} contains non-finite values.")
    return array


def as_inputs(X: ArrayLike, n_x: int, dtype: np.dtype[Any], name: str = "X") -> Array:
    """``X`` as a C-contiguous finite array of ``dtype`` with shape ``(n_x, m)``, ``m >= 1``."""
    array = np.asarray(X)
    if array.ndim != 2 or array.shape[0] != n_x or array.shape[1] < 1:
        raise ShapeError(f"{name} must have shape (n_x={n_x}, m) with m >= 1, got {array.shape}.")
    return _real_finite(array, dtype, name)


def as_targets(Y: ArrayLike, n_y: int, m: int, dtype: np.dtype[Any], name: str = "Y") -> Array:
    """``Y`` as a C-contiguous finite array of ``dtype`` with shape ``(n_y, m)``."""
    array = np.asarray(Y)
    if array.shape != (n_y, m):
        raise ShapeError(f"{name} must have shape (n_y={n_y}, m={m}), got {array.shape}.")
    return _real_finite(array, dtype, name)


def check_target_values(Y: Array, output_activation: str, name: str = "Y") -> None:
    """Reject targets the output's cost cannot fit.

    sigmoid: every value 0 or 1; softmax: one-hot columns; relu: values >= 0; linear: anything.
    """
    binary = np.all((Y == 0.0) | (Y == 1.0))
    if output_activation == "sigmoid" and not binary:
        raise ConfigurationError(f"{name} must be 0 or 1 everywhere for a sigmoid output.")
    if output_activation == "softmax" and not (binary and np.all(Y.sum(axis=0) == 1.0)):
        raise ConfigurationError(f"{name} must be one-hot columns for a softmax output.")
    if output_activation == "relu" and np.any(Y < 0.0):
        raise ConfigurationError(f"{name} must be >= 0 for a relu output.")
