"""Input and target checks name the expected and the received shape or value."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigurationError, ShapeError
from core.validation import as_inputs, as_targets, check_target_values

F32 = np.dtype(np.float32)


def test_as_inputs_converts_and_checks() -> None:
    # A transposed (Fortran-ordered) int array: both the dtype and the layout must change.
    given = np.arange(6).reshape(3, 2).T
    X = as_inputs(given, 2, F32)
    assert X.dtype == np.float32 and X.flags.c_contiguous and X.shape == (2, 3)
    np.testing.assert_array_equal(X, given)
    with pytest.raises(ShapeError, match=r"n_x=3.*\(2, 3\)"):
        as_inputs(np.zeros((2, 3)), 3, F32)
    with pytest.raises(ShapeError, match=r"m >= 1"):
        as_inputs(np.zeros((2, 0)), 2, F32)
    with pytest.raises(ConfigurationError, match="non-finite"):
        as_inputs(np.array([[np.inf]]), 1, F32)
    with pytest.raises(ConfigurationError, match="real numbers"):
        as_inputs(np.array([["a"]]), 1, F32)


def test_as_targets_checks_shape() -> None:
    assert as_targets([[0, 1]], 1, 2, F32).dtype == np.float32
    with pytest.raises(ShapeError, match=r"n_y=2, m=2.*\(1, 2\)"):
        as_targets([[0, 1]], 2, 2, F32)


@pytest.mark.parametrize(
    ("output", "Y", "match"),
    [
        ("sigmoid", [[0.0, 0.5]], "0 or 1"),
        ("softmax", [[1.0, 1.0], [1.0, 0.0]], "one-hot"),
        ("relu", [[-0.1, 2.0]], ">= 0"),
    ],
)
def test_target_values_rejected(output: str, Y: list[list[float]], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        check_target_values(np.array(Y), output)


@pytest.mark.parametrize(
    ("output", "Y"),
    [
        ("sigmoid", [[0.0, 1.0]]),
        ("softmax", [[1.0, 0.0], [0.0, 1.0]]),
        ("relu", [[0.0, 3.0]]),
        ("linear", [[-5.0, 3.0]]),
    ],
)
def test_target_values_accepted(output: str, Y: list[list[float]]) -> None:
    check_target_values(np.array(Y), output)
