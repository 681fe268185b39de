"""A table model's inputs in the Open Inference Protocol: one tensor per raw column.

A model with a preprocessing stage takes one input per column of its ``input_schema``, named by
the column, shape ``[-1]`` (``[batch]`` or ``[batch, 1]`` when sent): FP64 for a numeric column
(any numeric datatype is read as numbers; NaN or JSON null is missing), BOOL for a boolean
column (JSON null is missing), BYTES for a categorical or datetime column (UTF-8 text, ISO 8601
for a date; null, or a text the model reads as missing such as the empty one, is missing). Every
input holds the same batch; the values become the table of raw columns that the model's inference
entry point encodes, as ``/v1`` predict does with records. Every problem is an ``InvalidInput``
whose message names the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from app.errors import InvalidInput, LimitExceeded
from app.services.binary_tensors import DATATYPES
from app.services.inference_tensors import Tensor, TensorData
from core.pipeline import Preprocessor, TableValuesError
from core.table_values import Table

COLUMN_DATATYPES = {
    "numeric": "FP64",
    "boolean": "BOOL",
    "categorical": "BYTES",
    "datetime": "BYTES",
}
NUMBER_DATATYPES = frozenset(name for name in DATATYPES if name != "BOOL")
SHOWN_ROWS = 5


class ColumnTensor(Protocol):
    """A decoded input tensor, as the data plane holds it."""

    @property
    def name(self) -> str: ...
    @property
    def datatype(self) -> str: ...
    @property
    def shape(self) -> list[int]: ...
    @property
    def data(self) -> TensorData: ...


def column_metadata(schema: Sequence[dict[str, Any]]) -> list[Tensor]:
    """One input per column, in the schema's order."""
    return [Tensor(c["name"], COLUMN_DATATYPES[c["type"]], [-1]) for c in schema]


def _accepts(kind: str, datatype: str) -> bool:
    if kind == "numeric":
        return datatype in NUMBER_DATATYPES
    return datatype == COLUMN_DATATYPES[kind]


def _batch(tensor: ColumnTensor, max_rows: int) -> int:
    shape = list(tensor.shape)
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)) or shape[0] < 1:
        raise InvalidInput(
            f"input {tensor.name!r}: shape must be [batch] or [batch, 1] with batch >= 1, "
            f"got {shape}"
        )
    if shape[0] > max_rows:
        raise LimitExceeded(
            f"input {tensor.name!r}: {shape[0]} rows exceed max_predict_rows={max_rows}",
            code="too_many_rows",
        )
    return shape[0]


def _text(name: str, value: object) -> object:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError as error:
            raise InvalidInput(f"input {name!r}: BYTES data must be UTF-8 text") from error
    return value


def _fits(kind: str, value: object) -> bool:
    if value is None:
        return True
    if kind == "numeric":
        return isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool | np.bool_)
    return isinstance(value, str)


def _values(tensor: ColumnTensor, kind: str, max_rows: int) -> list[Any]:
    name, datatype = tensor.name, tensor.datatype
    if not _accepts(kind, datatype):
        expected = "a numeric datatype (FP64)" if kind == "numeric" else COLUMN_DATATYPES[kind]
        raise InvalidInput(
            f"input {name!r}: the {kind} column takes {expected}, got datatype {datatype!r}"
        )
    batch = _batch(tensor, max_rows)
    data = tensor.data
    if isinstance(data, np.ndarray):
        values: list[Any] = data.reshape(-1).tolist()
    else:
        values = list(data)
        if len(tensor.shape) == 2 and all(type(v) is list and len(v) == 1 for v in values):
            values = [v[0] for v in values]  # nested [[x], [y]] for [batch, 1]
    if len(values) != math.prod(tensor.shape):
        raise InvalidInput(
            f"input {name!r}: shape {list(tensor.shape)} needs {batch} values, "
            f"data has {len(values)}"
        )
    if kind in ("categorical", "datetime"):
        values = [_text(name, v) for v in values]
    wrong = [i for i, v in enumerate(values) if not _fits(kind, v)]
    if wrong:
        shown = ", ".join(map(str, wrong[:SHOWN_ROWS]))
        raise InvalidInput(
            f"input {name!r}: {datatype} data of a {kind} column must hold "
            f"{'text' if datatype == 'BYTES' else 'numbers' if kind == 'numeric' else 'booleans'}"
            f" or null; {len(wrong)} value(s) do not (rows {shown})"
        )
    return values


def _problems(error: TableValuesError) -> InvalidInput:
    parts = []
    for column, code, positions in error.problems:
        shown = ", ".join(map(str, positions[:SHOWN_ROWS]))
        reason = "out of range" if code == "out_of_range" else "not readable as the column's type"
        parts.append(f"input {column!r}: {len(positions)} value(s) {reason} (rows {shown})")
    return InvalidInput("; ".join(parts))


def column_table(stage: Preprocessor, inputs: Sequence[ColumnTensor], max_rows: int) -> Table:
    """The table of raw columns the per-column ``inputs`` hold, checked against ``stage``."""
    kinds = dict(stage.columns)
    given: dict[str, ColumnTensor] = {}
    for tensor in inputs:
        if tensor.name not in kinds:
            raise InvalidInput(
                f"unknown input {tensor.name!r}; the model takes one input per column: "
                f"{', '.join(map(repr, stage.names))}"
            )
        if tensor.name in given:
            raise InvalidInput(f"input {tensor.name!r} is given more than once")
        given[tensor.name] = tensor
    missing = [name for name in stage.names if name not in given]
    if missing:
        raise InvalidInput(
            f"missing input(s) {', '.join(map(repr, missing))}; the model takes one input per "
            f"column: {', '.join(map(repr, stage.names))}"
        )
    values = {name: _values(given[name], kind, max_rows) for name, kind in stage.columns}
    if len({len(v) for v in values.values()}) > 1:
        sizes = ", ".join(f"{name!r} {len(v)}" for name, v in values.items())
        raise InvalidInput(f"every input must hold the same batch of rows, got {sizes}")
    try:
        return stage.table_from_columns(values)
    except TableValuesError as error:
        raise _problems(error) from error
