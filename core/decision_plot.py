"""Decision-boundary figure: what a two-input model predicts over the plane, data on top.

Part of the figures of :mod:`core.plots` (which re-exports :func:`decision_boundary`); arrays
follow the column convention, ``X`` is ``(2, m)`` and ``y`` is ``(m,)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.decision import class_indices
from core.errors import ConfigurationError, ShapeError
from core.figure_canvas import (
    NEGATIVE,
    POSITIVE,
    VALUE_CMAP,
    check_format,
    check_task,
    class_colours,
    class_names,
    encode,
    new_figure,
    points,
    scatter_classes,
    targets,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MIN_RESOLUTION, MAX_RESOLUTION = 2, 1000

FloatArray = NDArray[np.float64]
PredictFn = Callable[[FloatArray], ArrayLike]
"""Maps a grid ``(2, k)`` to model outputs ``(n_outputs, k)``."""
Extent = tuple[float, float, float, float]


def _grid(clouds: Sequence[FloatArray], resolution: int) -> tuple[FloatArray, Extent]:
    """A ``(2, resolution**2)`` grid covering the point clouds with a margin, and its extent.

    Without any point (every cloud empty) it covers the square [-1, 1]² (plus the margin).
    """
    stacked = np.hstack([np.zeros((2, 0)), *clouds])
    if stacked.shape[1] == 0:
        stacked = np.array([[-1.0, 1.0], [-1.0, 1.0]])
    low, high = stacked.min(axis=1), stacked.max(axis=1)
    margin = np.maximum(0.1 * (high - low), 0.5)
    low, high = low - margin, high + margin
    G1, G2 = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    return np.vstack([G1.ravel(), G2.ravel()]), (low[0], high[0], low[1], high[1])


def _infer_task(outputs: int, y: NDArray[Any], task: str | None) -> str:
    if task is not None:
        check_task(task)
        return task
    if outputs > 1:
        return "multiclass"
    return "regression" if np.issubdtype(y.dtype, np.floating) else "binary"


def _value_map(
    fig: Figure, ax: Axes, out: FloatArray, extent: Extent, data: list[tuple[FloatArray, Any]]
) -> None:
    """Regression: the predicted value as an image, points coloured on the same scale."""
    r = int(np.sqrt(out.shape[1]))
    values = out[0].reshape(r, r)
    every = np.concatenate([values.ravel(), *[np.asarray(y, float) for _, y in data]])
    vmin, vmax = float(np.nanmin(every)), float(np.nanmax(every))
    shown = ax.imshow(
        values,
        cmap=VALUE_CMAP,
        vmin=vmin,
        vmax=vmax,
        alpha=0.6,
        extent=extent,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
    )
    for (X, y), (marker, edge, label) in zip(
        data, [("o", "0.35", "train"), ("D", "black", "test")], strict=False
    ):
        ax.scatter(
            X[0],
            X[1],
            c=np.asarray(y, float),
            cmap=VALUE_CMAP,
            vmin=vmin,
            vmax=vmax,
            s=20,
            marker=marker,
            edgecolors=edge,
            linewidths=0.5,
            label=label,
        )
    fig.colorbar(shown, ax=ax, label="prediction")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.8)


def _class_map(
    fig: Figure, ax: Axes, out: FloatArray, extent: Extent, names: list[str], binary: bool
) -> None:
    """Classification: P(positive) with its 0.5 contour (binary) or the arg-max class map."""
    from matplotlib.colors import Colormap, LinearSegmentedColormap, ListedColormap

    r = int(np.sqrt(out.shape[1]))
    image: dict[str, Any] = {"extent": extent, "origin": "lower"}
    # Nearest-neighbour pixels: smoothing would blend neighbouring class indices into others.
    pixels: dict[str, Any] = {"aspect": "auto", "interpolation": "nearest"}
    cmap: Colormap
    if binary:
        cmap = LinearSegmentedColormap.from_list("playground", [NEGATIVE, "white", POSITIVE])
        P1 = out[-1].reshape(r, r)
        shown = ax.imshow(P1, cmap=cmap, vmin=0.0, vmax=1.0, alpha=0.7, **image, **pixels)
        if P1.min() < 0.5 < P1.max():
            ax.contour(P1, levels=[0.5], colors="0.3", linewidths=1.0, **image)
        fig.colorbar(shown, ax=ax, label=f"P(class {names[1]})")
    else:
        cmap = ListedColormap(class_colours(len(names)))
        labels = class_indices(out).reshape(r, r)
        top = len(names) - 0.5
        ax.imshow(labels, cmap=cmap, vmin=-0.5, vmax=top, alpha=0.35, **image, **pixels)


def decision_boundary(
    predict_proba: PredictFn,
    X: ArrayLike,
    y: ArrayLike,
    *,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    classes: Sequence[Any] | None = None,
    resolution: int = 150,
    task: str | None = None,
    format: str = "png",
    axis_names: tuple[str, str] = ("x1", "x2"),
) -> bytes:
    """What a 2-input model predicts over the plane, with the data on top.

    ``predict_proba`` maps a grid ``(2, k)`` to outputs ``(1, k)`` (binary probability or
    regression value) or ``(n_classes, k)``. Binary models get a probability map with the 0.5
    contour, multiclass models the arg-max class map, regressors a value map. Training points
    ``X`` ``(2, m)``, ``y`` ``(m,)`` (class indices or values) are filled; test points are rings
    (diamonds for regression). ``task`` is inferred when omitted: several outputs mean
    multiclass, one output with float ``y`` regression, otherwise binary. ``axis_names`` label
    the two inputs.
    """
    check_format(format)
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ConfigurationError(
            f"resolution must be in [{MIN_RESOLUTION}, {MAX_RESOLUTION}], got {resolution}."
        )
    X_train = points(X, "X")
    data = [(X_train, targets(y, X_train.shape[1], "y"))]
    if (X_test is None) != (y_test is None):
        raise ConfigurationError("give both X_test and y_test, or neither.")
    if X_test is not None and y_test is not None:
        X_te = points(X_test, "X_test")
        data.append((X_te, targets(y_test, X_te.shape[1], "y_test")))
    grid, extent = _grid([X for X, _ in data], resolution)
    out = np.asarray(predict_proba(grid), dtype=np.float64)
    if out.ndim != 2 or out.shape[1] != grid.shape[1]:
        raise ShapeError(
            f"predict_proba must return (n_outputs, {grid.shape[1]}), got {out.shape}."
        )
    kind = _infer_task(out.shape[0], data[0][1], task)
    with new_figure(format, 6.0, 5.0) as fig:
        ax = fig.add_subplot()
        if kind == "regression":
            _value_map(fig, ax, out, extent, data)
        else:
            names = class_names(classes, max(out.shape[0], 2))
            _class_map(fig, ax, out, extent, names, binary=kind == "binary")
            for i, (X_part, y_part) in enumerate(data):
                scatter_classes(ax, X_part, y_part, names, hollow=i == 1)
            ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel(axis_names[1])
        return encode(fig, format)
