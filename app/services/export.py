"""Model export: the version's ``.npz`` file, a JSON document, or an ONNX graph.

The JSON document holds everything needed to rebuild the network (:func:`network_from_json`):
the architecture as ``core.architecture.Architecture.to_dict`` writes it and every parameter as
nested lists in the notes' shapes (``W{l}`` ``(n_l, n_{l-1})``, ``b{l}`` ``(n_l, 1)``). Floats are
written with Python's shortest round-trip repr, so float64 parameters come back bit for bit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from app.services.images import etag_for
from app.services.loaded_model import LoadedModel
from app.services.model_cache import ModelCache
from app.services.onnx_export import to_onnx
from core.network import ANN

ExportFormat = Literal["npz", "json", "onnx"]
JSON_FORMAT = "annserve.model"
JSON_FORMAT_VERSION = 1
MEDIA_TYPES: dict[str, str] = {
    "npz": "application/x-npz",
    "json": "application/json",
    "onnx": "application/onnx",
}


@dataclass(frozen=True)
class ExportPlan:
    """An export to serve: its ETag and file name, and how to build its bytes."""

    etag: str
    media_type: str
    filename: str
    version: int
    render: Callable[[], bytes]


def model_document(loaded: LoadedModel) -> dict[str, Any]:
    """The JSON-able description and parameters of a loaded version."""
    model = loaded.model
    return {
        "format": JSON_FORMAT,
        "format_version": JSON_FORMAT_VERSION,
        "model_id": model.id,
        "name": model.name,
        "task": model.task,
        "classes": list(model.classes) if model.classes is not None else None,
        "version": loaded.version,
        "trained": loaded.trained,
        "architecture": loaded.ann.architecture(),
        "parameters": {name: value.tolist() for name, value in loaded.ann.parameters.items()},
    }


def network_from_json(document: Mapping[str, Any]) -> ANN:
    """Rebuild the network of a document written by :func:`model_document`."""
    return ANN.from_architecture(document["architecture"], document["parameters"])


class ExportService:
    """Export a model version in one of :data:`MEDIA_TYPES`' formats."""

    def __init__(self, cache: ModelCache) -> None:
        self.cache = cache

    def plan(self, model_id: str, version: int | None, fmt: ExportFormat) -> ExportPlan:
        """The export of ``version`` (current by default) as ``fmt``, named by a strong ETag
        before anything is built: a version's parameters never change."""
        loaded = self.cache.get(model_id, version)
        return ExportPlan(
            etag=etag_for("export", loaded.model.id, loaded.version, fmt),
            media_type=MEDIA_TYPES[fmt],
            filename=f"{loaded.model.id}-v{loaded.version}.{fmt}",
            version=loaded.version,
            render=partial(self._build, loaded, fmt),
        )

    def _build(self, loaded: LoadedModel, fmt: ExportFormat) -> bytes:
        if fmt == "npz":
            data = self.cache.arrays.model_version_bytes(loaded.model.id, loaded.version)
        elif fmt == "json":
            data = json.dumps(model_document(loaded), allow_nan=False).encode()
        else:
            meta = {"model_id": loaded.model.id, "version": str(loaded.version)}
            stage = loaded.inference.preprocessor
            data = to_onnx(loaded.ann, loaded.model.classes, stage=stage, metadata=meta)
        return data
