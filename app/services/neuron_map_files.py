"""Neuron maps as one compact binary file: the safetensors layout, float32 little-endian.

The layout (https://huggingface.co/docs/safetensors; written by the ``safetensors`` library):

* 8 bytes: ``N``, the header's length, an unsigned little-endian 64-bit integer;
* ``N`` bytes: a UTF-8 JSON header (padded with spaces so the data starts 8-byte aligned); per
  tensor ``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}``, offsets counted
  from the first byte after the header; and ``"__metadata__": {"neuron_maps": "<JSON>"}``,
  whose JSON is the JSON answer without its grids and parameters (the ids, the grid, the input
  names, per layer its number, activation, units, ``min`` and ``max``);
* the tensors' bytes, float32 little-endian, C order:

  - ``inputs`` ``(n_x, resolution, resolution)``: the network's encoded input features;
  - ``A1 ... AL`` ``(n_l, resolution, resolution)``: each layer's activations;
  - ``W1 ... WL`` ``(n_l, n_{l-1})`` and ``b1 ... bL`` ``(n_l,)``: its parameters.

Grid point ``[i, j]`` is row ``i`` (from ``x2_min`` up) and column ``j`` (from ``x1_min``
right), as point ``k = i * resolution + j`` of the JSON form. A browser reads a tensor as
``new Float32Array(buffer, 8 + N + begin, (end - begin) / 4)``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from safetensors.numpy import save

from app.services.neuron_maps import NeuronMaps, maps_head

MEDIA_TYPE = "application/octet-stream"
METADATA_KEY = "neuron_maps"
LAYOUT = (
    "The safetensors layout: 8 bytes N (little-endian uint64), then an N-byte UTF-8 JSON header "
    '(space-padded; per tensor {"dtype": "F32", "shape", "data_offsets": [begin, end]} counted '
    'from byte 8 + N, and "__metadata__": {"neuron_maps": "<JSON: the JSON answer without '
    'inputs, values, W and b>"}), then float32 little-endian tensors in C order: "inputs" '
    '(n_x, resolution, resolution), per layer l "A<l>" (units, resolution, resolution), '
    '"W<l>" (units, fan_in) and "b<l>" (units). Grid point [i, j] is row i from x2_min up, '
    "column j from x1_min right."
)


def maps_file(maps: NeuronMaps, head: dict[str, Any]) -> bytes:
    """The binary form of ``maps``; ``head`` (ids, iteration) goes into its metadata too."""
    side = maps.grid.resolution

    def grids(values: Any) -> Any:
        return np.ascontiguousarray(values, dtype="<f4").reshape(-1, side, side)

    tensors = {"inputs": grids(maps.inputs)}
    for index, layer in enumerate(maps.layers, 1):
        tensors[f"A{index}"] = grids(layer.A)
        tensors[f"W{index}"] = np.ascontiguousarray(layer.W, dtype="<f4")
        tensors[f"b{index}"] = np.ascontiguousarray(layer.b, dtype="<f4")
    metadata = json.dumps(head | maps_head(maps), separators=(",", ":"))
    return save(tensors, metadata={METADATA_KEY: metadata})
