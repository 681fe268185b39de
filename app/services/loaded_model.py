"""A network ready to serve: the model's row as serving needs it, the loaded parameters and
their per-layer forms (numpy, and plain Python for a few rows of a small network)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

from app.storage.tables import ModelRow
from core.activations import INPLACE, softmax
from core.network import ANN
from core.preprocessing import LabelCodec
from core.scalar_network import ScalarNetwork


@dataclass(frozen=True)
class ServedModel:
    """A snapshot of what serving needs from a model's row."""

    id: str
    name: str
    task: str
    classes: tuple[int | str, ...] | None
    n_inputs: int
    n_outputs: int
    dtype: str
    current_version: int
    dataset_id: str | None
    init: str
    distribution: str
    codec: LabelCodec | None

    @classmethod
    def from_row(cls, row: ModelRow) -> ServedModel:
        """The snapshot of a model row."""
        classes = tuple(row.classes) if row.classes is not None else None
        return cls(
            id=row.id,
            name=row.name,
            task=row.task,
            classes=classes,
            n_inputs=row.n_inputs,
            n_outputs=row.n_outputs,
            dtype=row.dtype,
            current_version=row.current_version,
            dataset_id=row.dataset_id,
            init=row.init,
            distribution=row.distribution,
            codec=LabelCodec(classes) if classes is not None else None,
        )

    @property
    def is_classifier(self) -> bool:
        """Whether the model predicts class labels."""
        return self.classes is not None


Layer = tuple[NDArray[Any], NDArray[Any], Callable[[NDArray[Any]], NDArray[Any]]]


def _in_place(g_into: Callable[[NDArray[Any], NDArray[Any]], None]) -> Callable[..., Any]:
    def apply(Z: NDArray[Any]) -> NDArray[Any]:
        g_into(Z, Z)
        return Z

    return apply


def _identity(Z: NDArray[Any]) -> NDArray[Any]:
    return Z


# The engine's allocation-free activation forms (``core.activations.INPLACE``, which the
# training fast path uses), applied to a fresh ``Z`` in place: fewer numpy calls per layer.
LAYER_FUNCTIONS: dict[str, Callable[[NDArray[Any]], NDArray[Any]]] = {
    "sigmoid": _in_place(INPLACE["sigmoid"][0]),
    "tanh": _in_place(INPLACE["tanh"][0]),
    "relu": _in_place(INPLACE["relu"][0]),
    "linear": _identity,
    "softmax": softmax,
}


def network_layers(ann: ANN) -> tuple[Layer, ...]:
    """``(W, b, g)`` of each layer: views of the network's parameters (not copies) and a function
    that turns a fresh ``Z`` into ``A``, overwriting ``Z``."""
    return tuple(
        (getattr(ann, f"W{l}"), getattr(ann, f"b{l}"), LAYER_FUNCTIONS[name])
        for l, name in enumerate(ann.spec.activations, start=1)
    )


@dataclass(frozen=True)
class LoadedModel:
    """A network ready to run: the model snapshot, the version it holds, the network, its
    layers as ``(W, b, g)`` tuples (see :func:`network_layers`) and, for a small float64
    network, its plain-Python form for a few rows (:class:`core.scalar_network.ScalarNetwork`).
    """

    model: ServedModel
    version: int
    ann: ANN
    layers: tuple[Layer, ...]
    scalar: ScalarNetwork | None = None

    @property
    def trained(self) -> bool:
        """False for version 0, the parameters as initialized."""
        return self.version > 0
