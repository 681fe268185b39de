"""The HTTP wire form of ``/v2`` inference: JSON, binary tensor data and compressed bodies.

A request body is JSON, with or without a ``Content-Type``, or, with the binary tensor data
extension, a JSON header of ``Inference-Header-Content-Length`` bytes followed by the raw bytes of
the inputs that carry a ``binary_data_size`` parameter, in input order. An output is answered as
binary data when its ``binary_data`` parameter says so, else when the request's
``binary_data_output`` parameter does; the response then has the same layout. A body may be
compressed (``Content-Encoding: gzip`` or ``deflate``); a large answer is compressed when
``Accept-Encoding`` asks for it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from pydantic import ValidationError

from app.api.schemas.v2 import InferenceRequest, RequestInput
from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.services.binary_tensors import array_to_bytes, tensor_from_bytes
from app.services.inference_dataplane import InferenceResult, InputTensor
from app.services.inference_tensors import TensorData

HEADER_LENGTH = "inference-header-content-length"
JSON_MEDIA = "application/json"
BINARY_MEDIA = "application/octet-stream"
# zlib's window bits of each content coding (deflate is the zlib format, as HTTP defines it).
WINDOW_BITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
COMPRESS_FROM_BYTES = 1024


@dataclass(frozen=True)
class WireRequest:
    """A decoded inference request and how its outputs are to be written."""

    id: str | None
    inputs: list[InputTensor]
    requested: list[str] | None
    binary: dict[str, bool]
    """Per output name: answer it as binary data."""
    binary_default: bool


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` decoded from its ``Content-Encoding``, refusing more than ``limit`` bytes."""
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    bits = WINDOW_BITS.get(coding)
    if bits is None:
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not supported; use gzip or deflate"
        )
    decoder = zlib.decompressobj(wbits=bits)
    try:
        data = decoder.decompress(body, limit + 1)
    except zlib.error as error:
        raise InvalidInput(f"the body is not valid {coding} data") from error
    if len(data) > limit:
        raise PayloadTooLarge(f"the decompressed body is over the limit of {limit} bytes")
    if not decoder.eof:
        raise InvalidInput(f"the {coding} body is truncated")
    return data


def _document(header: bytes) -> Any:
    try:
        return orjson.loads(header)
    except orjson.JSONDecodeError:
        pass
    # Python's parser also takes NaN and Infinity, so those get the precise not-finite error.
    try:
        return json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput("invalid request: the body is not valid JSON") from error
    except RecursionError as error:
        raise InvalidInput("invalid request: the body is nested too deeply") from error


def _header_length(raw: str | None, size: int) -> int:
    if raw is None:
        return size
    if not raw.strip().isdigit() or int(raw) > size:
        raise InvalidInput(
            f"Inference-Header-Content-Length must be a byte count up to {size}, got {raw!r}"
        )
    return int(raw)


def _input_data(tensor: RequestInput, binary: memoryview, offset: int) -> tuple[TensorData, int]:
    size = (tensor.parameters or {}).get("binary_data_size")
    if size is None:
        if tensor.data is None:
            raise InvalidInput(f"input {tensor.name!r} has neither data nor binary_data_size")
        return tensor.data, offset
    if type(size) is not int or size < 0:
        raise InvalidInput(f"input {tensor.name!r}: binary_data_size must be a byte count")
    if tensor.data is not None:
        raise InvalidInput(f"input {tensor.name!r} has both data and binary_data_size")
    if offset + size > len(binary):
        raise InvalidInput(f"input {tensor.name!r}: the binary data ends before its {size} bytes")
    raw = binary[offset : offset + size]
    return tensor_from_bytes(tensor.name, tensor.datatype, tensor.shape, raw), offset + size


def parse_request(body: bytes, header_length: str | None) -> WireRequest:
    """The request in ``body`` (decompressed), split at ``header_length`` when given."""
    split = _header_length(header_length, len(body))
    document = _document(body[:split])
    try:
        request = InferenceRequest.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidInput(f"invalid request: {where}: {first['msg']}") from error
    binary = memoryview(body)[split:]
    inputs, offset = [], 0
    for tensor in request.inputs:
        data, offset = _input_data(tensor, binary, offset)
        inputs.append(InputTensor(tensor.name, tensor.datatype, tensor.shape, data))
    if offset != len(binary):
        raise InvalidInput(f"{len(binary) - offset} bytes of binary data belong to no input")
    outputs = request.outputs or []
    binary_outputs = {
        o.name: bool(o.parameters["binary_data"])
        for o in outputs
        if o.parameters and "binary_data" in o.parameters
    }
    default = bool((request.parameters or {}).get("binary_data_output", False))
    requested = [o.name for o in outputs] or None
    return WireRequest(request.id, inputs, requested, binary_outputs, default)


def encode_response(result: InferenceResult, wire: WireRequest) -> tuple[bytes, int | None]:
    """The response body, and the length of its JSON header when binary data follows it."""
    outputs: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    for tensor in result.outputs:
        entry: dict[str, Any] = {
            "name": tensor.name,
            "datatype": tensor.datatype,
            "shape": tensor.shape,
        }
        data = tensor.data if tensor.data is not None else []
        if wire.binary.get(tensor.name, wire.binary_default):
            raw = array_to_bytes(data, tensor.datatype)
            entry["parameters"] = {"binary_data_size": len(raw)}
            blobs.append(raw)
        elif isinstance(data, np.ndarray):
            # float32 values are written as the float64 numbers they are, as /v1 writes them.
            entry["data"] = np.ascontiguousarray(data, dtype=np.float64)
        else:
            entry["data"] = data
        outputs.append(entry)
    document: dict[str, Any] = {
        "model_name": result.model_name,
        "model_version": result.model_version,
    }
    if wire.id is not None:
        document["id"] = wire.id
    document["parameters"] = {"trained": result.trained}
    if result.warnings:
        document["parameters"]["warnings"] = list(result.warnings)
    document["outputs"] = outputs
    header = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
    if not blobs:
        return header, None
    return b"".join([header, *blobs]), len(header)


def _accepted_coding(accept_encoding: str) -> str | None:
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "deflate") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return coding
    return None


def compress(body: bytes, accept_encoding: str) -> tuple[bytes, str | None]:
    """``body`` in the first coding ``accept_encoding`` takes (gzip or deflate), if it is worth
    compressing; the coding used, or None."""
    coding = _accepted_coding(accept_encoding) if len(body) >= COMPRESS_FROM_BYTES else None
    if coding is None:
        return body, None
    encoder = zlib.compressobj(level=5, wbits=WINDOW_BITS[coding])
    return encoder.compress(body) + encoder.flush(), coding


def read_request(body: bytes, headers: Mapping[str, str], limit: int) -> WireRequest:
    """The request in ``body`` as its headers describe it (coding, binary header length)."""
    data = decompress(body, headers.get("content-encoding", ""), limit)
    return parse_request(data, headers.get(HEADER_LENGTH))


def write_response(
    result: InferenceResult, request: WireRequest, accept_encoding: str
) -> tuple[bytes, dict[str, str]]:
    """The response body for ``result`` and its headers."""
    body, header_length = encode_response(result, request)
    headers = {"Content-Type": JSON_MEDIA}
    if header_length is not None:
        headers = {
            "Content-Type": BINARY_MEDIA,
            "Inference-Header-Content-Length": str(header_length),
        }
    body, coding = compress(body, accept_encoding)
    if coding is not None:
        headers["Content-Encoding"] = coding
    return body, headers
