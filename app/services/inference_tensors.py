"""Tensors of the Open Inference Protocol (KServe v2): datatypes, shapes, inputs and outputs.

A model takes one input ``[batch, n_inputs]`` of FP32, FP64, INT32 or INT64 numbers (flat or
nested, row-major) and gives ``predictions`` (``[batch]`` class labels, INT64 or BYTES, or
``[batch, n_y]`` values) and, for classifiers, ``probabilities`` ``[batch, k]``, in the model's
float datatype. Every problem is an ``InvalidInput`` whose message names the tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInput
from app.services.loaded_model import ServedModel
from app.services.predictions import Prediction, check_features

INPUT_DTYPES: dict[str, type[np.generic]] = {
    "FP32": np.float32,
    "FP64": np.float64,
    "INT32": np.int32,
    "INT64": np.int64,
}
INT_LIMITS: dict[str, np.iinfo[Any]] = {"INT32": np.iinfo(np.int32), "INT64": np.iinfo(np.int64)}
FLOAT_NAMES = {"float32": "FP32", "float64": "FP64"}
INPUT_NAME = "input"


@dataclass(frozen=True)
class Tensor:
    """A named tensor: its datatype, its shape (-1 for the batch in metadata) and flat data."""

    name: str
    datatype: str
    shape: list[int]
    data: list[Any] | None = None


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
    name: str, datatype: str, shape: Sequence[int], data: list[Any], n_inputs: int, max_rows: int
) -> NDArray[np.float64]:
    """An input tensor as finite rows ``(batch, n_inputs)``, checked against its datatype."""
    dtype = INPUT_DTYPES.get(datatype)
    if dtype is None:
        raise InvalidInput(
            f"input {name!r}: datatype {datatype!r} is not supported; "
            f"use one of {', '.join(INPUT_DTYPES)}"
        )
    if len(shape) != 2 or shape[1] != n_inputs or shape[0] < 1:
        raise InvalidInput(
            f"input {name!r}: shape must be [batch, {n_inputs}] with batch >= 1, got {list(shape)}"
        )
    try:
        values = np.asarray(data)
    except ValueError as error:
        raise InvalidInput(f"input {name!r}: data is ragged") from error
    limits = INT_LIMITS.get(datatype)
    allowed = "iu" if limits is not None else "iuf"
    if values.dtype.kind not in allowed:
        kind = "integers" if limits is not None else "numbers"
        raise InvalidInput(f"input {name!r}: {datatype} data must hold {kind}")
    if values.size != math.prod(shape):
        raise InvalidInput(
            f"input {name!r}: shape {list(shape)} needs {math.prod(shape)} values, "
            f"data has {values.size}"
        )
    if limits is not None and (values.min() < limits.min or values.max() > limits.max):
        raise InvalidInput(f"input {name!r}: a value is out of range for {datatype}")
    # FP32 data is taken at FP32 precision, as the client declared it.
    rows = values.astype(dtype).reshape(tuple(shape))
    return check_features(rows, n_inputs, max_rows, field=f"inputs.{name}")


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
    """The named outputs of ``prediction``, data flat in row-major order."""
    dtype = float_datatype(prediction.model)
    batch = prediction.outputs.shape[0]
    tensors = []
    for name in wanted:
        if name == "predictions" and prediction.labels is not None:
            label_type = "BYTES" if isinstance(prediction.labels[0], str) else "INT64"
            tensors.append(Tensor(name, label_type, [batch], prediction.labels))
        elif name == "predictions":
            outputs = prediction.outputs
            tensors.append(Tensor(name, dtype, list(outputs.shape), outputs.ravel().tolist()))
        elif prediction.probabilities is not None:
            probabilities = prediction.probabilities
            shape = list(probabilities.shape)
            tensors.append(Tensor(name, dtype, shape, probabilities.ravel().tolist()))
    return tensors
