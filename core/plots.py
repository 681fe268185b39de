"""Figures for the service: cost curves, decision boundaries, datasets, activations, weights.

Every function returns the encoded image as bytes, ``format="png"`` (default) or ``"svg"``;
other formats raise ConfigurationError. Rendering is deterministic (same input, same bytes) and
leaves no figure open; see :mod:`core.figure_canvas`. Arrays follow the column convention: ``X``
is ``(2, m)``, labels ``y`` are ``(m,)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from core.decision_plot import decision_boundary
from core.errors import ConfigurationError, ShapeError
from core.figure_canvas import (
    FORMATS,
    NEGATIVE,
    POSITIVE,
    VALUE_CMAP,
    check_format,
    check_task,
    class_names,
    encode,
    new_figure,
    points,
    scatter_classes,
    targets,
)
from core.initializers import DISTRIBUTIONS, layer_variance

__all__ = [
    "FORMATS",
    "activation_plot",
    "cost_curve",
    "dataset_scatter",
    "decision_boundary",
    "weights_histogram",
]

FloatArray = NDArray[np.float64]


def cost_curve(
    iterations: ArrayLike,
    costs: ArrayLike,
    val_iterations: ArrayLike | None = None,
    val_costs: ArrayLike | None = None,
    *,
    log_y: bool = False,
    title: str | None = None,
    format: str = "png",
) -> bytes:
    """Training (and validation) cost against the iteration, as the notes' ``fit`` saves it.

    ``iterations`` and ``costs`` are ``(t,)`` (likewise the validation pair); an empty history
    draws empty axes with a note. With ``log_y`` the cost axis is logarithmic (non-positive
    values are masked).
    """
    curves = [(iterations, costs, "training", POSITIVE, "-")]
    if (val_iterations is None) != (val_costs is None):
        raise ConfigurationError("give both val_iterations and val_costs, or neither.")
    if val_iterations is not None and val_costs is not None:
        curves.append((val_iterations, val_costs, "validation", NEGATIVE, "--"))
    arrays = []
    for it, J, label, colour, style in curves:
        t, c = np.asarray(it, dtype=np.float64), np.asarray(J, dtype=np.float64)
        if t.ndim != 1 or t.shape != c.shape:
            raise ShapeError(f"{label} iterations {t.shape} and costs {c.shape} must match (t,).")
        arrays.append((t, c, label, colour, style))
    with new_figure(format) as fig:
        ax = fig.add_subplot()
        for t, c, label, colour, style in arrays:
            if t.size:
                ax.plot(t, c, color=colour, linestyle=style, label=label)
        if ax.lines:
            ax.legend(loc="upper right")
            if log_y:
                ax.set_yscale("log", nonpositive="mask")
        else:
            ax.text(
                0.5,
                0.5,
                "no cost history yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="0.4",
            )
        ax.set_xlabel("iteration")
        ax.set_ylabel("cost J")
        ax.set_title(title if title is not None else "Cost")
        ax.grid(True, alpha=0.3)
        return encode(fig, format)


def dataset_scatter(
    X: ArrayLike,
    y: ArrayLike,
    *,
    classes: Sequence[Any] | None = None,
    task: str = "binary",
    format: str = "png",
) -> bytes:
    """Two-feature data ``X`` ``(2, m)``: by class for classification (``y`` class indices
    ``(m,)``), coloured by value for regression."""
    check_format(format)
    check_task(task)
    A = points(X, "X")
    t = targets(y, A.shape[1], "y")
    with new_figure(format, 5.5, 5.0) as fig:
        ax = fig.add_subplot()
        if task == "regression":
            shown = ax.scatter(A[0], A[1], c=t.astype(np.float64), cmap=VALUE_CMAP, s=18)
            fig.colorbar(shown, ax=ax, label="y")
        else:
            k = max(int(t.max(initial=1)) + 1, len(classes) if classes is not None else 0)
            scatter_classes(ax, A, t, class_names(classes, k))
            ax.legend(loc="upper right", fontsize="small")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_aspect("equal", adjustable="datalim")
        return encode(fig, format)


def activation_plot(name: str, *, format: str = "png") -> bytes:
    """The activation ``g(z)`` and its derivative ``g'(z)`` on ``[-5, 5]``, side by side."""
    if name not in HIDDEN_ACTIVATIONS:
        raise ConfigurationError(
            f"activation must be one of {list(HIDDEN_ACTIVATIONS)}, got {name!r}."
        )
    g, g_prime = ACTIVATIONS[name].g, ACTIVATIONS[name].g_prime
    assert g_prime is not None  # every hidden activation has one
    Z = np.linspace(-5.0, 5.0, 501)
    with new_figure(format, 8.0, 3.5) as fig:
        left, right = fig.subplots(1, 2)
        left.plot(Z, g(Z), color=POSITIVE)
        left.set_title(f"{name}(z)")
        right.plot(Z, g_prime(Z), color=NEGATIVE)
        right.set_title(f"{name}'(z)")
        for ax in (left, right):
            ax.set_xlabel("z")
            ax.axhline(0.0, color="0.6", linewidth=0.8)
            ax.axvline(0.0, color="0.6", linewidth=0.8)
            ax.grid(True, alpha=0.3)
        return encode(fig, format)


def _layer_weights(
    parameters: Mapping[str, ArrayLike], layer_sizes: Sequence[int], n_layers: int
) -> list[FloatArray]:
    weights = []
    for l in range(1, n_layers + 1):
        if f"W{l}" not in parameters:
            raise ShapeError(f"parameters have no W{l}.")
        W = np.asarray(parameters[f"W{l}"], dtype=np.float64)
        expected = (layer_sizes[l], layer_sizes[l - 1])
        if W.shape != expected:
            raise ShapeError(f"W{l} must have shape {expected}, got {W.shape}.")
        weights.append(W)
    return weights


def _init_pdf(z: FloatArray, variance: float, distribution: str) -> FloatArray:
    """Density the initializer draws from: N(0, variance) or U(-a, a) with a = sqrt(3 variance)."""
    if distribution == "normal":
        return np.exp(-(z**2) / (2.0 * variance)) / np.sqrt(2.0 * np.pi * variance)
    limit = np.sqrt(3.0 * variance)
    return np.where(np.abs(z) <= limit, 1.0 / (2.0 * limit), 0.0)


def weights_histogram(
    parameters: Mapping[str, ArrayLike],
    layer_sizes: Sequence[int],
    activations: Sequence[str],
    init: str,
    *,
    distribution: str = "normal",
    format: str = "png",
) -> bytes:
    """One panel per layer: the histogram of ``W[l]`` ``(n_l, n_{l-1})`` against the density of
    the initializer (the notes' Glorot exercise), with :math:`\\sigma^2` from Glorot or He for
    that layer's activation (``init`` is ``"glorot"``, ``"he"`` or ``"auto"``)."""
    check_format(format)
    if distribution not in DISTRIBUTIONS:
        raise ConfigurationError(
            f"distribution must be one of {list(DISTRIBUTIONS)}, got {distribution!r}."
        )
    n_layers = len(layer_sizes) - 1
    if n_layers < 1 or len(activations) != n_layers:
        raise ConfigurationError(
            f"need {max(n_layers, 0)} activations for layer sizes {list(layer_sizes)}, "
            f"got {len(activations)}."
        )
    weights = _layer_weights(parameters, layer_sizes, n_layers)
    variances = [
        layer_variance(init, activations[l - 1], layer_sizes[l - 1], layer_sizes[l])
        for l in range(1, n_layers + 1)
    ]
    with new_figure(format, max(4.0, 3.2 * n_layers), 3.5) as fig:
        axes = fig.subplots(1, n_layers, squeeze=False)[0]
        for l, (ax, W, variance) in enumerate(zip(axes, weights, variances, strict=True), 1):
            span = max(4.0 * np.sqrt(variance), float(np.abs(W).max(initial=0.0)))
            z = np.linspace(-span, span, 401)
            ax.hist(
                W.ravel(),
                bins=min(30, max(5, W.size // 4)),
                density=True,
                color=POSITIVE,
                alpha=0.6,
                label="weights",
            )
            ax.plot(
                z,
                _init_pdf(z, variance, distribution),
                color=NEGATIVE,
                label=f"{distribution}, σ²={variance:.3g}",
            )
            ax.set_title(f"W{l} {W.shape}, {activations[l - 1]}", fontsize="small")
            ax.legend(fontsize="x-small")
        return encode(fig, format)
