"""The figure of a hyperparameter search: each trial's score in order, and the best so far."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.figure_canvas import NEGATIVE, POSITIVE, encode, new_figure


def trials_plot(
    numbers: Sequence[int],
    values: Sequence[float],
    *,
    maximize: bool,
    metric: str,
    format: str = "png",
) -> bytes:
    """Score of each scored trial (points, by trial number) and the best so far (a step line)."""
    x, y = np.asarray(numbers, dtype=np.float64), np.asarray(values, dtype=np.float64)
    best = np.maximum.accumulate(y) if maximize else np.minimum.accumulate(y)
    with new_figure(format) as fig:
        ax = fig.add_subplot()
        if x.size:
            ax.plot(x, y, "o", color=POSITIVE, label="trial")
            ax.step(x, best, where="post", color=NEGATIVE, label="best so far")
            ax.legend(loc="best")
        else:
            ax.text(
                0.5,
                0.5,
                "no scored trial yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="0.4",
            )
        ax.set_xlabel("trial")
        ax.set_ylabel(metric)
        ax.set_title(f"Search: {metric} per trial")
        ax.grid(True, alpha=0.3)
        return encode(fig, format)
