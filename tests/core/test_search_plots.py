"""Tests for core.search_plots: the experiments' figures are valid, deterministic images whose
content follows their inputs, and bad curves are refused."""

from __future__ import annotations

import io

import matplotlib.image
import numpy as np
import pytest

from core.errors import ShapeError
from core.search_plots import Curve, curves_plot, importance_plot, trials_plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
A = Curve("#0 lr=0.1", [1, 10, 20], [0.7, 0.5, 0.3], [1, 20], [0.72, 0.35])
B = Curve("#1 lr=1", [1, 10, 20], [0.7, None, 0.1])  # a gap, no validation


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(matplotlib.image.imread(io.BytesIO(data), format="png"))


def test_curves_are_deterministic_and_drawn() -> None:
    one = curves_plot([A], title="t")
    assert one.startswith(PNG_MAGIC) and one == curves_plot([A], title="t")
    two = curves_plot([A, B], title="t")
    assert not np.array_equal(_pixels(one), _pixels(two))
    empty = curves_plot([], title="t")
    assert not np.array_equal(_pixels(empty), _pixels(one))
    svg = curves_plot([A, B], title="t", log_y=True, format="svg")
    assert svg.lstrip().startswith(b"<?xml")


def test_mismatched_curves_are_refused() -> None:
    with pytest.raises(ShapeError):
        curves_plot([Curve("bad", [1, 2], [0.5])], title="t")
    with pytest.raises(ShapeError):
        curves_plot([Curve("bad", [1], [0.5], [1, 2], [0.4])], title="t")


def test_importance_bars_follow_the_values() -> None:
    even = importance_plot([("a", 0.5), ("b", 0.5)], method="fanova")
    skewed = importance_plot([("a", 0.9), ("b", 0.1)], method="fanova")
    assert even.startswith(PNG_MAGIC) and even == importance_plot(
        [("a", 0.5), ("b", 0.5)], method="fanova"
    )
    assert not np.array_equal(_pixels(even), _pixels(skewed))
    assert importance_plot([], method="ped_anova", format="svg").lstrip().startswith(b"<?xml")


def test_trials_plot_shows_scores() -> None:
    scored = trials_plot([0, 1, 2], [0.5, 0.8, 0.7], maximize=True, metric="accuracy")
    none = trials_plot([], [], maximize=True, metric="accuracy")
    assert scored.startswith(PNG_MAGIC) and not np.array_equal(_pixels(scored), _pixels(none))
