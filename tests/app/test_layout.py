"""The one transpose between the API's rows and core's columns."""

from __future__ import annotations

import numpy as np

from app.services.layout import columns_to_rows, rows_to_columns


def test_round_trip_and_contiguity() -> None:
    rows = np.arange(12, dtype=np.float64).reshape(4, 3)  # 4 samples, 3 features
    X = rows_to_columns(rows)
    assert X.shape == (3, 4)
    assert X.flags.c_contiguous
    assert np.array_equal(X[:, 1], rows[1])
    back = columns_to_rows(X)
    assert back.flags.c_contiguous
    assert np.array_equal(back, rows)
