"""Tensors of the Open Inference Protocol (KServe v2): datatypes, shapes, inputs and outputs.

A numeric model takes one input ``input`` ``[batch, n_inputs]`` of numbers (a table model's
per-column inputs are :mod:`app.services.inference_columns`'): any numeric datatype of
:data:`app.services.binary_tensors.DATATYPES` (FP16 as binary data only, BOOL as 0 and 1), as a
flat or nested row-major list or as an array decoded from binary data. It gives ``predictions``
(``[batch]`` class labels, INT64 or BYTES, or ``[batch, n_y]`` values) and, for classifiers,
``probabilities`` ``[batch, k]``, in the model's float datatype. Every problem is an
``InvalidInput`` whose message names the tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInput
from app.services.binary_tensors import DATATYPES
from app.services.loaded_model import ServedModel
from app.services.predictions import Prediction, check_features

BINARY_ONLY = frozenset({"FP16"})
INT_LIMITS: dict[str, np.iinfo[Any]] = {
    name: np.iinfo(dtype) for name, dtype in DATATYPES.items() if dtype.kind in "iu"
}
# The kinds of parsed list data each datatype accepts (numpy's kind codes).
LIST_KINDS = {
    name: "b" if name == "BOOL" else "iu" if name in INT_LIMITS else "iuf" for name in DATATYPES
}
FLOAT_NAMES = {"float32": "FP32", "float64": "FP64"}
INPUT_NAME = "input"
TensorData = NDArray[Any] | list[Any]


@dataclass(frozen=True)
class Tensor:
    """A named tensor: its datatype, its shape (-1 for the batch in metadata) and flat data."""

    name: str
    datatype: str
    shape: list[int]
    data: TensorData | None = None
    """Row-major values: an array, or a list (class labels); None in metadata."""


def float_datatype(model: ServedModel) -> str:
    """The protocol name of the model's float dtype (FP32 or FP64)."""
    return FLOAT_NAMES[model.dtype]


def input_metadata(model: ServedModel) -> list[Tensor]:
    """The model's one input."""
    return [Tensor(INPUT_NAME, float_datatype(model), [-1, model.n_inputs])]


def output_metadata(model: ServedModel) -> list[Tensor]:
    """The model's outputs: predictions, and probabilities for a classifier."""
    dtype = float_datatype(model)
    if model.classes is None:
        return [Tensor("predictions", dtype, [-1, model.n_outputs])]
    label_type = "BYTES" if isinstance(model.classes[0], str) else "INT64"
    return [
        Tensor("predictions", label_type, [-1]),
        Tensor("probabilities", dtype, [-1, len(model.classes)]),
    ]


def input_rows(
    name: str, datatype: str, shape: Sequence[int], data: TensorData, n_inputs: int, max_rows: int
) -> NDArray[np.float64]:
    """An input tensor as finite rows ``(batch, n_inputs)``, checked against its datatype.

    ``data`` is a list (parsed JSON or typed gRPC contents) or an array of the datatype already
    (decoded binary data).
    """
    if name != INPUT_NAME:
        raise InvalidInput(f"unknown input {name!r}; the model takes one input {INPUT_NAME!r}")
    if datatype not in DATATYPES:
        raise InvalidInput(
            f"input {name!r}: datatype {datatype!r} is not supported; "
            f"use one of {', '.join(DATATYPES)}"
        )
    if len(shape) != 2 or shape[1] != n_inputs or shape[0] < 1:
        raise InvalidInput(
            f"input {name!r}: shape must be [batch, {n_inputs}] with batch >= 1, got {list(shape)}"
        )
    values = data if isinstance(data, np.ndarray) else _list_values(name, datatype, shape, data)
    # FP32 data is taken at FP32 precision, as the client declared it.
    rows = values.reshape(tuple(shape)).astype(np.float64)
    return check_features(rows, n_inputs, max_rows, field=f"inputs.{name}")


def _list_values(name: str, datatype: str, shape: Sequence[int], data: list[Any]) -> NDArray[Any]:
    if datatype in BINARY_ONLY:
        raise InvalidInput(f"input {name!r}: {datatype} data must be sent as binary data")
    try:
        values = np.asarray(data)
    except ValueError as error:
        raise InvalidInput(f"input {name!r}: data is ragged") from error
    if values.dtype.kind not in LIST_KINDS[datatype]:
        kind = {"b": "booleans", "iu": "integers"}.get(LIST_KINDS[datatype], "numbers")
        raise InvalidInput(f"input {name!r}: {datatype} data must hold {kind}")
    if values.size != math.prod(shape):
        raise InvalidInput(
            f"input {name!r}: shape {list(shape)} needs {math.prod(shape)} values, "
            f"data has {values.size}"
        )
    limits = INT_LIMITS.get(datatype)
    if limits is not None and (values.min() < limits.min or values.max() > limits.max):
        raise InvalidInput(f"input {name!r}: a value is out of range for {datatype}")
    return values.astype(DATATYPES[datatype])


def requested_outputs(requested: Sequence[str] | None, model: ServedModel) -> list[str]:
    """The outputs to answer: all of the model's when none are named."""
    available = [t.name for t in output_metadata(model)]
    if not requested:
        return available
    unknown = [n for n in requested if n not in available]
    if unknown:
        raise InvalidInput(f"unknown output(s) {unknown}; this model has {available}")
    return list(requested)


def output_tensors(prediction: Prediction, wanted: Sequence[str]) -> list[Tensor]:
    """The named outputs of ``prediction``: flat row-major arrays, class labels as a list."""
    dtype = float_datatype(prediction.model)
    batch = prediction.outputs.shape[0]
    tensors = []
    for name in wanted:
        if name == "predictions" and prediction.labels is not None:
            label_type = "BYTES" if isinstance(prediction.labels[0], str) else "INT64"
            tensors.append(Tensor(name, label_type, [batch], prediction.labels))
        elif name == "predictions":
            outputs = prediction.outputs
            tensors.append(Tensor(name, dtype, list(outputs.shape), outputs.ravel()))
        elif prediction.probabilities is not None:
            probabilities = prediction.probabilities
            shape = list(probabilities.shape)
            tensors.append(Tensor(name, dtype, shape, probabilities.ravel()))
    return tensors
