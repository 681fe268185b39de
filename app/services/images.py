"""Model figures: decision boundary, weight histograms and activation plots, with ETags.

Every image is named by an ETag computed *before* rendering from what determines its bytes
(the kind, model id, parameter version, dataset, format and options), so a client holding the
current ETag is answered 304 without any drawing, and recent images are kept in a small LRU so
repeated requests are not drawn twice either.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInput, NotFound
from app.services.compatibility import check_compatible
from app.services.datasets import DatasetArrays, DatasetService
from app.services.loaded_model import LoadedModel, ServedModel
from app.services.model_cache import ModelCache
from app.storage.tables import DatasetRow
from core import plots
from core.activations import HIDDEN_ACTIVATIONS
from core.inference import rows_to_columns

ImageFormat = Literal["png", "svg"]
MEDIA_TYPES: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}
DEFAULT_RESOLUTION = 150
RENDERED_KEEP = 32


@dataclass(frozen=True)
class ImagePlan:
    """An image to serve: its ETag, and how to draw it if the client does not have it."""

    etag: str
    media_type: str
    render: Callable[[], bytes]
    pinned: bool
    """True when the content can never change under this URL (a pinned version, an activation)."""


def etag_for(*parts: object) -> str:
    """A strong ETag (quoted) for an image determined by ``parts``."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]
    return f'"{digest}"'


class ImageService:
    """Plan and render figures; rendering is the caller's to schedule (it is CPU work)."""

    def __init__(self, cache: ModelCache, datasets: DatasetService) -> None:
        self.cache = cache
        self.datasets = datasets
        self._rendered: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, plan: ImagePlan) -> bytes:
        """The image's bytes, drawn at most once while it stays among the recent ones."""
        with self._lock:
            data = self._rendered.get(plan.etag)
            if data is not None:
                self._rendered.move_to_end(plan.etag)
                return data
        data = plan.render()
        with self._lock:
            self._rendered[plan.etag] = data
            while len(self._rendered) > RENDERED_KEEP:
                self._rendered.popitem(last=False)
        return data

    def decision_boundary(
        self,
        model_id: str,
        dataset_id: str | None,
        version: int | None,
        fmt: ImageFormat,
        resolution: int = DEFAULT_RESOLUTION,
    ) -> ImagePlan:
        """The model's output over the plane with the dataset's train and test points on it."""
        loaded = self.cache.get(model_id, version)
        model = loaded.model
        if model.input_schema is not None:
            _check_plane_columns(model.input_schema)
        elif model.n_inputs != 2:
            raise InvalidInput(
                f"a decision boundary needs a model with 2 inputs, this one has {model.n_inputs}",
                code="not_two_inputs",
            )
        dataset_id = dataset_id or model.dataset_id
        if dataset_id is None:
            raise InvalidInput(
                "the model has no dataset of its own: give dataset_id", code="dataset_required"
            )
        dataset = self.datasets.get(dataset_id)
        if model.input_schema is not None:
            check_compatible(model, dataset, training=False)
        elif dataset.n_features != 2:
            raise InvalidInput(
                f"dataset {dataset_id} has {dataset.n_features} features, the model takes 2",
                code="feature_count_mismatch",
            )
        etag = etag_for("boundary", model.id, loaded.version, dataset_id, fmt, resolution)

        def draw() -> bytes:
            return _draw_boundary(self.datasets, loaded, dataset, fmt, resolution)

        return ImagePlan(etag, MEDIA_TYPES[fmt], draw, pinned=version is not None)

    def weights(self, model_id: str, version: int | None, fmt: ImageFormat) -> ImagePlan:
        """Histograms of each layer's weights against the initializer's distribution."""
        loaded = self.cache.get(model_id, version)
        etag = etag_for("weights", loaded.model.id, loaded.version, fmt)

        def draw() -> bytes:
            arch = loaded.ann.spec
            return plots.weights_histogram(
                loaded.ann.parameters,
                arch.layer_sizes,
                arch.activations,
                arch.init,
                distribution=arch.distribution,
                format=fmt,
            )

        return ImagePlan(etag, MEDIA_TYPES[fmt], draw, pinned=version is not None)


def activation(name: str, fmt: ImageFormat) -> ImagePlan:
    """An activation ``g(z)`` next to its derivative ``g'(z)`` (the notes' exercise)."""
    if name not in HIDDEN_ACTIVATIONS:
        raise NotFound(
            f"no activation {name!r} with a derivative to plot; there are "
            f"{', '.join(sorted(HIDDEN_ACTIVATIONS))}",
            code="unknown_activation",
        )
    return ImagePlan(
        etag_for("activation", name, fmt),
        MEDIA_TYPES[fmt],
        lambda: plots.activation_plot(name, format=fmt),
        pinned=True,
    )


def _check_plane_columns(schema: tuple[dict[str, Any], ...]) -> None:
    """``InvalidInput`` unless a table model takes exactly two numeric columns (the plane)."""
    if len(schema) != 2:
        names = ", ".join(repr(c["name"]) for c in schema)
        raise InvalidInput(
            f"a decision boundary needs a model of 2 numeric input columns, this one takes "
            f"{len(schema)} ({names})",
            code="not_two_inputs",
        )
    other = [c for c in schema if c["type"] != "numeric"]
    if other:
        raise InvalidInput(
            f"a decision boundary is drawn over 2 numeric input columns; column "
            f"{other[0]['name']!r} is {other[0]['type']}",
            code="not_numeric_inputs",
        )


def _plane_points(
    model: ServedModel, row: DatasetRow, arrays: DatasetArrays
) -> tuple[NDArray[np.float64], str, str]:
    """The points ``(m, 2)`` over the model's two input columns (NaN where a cell is missing)
    and the columns' names."""
    if model.input_schema is None:
        return arrays.features, "x1", "x2"
    first, second = (c["name"] for c in model.input_schema)
    stored = arrays.feature_columns(row.feature_names)
    columns = [np.asarray(stored[name], dtype=np.float64) for name in (first, second)]
    return np.column_stack(columns), first, second


def _draw_boundary(
    datasets: DatasetService,
    loaded: LoadedModel,
    row: DatasetRow,
    fmt: ImageFormat,
    resolution: int,
) -> bytes:
    arrays = datasets.load_arrays(row)
    model = loaded.model
    features, first, second = _plane_points(model, row, arrays)
    # A row with a missing coordinate has no place on the plane (the model would impute it).
    placed = np.isfinite(features).all(axis=1)
    if model.codec is not None and row.classes is not None:
        # Colour points by the model's class order, whatever order the dataset lists them in.
        lookup = {c: i for i, c in enumerate(model.codec.classes)}
        labels = [row.classes[int(i)] for i in arrays.targets]
        known = np.array([lab in lookup for lab in labels])
        y = np.array([lookup.get(lab, -1) for lab in labels], dtype=np.int64)
    else:
        known = np.ones(arrays.targets.shape[0], dtype=bool)
        y = arrays.targets.astype(np.float64)
    known &= placed
    train = arrays.train_idx[known[arrays.train_idx]]
    test = arrays.test_idx[known[arrays.test_idx]]
    has_test = test.size > 0
    return plots.decision_boundary(
        loaded.inference.column_outputs,
        rows_to_columns(features[train]),
        y[train],
        X_test=rows_to_columns(features[test]) if has_test else None,
        y_test=y[test] if has_test else None,
        classes=list(model.classes) if model.classes is not None else None,
        resolution=resolution,
        task=model.task,
        format=fmt,
        axis_names=(first, second),
    )
