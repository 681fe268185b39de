"""The gRPC service's translation: typed and raw contents to input tensors, errors to codes."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from app.errors import InvalidInput, LimitExceeded, NotFound, PayloadTooLarge
from app.grpc import open_inference_pb2 as pb
from app.grpc.service import CONTENTS_FIELDS, input_tensors, status_code
from core.errors import ShapeError


def _request(datatype: str = "FP64", shape: tuple[int, ...] = (1, 2)) -> pb.ModelInferRequest:
    request = pb.ModelInferRequest(model_name="m")
    request.inputs.add(name="input", datatype=datatype, shape=list(shape))
    return request


@pytest.mark.parametrize("datatype", sorted(CONTENTS_FIELDS))
def test_typed_contents_of_every_datatype(datatype: str) -> None:
    request = _request(datatype)
    values: list[object] = [1, 0]
    if datatype == "BOOL":
        values = [True, False]
    elif datatype[:2] == "FP":
        values = [1.0, 0.0]
    elif datatype == "BYTES":
        values = [b"a", b""]
    getattr(request.inputs[0].contents, CONTENTS_FIELDS[datatype]).extend(values)
    (tensor,) = input_tensors(request)
    assert (tensor.name, tensor.datatype, tensor.shape) == ("input", datatype, [1, 2])
    assert [bool(v) for v in tensor.data] == [True, False]


def test_raw_contents_decode_to_arrays() -> None:
    request = _request("FP16")
    request.raw_input_contents.append(np.array([0.5, -2.0], dtype="<f2").tobytes())
    (tensor,) = input_tensors(request)
    assert isinstance(tensor.data, np.ndarray) and tensor.data.tolist() == [[0.5, -2.0]]


def test_bad_contents_are_named() -> None:
    with pytest.raises(InvalidInput, match="raw_input_contents"):
        input_tensors(_request("FP16"))
    request = _request()
    request.raw_input_contents.extend([b"\x00" * 16, b""])
    with pytest.raises(InvalidInput, match="2 entries for 1 input"):
        input_tensors(request)
    both = _request()
    both.inputs[0].contents.fp64_contents.extend([1.0, 2.0])
    both.raw_input_contents.append(b"\x00" * 16)
    with pytest.raises(InvalidInput, match="both"):
        input_tensors(both)
    short = _request()
    short.raw_input_contents.append(b"\x00" * 8)
    with pytest.raises(InvalidInput, match="needs 16 bytes"):
        input_tensors(short)


def test_status_codes() -> None:
    assert status_code(NotFound("x")) == grpc.StatusCode.NOT_FOUND
    assert status_code(LimitExceeded("x")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_code(PayloadTooLarge("x")) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert status_code(ShapeError("x")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_code(RuntimeError("x")) == grpc.StatusCode.INTERNAL
