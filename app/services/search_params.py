"""Where a search's parameters go: a space path names a field of the model or of its training.

Paths are the fields of ``POST /v1/models`` and ``POST /v1/models/{id}/train``:

* ``hidden_layers``: a whole list of layers (each ``{"units", "activation"}`` or a unit count);
* ``hidden_layers[*].units`` / ``.activation``: every hidden layer; ``hidden_layers[<i>]...``: one;
* model fields ``init``, ``distribution``, ``dtype``, ``output_activation``;
* training fields ``n_iter``, ``learning_rate``, ``batch_size``, ``optimizer``, ``l2``, ``tol``,
  ``max_seconds``, ``record_every``;
* ``seed`` sets both the initialization and the training seed; ``base.seed`` or ``train.seed``
  one of them (any field may be prefixed so).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from core.search_space import SpaceError

Target = Literal["base", "train"]

MODEL_FIELDS = frozenset({"init", "distribution", "dtype", "output_activation", "seed"})
TRAIN_FIELDS = frozenset(
    {
        "n_iter",
        "learning_rate",
        "batch_size",
        "optimizer",
        "l2",
        "tol",
        "max_seconds",
        "record_every",
        "seed",
    }
)
# Fields a continuous range may search, and those an integer range may search.
FLOAT_FIELDS = frozenset({"learning_rate", "l2", "tol", "max_seconds"})
INT_FIELDS = frozenset({"n_iter", "batch_size", "record_every", "seed", "units"})
_LAYER = re.compile(r"^hidden_layers\[(\*|\d+)\]\.(units|activation)$")
DEFAULT_ACTIVATION = "tanh"


@dataclass(frozen=True)
class Destination:
    """Where one path's value is written: a field of the model, of the training, or a layer's."""

    target: Target
    field: str
    layer: int | Literal["*"] | None = None


def destinations(path: str) -> list[Destination]:
    """Where ``path`` writes; ``SpaceError`` (code ``unknown_path``) for anything else."""
    if path == "hidden_layers":
        return [Destination("base", "hidden_layers")]
    match = _LAYER.match(path)
    if match:
        index, name = match.groups()
        return [Destination("base", name, "*" if index == "*" else int(index))]
    prefix, _, name = path.rpartition(".")
    if prefix == "base" and name in MODEL_FIELDS:
        return [Destination("base", name)]
    if prefix == "train" and name in TRAIN_FIELDS:
        return [Destination("train", name)]
    if prefix == "":
        found: list[Destination] = []
        if name in MODEL_FIELDS:
            found.append(Destination("base", name))
        if name in TRAIN_FIELDS:
            found.append(Destination("train", name))
        if found:
            return found
    raise SpaceError(path, "names no searchable model or training field", "unknown_path")


def range_kind(path: str) -> Literal["float", "int", None]:
    """Which range ``path`` may take: ``float`` (uniform, log-uniform), ``int``, or none."""
    field = destinations(path)[0].field
    if field in FLOAT_FIELDS:
        return "float"
    if field in INT_FIELDS:
        return "int"
    return None


def _layer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"units": value, "activation": DEFAULT_ACTIVATION}
    return value


def apply_params(
    base: Mapping[str, Any], train: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Copies of ``base`` (model fields) and ``train`` (training options) with ``params`` set.

    Whole layer lists are set before per-layer fields, so ``hidden_layers[*].activation`` applies
    to whichever list was chosen.
    """
    out: dict[Target, dict[str, Any]] = {"base": copy.deepcopy(dict(base)), "train": dict(train)}
    for path in sorted(params, key=lambda p: p != "hidden_layers"):
        value = params[path]
        for where in destinations(path):
            if where.field == "hidden_layers":
                layers = value if isinstance(value, list) else [value]
                out["base"]["hidden_layers"] = [_layer(layer) for layer in layers]
            elif where.layer is not None:
                layers = out["base"].setdefault("hidden_layers", [])
                chosen = layers if where.layer == "*" else [layers[where.layer]]
                for layer in chosen:
                    layer[where.field] = value
            else:
                out[where.target][where.field] = value
    return out["base"], out["train"]
