"""Deterministic figure rendering and shared drawing helpers for :mod:`core.plots`.

matplotlib is imported inside the functions (so ``import core`` stays light) and only its object
API is used: a ``Figure`` drawn by ``FigureCanvasAgg``, never pyplot's global figure registry.
Figures are built under matplotlib's default style with a fixed SVG hash salt and saved without
date/software metadata, so the bytes are a pure function of the inputs (usable as ETags).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.datasets import TASKS
from core.errors import ConfigurationError, ShapeError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS: tuple[str, ...] = ("png", "svg")
# The TensorFlow Playground's colours: orange for the negative class, blue for the positive one.
NEGATIVE, POSITIVE = "#f59322", "#0877bd"
VALUE_CMAP = "RdBu"

FloatArray = NDArray[np.float64]


def check_format(format: str) -> None:
    """Raise ConfigurationError unless ``format`` is one of :data:`FORMATS`."""
    if format not in FORMATS:
        raise ConfigurationError(f"format must be one of {list(FORMATS)}, got {format!r}.")


def check_task(task: str) -> None:
    """Raise ConfigurationError unless ``task`` is one of :data:`core.datasets.TASKS`."""
    if task not in TASKS:
        raise ConfigurationError(f"task must be one of {list(TASKS)}, got {task!r}.")


@contextmanager
def new_figure(format: str, width: float = 6.0, height: float = 4.5) -> Iterator[Figure]:
    """A fresh ``width`` x ``height`` inch figure at 100 dpi, cleared when the block ends.

    The format is checked first so a bad request costs no drawing.
    """
    check_format(format)
    import matplotlib
    import matplotlib.style
    from matplotlib.figure import Figure

    # rc_context restores the caller's settings; the default style makes output independent of
    # whatever matplotlibrc the host has.
    with matplotlib.rc_context():
        matplotlib.style.use("default")
        matplotlib.rcParams["svg.hashsalt"] = "annserve"
        fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
        try:
            yield fig
        finally:
            fig.clear()


def encode(fig: Figure, format: str) -> bytes:
    """The figure as PNG or SVG bytes, without timestamps or version strings."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    metadata: dict[str, Any] = (
        {"Software": None} if format == "png" else {"Date": None, "Creator": None}
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format=format, metadata=metadata)
    return buffer.getvalue()


def points(X: ArrayLike, name: str) -> FloatArray:
    """``X`` as a float ``(2, m)`` array; ShapeError naming ``name`` otherwise."""
    A = np.asarray(X, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != 2:
        raise ShapeError(f"{name} must have shape (2, m) (two features), got {A.shape}.")
    return A


def targets(y: ArrayLike, m: int, name: str) -> NDArray[Any]:
    """``y`` as an ``(m,)`` array; ShapeError naming ``name`` otherwise."""
    t = np.asarray(y)
    if t.shape != (m,):
        raise ShapeError(f"{name} must have shape ({m},), got {t.shape}.")
    return t


def class_colours(k: int) -> list[Any]:
    """``k`` distinct colours: the playground's pair for two classes, tab10/tab20 beyond."""
    if k <= 2:
        return [NEGATIVE, POSITIVE]
    from matplotlib import colormaps

    cmap = colormaps["tab10" if k <= 10 else "tab20"]
    return [cmap(c % cmap.N) for c in range(k)]


def class_names(classes: Sequence[Any] | None, k: int) -> list[str]:
    """Display names of ``k`` classes: the given labels, or ``"0".."k-1"``."""
    if classes is None:
        return [str(c) for c in range(k)]
    if len(classes) < k:
        raise ShapeError(f"{len(classes)} class labels for {k} classes.")
    return [str(c) for c in classes]


def scatter_classes(
    ax: Axes, X: FloatArray, y: NDArray[Any], names: list[str], *, hollow: bool = False
) -> None:
    """Points ``X`` ``(2, m)`` of each class index in ``y`` in its colour.

    ``hollow`` draws rings labelled "(test)", so test points stay distinguishable from the
    filled training points of the same class.
    """
    colours = class_colours(len(names))
    for c, name in enumerate(names):
        P = X[:, y == c]
        if hollow:
            ax.scatter(
                P[0],
                P[1],
                s=30,
                facecolors="none",
                edgecolors=[colours[c]],
                linewidths=1.4,
                label=f"{name} (test)",
            )
        else:
            ax.scatter(
                P[0], P[1], s=18, color=colours[c], edgecolors="white", linewidths=0.4, label=name
            )
