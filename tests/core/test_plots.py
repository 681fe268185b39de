"""Tests for core.plots: valid PNG/SVG bytes, deterministic output, content and errors."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable

import matplotlib
import matplotlib.image
import numpy as np
import pytest

from core.activations import HIDDEN_ACTIVATIONS, sigmoid
from core.datasets import make_dataset
from core.errors import ConfigurationError, ShapeError
from core.initializers import initialize_parameters
from core.plots import (
    activation_plot,
    cost_curve,
    dataset_scatter,
    decision_boundary,
    weights_histogram,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CIRCLE = make_dataset("circle", 60, noise=0.1, seed=0)
SPIRAL = make_dataset("spiral", 60, noise=0.1, seed=0, n_classes=3)
PLANE = make_dataset("reg-plane", 60, seed=0)
SIZES = [2, 8, 4, 1]
ACTS = ["relu", "tanh", "sigmoid"]
PARAMS = initialize_parameters(SIZES, ACTS, "auto", rng=np.random.default_rng(0))


def circle_proba(G):
    return sigmoid(2.5 - np.hypot(G[0], G[1]))[np.newaxis, :]


def three_class_proba(G):
    angle = np.arctan2(G[1], G[0])
    return np.vstack([np.cos(angle), np.cos(angle - 2.0), np.cos(angle + 2.0)])


# name -> (renderer taking format, expected (height, width) in pixels)
RENDERERS: dict[str, tuple[Callable[[str], bytes], tuple[int, int]]] = {
    "cost_curve": (
        lambda f: cost_curve(
            np.arange(50), np.exp(-np.arange(50) / 10), [0, 25], [1.0, 0.2], format=f
        ),
        (450, 600),
    ),
    "cost_curve_empty": (lambda f: cost_curve([], [], format=f), (450, 600)),
    "boundary_binary": (
        lambda f: decision_boundary(
            circle_proba,
            CIRCLE.X[:, :40],
            CIRCLE.y[:40],
            X_test=CIRCLE.X[:, 40:],
            y_test=CIRCLE.y[40:],
            classes=("out", "in"),
            resolution=30,
            format=f,
        ),
        (500, 600),
    ),
    "boundary_multiclass": (
        lambda f: decision_boundary(three_class_proba, SPIRAL.X, SPIRAL.y, resolution=30, format=f),
        (500, 600),
    ),
    "boundary_regression": (
        lambda f: decision_boundary(
            lambda G: G[:1] / 6,
            PLANE.X[:, :40],
            PLANE.y[:40],
            X_test=PLANE.X[:, 40:],
            y_test=PLANE.y[40:],
            resolution=30,
            format=f,
        ),
        (500, 600),
    ),
    "scatter_classes": (
        lambda f: dataset_scatter(SPIRAL.X, SPIRAL.y, task="multiclass", format=f),
        (500, 550),
    ),
    "scatter_regression": (
        lambda f: dataset_scatter(PLANE.X, PLANE.y, task="regression", format=f),
        (500, 550),
    ),
    "activation": (lambda f: activation_plot("tanh", format=f), (350, 800)),
    "weights": (lambda f: weights_histogram(PARAMS, SIZES, ACTS, "auto", format=f), (350, 960)),
}


@pytest.mark.parametrize("name", list(RENDERERS))
def test_png_is_valid_and_sized(name):
    render, (height, width) = RENDERERS[name]
    data = render("png")
    assert data.startswith(PNG_MAGIC)
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert image.shape == (height, width, 4)


@pytest.mark.parametrize("name", list(RENDERERS))
def test_svg_is_valid_xml(name):
    data = RENDERERS[name][0]("svg")
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize("name", list(RENDERERS))
@pytest.mark.parametrize("format", ["png", "svg"])
def test_same_input_same_bytes(name, format):
    render = RENDERERS[name][0]
    assert render(format) == render(format)


def test_different_input_different_bytes():
    a = cost_curve([0, 1, 2], [1.0, 0.5, 0.2], format="svg")
    b = cost_curve([0, 1, 2], [1.0, 0.5, 0.3], format="svg")
    assert a != b
    assert b"<dc:date>" not in a


@pytest.mark.parametrize("name", list(RENDERERS))
def test_bad_format_raises(name):
    with pytest.raises(ConfigurationError, match="jpg"):
        RENDERERS[name][0]("jpg")


def test_nothing_left_open_and_settings_restored():
    import matplotlib.pyplot as plt

    salt = matplotlib.rcParams["svg.hashsalt"]
    for render, _ in RENDERERS.values():
        render("svg")
    assert plt.get_fignums() == []
    assert matplotlib.rcParams["svg.hashsalt"] == salt


def test_core_plots_imports_matplotlib_lazily():
    code = "import sys, core.plots; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def _centre_pixel(data: bytes) -> np.ndarray:
    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    return image[image.shape[0] // 2, image.shape[1] // 2 - 40, :3]


def test_binary_map_shows_the_probability():
    X = np.array([[-5.0, 5.0], [-5.0, 5.0]])
    y = np.array([0, 1])
    positive = _centre_pixel(decision_boundary(lambda G: np.ones((1, G.shape[1])), X, y))
    negative = _centre_pixel(decision_boundary(lambda G: np.zeros((1, G.shape[1])), X, y))
    assert positive[2] > positive[0]  # playground blue
    assert negative[0] > negative[2]  # playground orange


def test_predict_proba_receives_the_grid():
    seen = []

    def record(G):
        seen.append(G.shape)
        return np.full((1, G.shape[1]), 0.5)

    decision_boundary(record, CIRCLE.X, CIRCLE.y, resolution=12)
    assert seen == [(2, 144)]


def test_decision_boundary_errors():
    with pytest.raises(ShapeError, match="predict_proba"):
        decision_boundary(lambda G: np.ones(G.shape[1]), CIRCLE.X, CIRCLE.y, resolution=10)
    with pytest.raises(ConfigurationError, match="resolution"):
        decision_boundary(circle_proba, CIRCLE.X, CIRCLE.y, resolution=1)
    with pytest.raises(ShapeError, match="X"):
        decision_boundary(circle_proba, np.ones((3, 5)), np.ones(5), resolution=10)
    with pytest.raises(ShapeError, match="y"):
        decision_boundary(circle_proba, CIRCLE.X, CIRCLE.y[:-1], resolution=10)
    with pytest.raises(ConfigurationError, match="X_test"):
        decision_boundary(circle_proba, CIRCLE.X, CIRCLE.y, X_test=CIRCLE.X, resolution=10)
    with pytest.raises(ConfigurationError, match="task"):
        decision_boundary(circle_proba, CIRCLE.X, CIRCLE.y, task="ranking", resolution=10)


def test_cost_curve_errors_and_log_scale():
    with pytest.raises(ShapeError):
        cost_curve([0, 1], [1.0])
    with pytest.raises(ConfigurationError, match="both"):
        cost_curve([0, 1], [1.0, 0.5], val_iterations=[0])
    linear = cost_curve([0, 1, 2], [1.0, 0.1, 0.0], format="svg")
    log = cost_curve([0, 1, 2], [1.0, 0.1, 0.0], log_y=True, format="svg")
    assert linear != log


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_plot_for_every_activation(name):
    assert activation_plot(name).startswith(PNG_MAGIC)


def test_activation_plot_unknown_name():
    with pytest.raises(ConfigurationError, match="swish"):
        activation_plot("swish")


def test_weights_histogram_errors_and_uniform():
    uniform = initialize_parameters(SIZES, ACTS, "glorot", "uniform", rng=np.random.default_rng(1))
    data = weights_histogram(uniform, SIZES, ACTS, "glorot", distribution="uniform")
    assert data.startswith(PNG_MAGIC)
    with pytest.raises(ConfigurationError, match="cauchy"):
        weights_histogram(PARAMS, SIZES, ACTS, "auto", distribution="cauchy")
    with pytest.raises(ConfigurationError, match="activations"):
        weights_histogram(PARAMS, SIZES, ACTS[:2], "auto")
    with pytest.raises(ShapeError, match="W2"):
        weights_histogram({**PARAMS, "W2": np.ones((3, 3))}, SIZES, ACTS, "auto")
    with pytest.raises(ShapeError, match="W3"):
        weights_histogram({"W1": PARAMS["W1"], "W2": PARAMS["W2"]}, SIZES, ACTS, "auto")
    with pytest.raises(ConfigurationError, match="init"):
        weights_histogram(PARAMS, SIZES, ACTS, "lecun")


def test_dataset_scatter_errors():
    with pytest.raises(ConfigurationError, match="task"):
        dataset_scatter(CIRCLE.X, CIRCLE.y, task="clustering")
    with pytest.raises(ShapeError, match="class labels"):
        dataset_scatter(SPIRAL.X, SPIRAL.y, classes=("a",), task="multiclass")


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_decision_boundary_without_points(task):
    # A dataset whose labels the model does not know leaves no point to draw: the map still is.
    empty = np.zeros((2, 0))
    labels = np.zeros(0, dtype=np.float64 if task == "regression" else np.int64)
    seen = []

    def record(G):
        seen.append((G.min(), G.max()))
        return np.full((1, G.shape[1]), 0.5)

    data = decision_boundary(record, empty, labels, X_test=empty, y_test=labels, task=task)
    assert data.startswith(b"\x89PNG")
    assert seen[0][0] < -1.0 and seen[0][1] > 1.0
