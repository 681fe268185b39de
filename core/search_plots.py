"""The figures of experiments: a search's score per trial with the best so far, several runs'
cost curves overlaid, and how much each searched parameter matters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.errors import ShapeError
from core.figure_canvas import NEGATIVE, POSITIVE, encode, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class Curve:
    """One run's cost history: training ``(iterations, costs)`` and optional validation pair;
    ``None`` costs (non-finite values) are gaps."""

    label: str
    iterations: Sequence[float]
    costs: Sequence[float | None]
    val_iterations: Sequence[float] = ()
    val_costs: Sequence[float | None] = ()


def _xy(
    iterations: Sequence[float], costs: Sequence[float | None], what: str
) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(iterations, dtype=np.float64)
    c = np.asarray([np.nan if v is None else v for v in costs], dtype=np.float64)
    if t.shape != c.shape or t.ndim != 1:
        raise ShapeError(f"{what}: iterations {t.shape} and costs {c.shape} must match (t,).")
    return t, c


def _empty_note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def curves_plot(
    curves: Sequence[Curve], *, title: str, log_y: bool = False, format: str = "png"
) -> bytes:
    """The runs' training (solid) and validation (dashed, same colour) costs on one axis, each
    run labelled; with ``log_y`` the cost axis is logarithmic (non-positive values masked)."""
    series = [
        (
            curve.label,
            _xy(curve.iterations, curve.costs, curve.label),
            _xy(curve.val_iterations, curve.val_costs, curve.label),
        )
        for curve in curves
    ]
    with new_figure(format, width=7.0, height=4.8) as fig:
        ax = fig.add_subplot()
        palette = [f"C{k}" for k in range(10)]
        for k, (label, (t, c), (vt, vc)) in enumerate(series):
            colour = palette[k % len(palette)]
            if t.size:
                ax.plot(t, c, color=colour, linestyle="-", label=label)
            if vt.size:
                ax.plot(vt, vc, color=colour, linestyle="--", label=f"{label} (validation)")
        if ax.lines:
            ax.legend(loc="upper right", fontsize="small")
            if log_y:
                ax.set_yscale("log", nonpositive="mask")
        else:
            _empty_note(ax, "no cost history")
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost J")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        return encode(fig, format)


def importance_plot(
    importances: Sequence[tuple[str, float]], *, method: str, format: str = "png"
) -> bytes:
    """Each parameter's importance as a horizontal bar, the most important on top."""
    names = [name for name, _ in importances]
    values = np.asarray([value for _, value in importances], dtype=np.float64)
    with new_figure(format, width=6.0, height=max(2.5, 0.6 * len(names) + 1.5)) as fig:
        ax = fig.add_subplot()
        if names:
            rows = np.arange(len(names))[::-1]
            ax.barh(rows, values, color=POSITIVE)
            ax.set_yticks(rows, names)
            ax.set_xlim(0.0, max(1.0, float(values.max()) * 1.05))
        else:
            _empty_note(ax, "no parameter varied")
        ax.set_xlabel(f"importance ({method})")
        ax.set_title("Which searched parameters matter")
        ax.grid(True, axis="x", alpha=0.3)
        return encode(fig, format)


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
            _empty_note(ax, "no scored trial yet")
        ax.set_xlabel("trial")
        ax.set_ylabel(metric)
        ax.set_title(f"Search: {metric} per trial")
        ax.grid(True, alpha=0.3)
        return encode(fig, format)
