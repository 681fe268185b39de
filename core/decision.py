"""The rule that turns a classifier's output into classes, in numpy and in plain Python.

A single sigmoid unit gives the probability of ``classes[1]``: the class is 1 where it is above
0.5 (the notes' ``A2 > 0.5``), else 0. Several units (softmax) give one probability per class:
the class is the arg-max, the first of equal maxima. Every part of the engine and the service
that labels outputs calls these two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

THRESHOLD = 0.5


def class_indices(A: NDArray[Any]) -> NDArray[np.intp]:
    """Class index ``(m,)`` of each column of the outputs ``A`` ``(n_y, m)``."""
    if A.shape[0] == 1:
        return (A[0] > THRESHOLD).astype(np.intp)
    return A.argmax(axis=0)


def class_index(outputs: Sequence[float]) -> int:
    """:func:`class_indices` of one sample's outputs given as a list of floats."""
    if len(outputs) == 1:
        return int(outputs[0] > THRESHOLD)
    # max keeps the first of equal maxima, as argmax does.
    return max(range(len(outputs)), key=outputs.__getitem__)
