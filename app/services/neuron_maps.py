"""What every unit of a network over two raw inputs computes: its output over a grid of inputs.

For the playground's picture of the network (one small heat map per input feature and per
neuron, edges drawn from the weights), one call answers the whole network. The grid is over
the two raw inputs ``x1, x2``; it goes through the model's preprocessing stage (scaling and
derived features such as ``x1^2`` or ``sin(x1)``) and then the network, both through
:class:`core.inference.Inference` (:meth:`~core.inference.Inference.network_inputs`, then
:meth:`~core.inference.Inference.layer_outputs`). The answer holds every encoded input feature
and each layer's activations on the ``resolution x resolution`` grid, with the layer's ``W``
and ``b``; :mod:`app.services.neuron_map_files` writes the same maps as a compact binary file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import FieldError, InvalidInput
from core.inference import Inference

FloatArray = NDArray[np.floating[Any]]
MIN_RESOLUTION, MAX_RESOLUTION = 2, 64
DEFAULT_EXTENT = (-6.0, 6.0, -6.0, 6.0)
DECIMALS = 4  # a heat map needs no more; it keeps the JSON small
RAW_INPUT_NAMES = ("x1", "x2")


@dataclass(frozen=True)
class Grid:
    """``resolution**2`` points over ``extent`` = (x1_min, x1_max, x2_min, x2_max), row by row
    from ``x2_min`` up, each row from ``x1_min`` right."""

    resolution: int
    extent: tuple[float, float, float, float]

    def check(self) -> Grid:
        """This grid, or ``InvalidInput`` naming the bad bound."""
        x1_min, x1_max, x2_min, x2_max = self.extent
        errors = [
            FieldError(field=name, message="must be below its maximum", code="empty_extent")
            for name, low, high in (("x1_min", x1_min, x1_max), ("x2_min", x2_min, x2_max))
            if not low < high
        ]
        if errors:
            raise InvalidInput("the grid's extent is empty", code="empty_extent", errors=errors)
        return self

    def columns(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The grid in the notes' columns, ``X`` of shape ``(2, resolution**2)``."""
        x1_min, x1_max, x2_min, x2_max = self.extent
        G1, G2 = np.meshgrid(
            np.linspace(x1_min, x1_max, self.resolution),
            np.linspace(x2_min, x2_max, self.resolution),
        )
        return np.vstack([G1.ravel(), G2.ravel()])


@dataclass(frozen=True)
class LayerMap:
    """One layer's activations ``A`` ``(n_l, resolution**2)`` and its parameters."""

    activation: str
    A: FloatArray
    W: FloatArray
    b: FloatArray


@dataclass(frozen=True)
class NeuronMaps:
    """The network's encoded inputs ``inputs`` ``(n_x, resolution**2)`` (named
    ``input_names``) and every layer's map, over ``grid``."""

    grid: Grid
    input_names: list[str]
    inputs: FloatArray
    layers: list[LayerMap]


def _input_names(inference: Inference) -> list[str]:
    """The names of the network's inputs: the stage's encoded features, else x1 and x2."""
    stage = inference.preprocessor
    if stage is None:
        return list(RAW_INPUT_NAMES)
    return stage.feature_names()


def _check_two_raw_inputs(inference: Inference) -> None:
    stage = inference.preprocessor
    numeric = stage is None or all(kind == "numeric" for _, kind in stage.columns)
    if inference.n_columns != 2 or not numeric:
        what = "inputs" if stage is None else "input columns"
        raise InvalidInput(
            f"neuron maps need a model with 2 numeric {what}, this one has "
            f"{inference.n_columns}" + ("" if numeric else " (not all numeric)"),
            code="not_two_inputs",
        )


def neuron_maps(inference: Inference, grid: Grid) -> NeuronMaps:
    """Every encoded input and every unit of ``inference``'s network over ``grid``."""
    _check_two_raw_inputs(inference)
    ann = inference.ann
    with np.errstate(over="ignore", invalid="ignore"):
        inputs = inference.network_inputs(grid.columns())
    outputs = inference.layer_outputs(inputs)
    if not (np.isfinite(inputs).all() and all(np.isfinite(A).all() for A in outputs)):
        raise InvalidInput("a unit's output overflowed on this grid", code="not_finite")
    layers = [
        LayerMap(activation, A, getattr(ann, f"W{index}"), getattr(ann, f"b{index}").ravel())
        for index, (A, activation) in enumerate(zip(outputs, ann.spec.activations, strict=True), 1)
    ]
    return NeuronMaps(grid, _input_names(inference), inputs, layers)


def maps_head(maps: NeuronMaps) -> dict[str, Any]:
    """What describes the maps, without the grids: the grid, the input names, per layer its
    number, activation, units and the range of its values."""
    return {
        "resolution": maps.grid.resolution,
        "extent": list(maps.grid.extent),
        "input_names": maps.input_names,
        "layers": [
            {
                "layer": index,
                "activation": layer.activation,
                "units": int(layer.A.shape[0]),
                "min": float(layer.A.min()),
                "max": float(layer.A.max()),
            }
            for index, layer in enumerate(maps.layers, 1)
        ],
    }


def maps_body(maps: NeuronMaps) -> dict[str, Any]:
    """The JSON body: :func:`maps_head` with every grid (rounded) and the parameters."""
    head = maps_head(maps)
    head["inputs"] = np.round(maps.inputs, DECIMALS).tolist()
    for entry, layer in zip(head["layers"], maps.layers, strict=True):
        entry["values"] = np.round(layer.A, DECIMALS).tolist()
        entry["W"] = layer.W.tolist()
        entry["b"] = layer.b.tolist()
    return head
