"""The one place where the API's row layout meets core's column layout.

Clients and the dataset files use rows: ``features`` is ``(m, n)``, one sample per row. ``core``
follows the notes: ``X`` is ``(n_x, m)``, one sample per column. Every conversion between the two
goes through these functions, so a transpose is never forgotten or done twice.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

ScalarT = TypeVar("ScalarT", bound=np.generic)


def rows_to_columns(features: NDArray[ScalarT]) -> NDArray[ScalarT]:
    """``X`` ``(n, m)`` (contiguous, as core's BLAS calls prefer) from rows ``(m, n)``."""
    return np.ascontiguousarray(features.T)


def columns_to_rows(X: NDArray[ScalarT]) -> NDArray[ScalarT]:
    """Rows ``(m, n)`` from core's ``X`` ``(n, m)``."""
    return np.ascontiguousarray(X.T)
