"""What every unit of a two-input network computes: its output over a grid of inputs.

For the playground's picture of the network (one small heat map per neuron, edges drawn from
the weights), one call answers the whole network: each layer's activations on a
``resolution x resolution`` grid, through :meth:`core.inference.Inference.layer_outputs`, with
the layer's ``W`` and ``b``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import FieldError, InvalidInput
from core.inference import Inference
from core.network import ANN

MIN_RESOLUTION, MAX_RESOLUTION = 2, 64
DEFAULT_EXTENT = (-6.0, 6.0, -6.0, 6.0)
DECIMALS = 4  # a heat map needs no more; it keeps the JSON small


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


def neuron_maps(ann: ANN, grid: Grid) -> dict[str, Any]:
    """The body of a neuron-maps response: per layer, its units' grids and its parameters."""
    if ann.n_x != 2:
        raise InvalidInput(
            f"neuron maps need a network with 2 inputs, this one has {ann.n_x}",
            code="not_two_inputs",
        )
    outputs = Inference(ann).layer_outputs(grid.columns())
    layers = []
    for index, (A, activation) in enumerate(zip(outputs, ann.spec.activations, strict=True), 1):
        if not np.isfinite(A).all():
            raise InvalidInput("a unit's output overflowed on this grid", code="not_finite")
        layers.append(
            {
                "layer": index,
                "activation": activation,
                "units": int(A.shape[0]),
                "min": float(A.min()),
                "max": float(A.max()),
                "values": np.round(A, DECIMALS).tolist(),
                "W": getattr(ann, f"W{index}").tolist(),
                "b": getattr(ann, f"b{index}").ravel().tolist(),
            }
        )
    return {"resolution": grid.resolution, "extent": list(grid.extent), "layers": layers}
