"""Tensors as raw bytes, as the Open Inference Protocol sends them (REST binary data, gRPC raw).

Numbers are little-endian in row-major order, BOOL one byte per element; a BYTES tensor is each
element's length as a little-endian uint32 followed by its bytes. :data:`DATATYPES` is the one
table from protocol datatype names to numpy dtypes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInput

DATATYPES: dict[str, np.dtype[Any]] = {
    name: np.dtype(code)
    for name, code in {
        "BOOL": "?",
        "UINT8": "u1",
        "UINT16": "<u2",
        "UINT32": "<u4",
        "UINT64": "<u8",
        "INT8": "i1",
        "INT16": "<i2",
        "INT32": "<i4",
        "INT64": "<i8",
        "FP16": "<f2",
        "FP32": "<f4",
        "FP64": "<f8",
    }.items()
}
_LENGTH = struct.Struct("<I")


def array_from_bytes(
    name: str, datatype: str, shape: Sequence[int], raw: bytes | memoryview
) -> NDArray[Any]:
    """The numeric tensor ``shape`` held in ``raw`` (a view, not a copy)."""
    dtype = DATATYPES.get(datatype)
    if dtype is None:
        raise InvalidInput(
            f"input {name!r}: datatype {datatype!r} is not supported; "
            f"use one of {', '.join(DATATYPES)}"
        )
    if any(d < 0 for d in shape):
        raise InvalidInput(f"input {name!r}: shape {list(shape)} has a negative dimension")
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise InvalidInput(
            f"input {name!r}: shape {list(shape)} of {datatype} needs {expected} bytes, "
            f"got {len(raw)}"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(tuple(shape))


def elements_from_bytes(name: str, shape: Sequence[int], raw: bytes | memoryview) -> list[bytes]:
    """The ``prod(shape)`` elements of a BYTES tensor held in ``raw`` (each a little-endian
    uint32 length, then that many bytes)."""
    if any(d < 0 for d in shape):
        raise InvalidInput(f"input {name!r}: shape {list(shape)} has a negative dimension")
    count, data = math.prod(shape), bytes(raw)
    elements: list[bytes] = []
    offset = 0
    while offset < len(data) and len(elements) < count:
        if offset + _LENGTH.size > len(data):
            raise InvalidInput(f"input {name!r}: BYTES data ends inside an element's length")
        (size,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        if offset + size > len(data):
            raise InvalidInput(f"input {name!r}: BYTES data ends inside an element")
        elements.append(data[offset : offset + size])
        offset += size
    if len(elements) != count or offset != len(data):
        raise InvalidInput(
            f"input {name!r}: shape {list(shape)} needs {count} BYTES element(s) filling the "
            f"{len(data)} bytes exactly"
        )
    return elements


def tensor_from_bytes(
    name: str, datatype: str, shape: Sequence[int], raw: bytes | memoryview
) -> NDArray[Any] | list[bytes]:
    """The tensor held in ``raw``: a BYTES tensor's elements, else the numeric array."""
    if datatype == "BYTES":
        return elements_from_bytes(name, shape, raw)
    return array_from_bytes(name, datatype, shape, raw)


def array_to_bytes(values: NDArray[Any] | Sequence[Any], datatype: str) -> bytes:
    """``values`` in ``datatype``'s wire form (BYTES: length-prefixed UTF-8 of each element)."""
    if datatype == "BYTES":
        parts = []
        for value in values:
            data = str(value).encode()
            parts += [_LENGTH.pack(len(data)), data]
        return b"".join(parts)
    return np.ascontiguousarray(values, dtype=DATATYPES[datatype]).tobytes()
