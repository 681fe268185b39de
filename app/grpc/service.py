"""The protocol's ``inference.GRPCInferenceService``: gRPC messages to and from the data plane.

Inputs come as typed ``contents`` or as ``raw_input_contents`` (one entry per input, the bytes of
:mod:`app.services.binary_tensors`); outputs always go out as ``raw_output_contents``. With API
keys configured every call needs the metadata ``authorization: Bearer <key>``. Domain errors
become status codes through :data:`CODE_BY_ERROR`, with the same messages REST gives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from anyio.to_thread import run_sync
from google.protobuf.message import Message

from app.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
)
from app.grpc import open_inference_pb2 as pb
from app.keys import KeyRing
from app.services.binary_tensors import array_to_bytes, tensor_from_bytes
from app.services.inference_dataplane import DataPlane, InputTensor, version_number
from app.services.inference_tensors import Tensor, TensorData
from app.storage.tenancy import current_tenant
from core.errors import CoreError

SERVICE = "inference.GRPCInferenceService"
# The typed field of InferTensorContents that carries each datatype.
CONTENTS_FIELDS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
CODE_BY_ERROR: dict[type[Exception], grpc.StatusCode] = {
    NotFound: grpc.StatusCode.NOT_FOUND,
    PayloadTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ServiceUnavailable: grpc.StatusCode.UNAVAILABLE,
    ServiceError: grpc.StatusCode.INVALID_ARGUMENT,
    CoreError: grpc.StatusCode.INVALID_ARGUMENT,
}

Request = TypeVar("Request", bound=Message)
Response = TypeVar("Response", bound=Message)


def status_code(error: Exception) -> grpc.StatusCode:
    """The gRPC status of a domain error (the nearest class in the table)."""
    for cls in type(error).__mro__:
        if cls in CODE_BY_ERROR:
            return CODE_BY_ERROR[cls]
    return grpc.StatusCode.INTERNAL


def input_tensors(request: pb.ModelInferRequest) -> list[InputTensor]:
    """The request's inputs, from raw contents when it has them, else from typed contents."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise InvalidInput(
            f"raw_input_contents has {len(raw)} entries for {len(request.inputs)} input(s)"
        )
    tensors = []
    for index, tensor in enumerate(request.inputs):
        shape = list(tensor.shape)
        data: TensorData
        if raw:
            if tensor.HasField("contents"):
                raise InvalidInput(f"input {tensor.name!r} has both contents and raw contents")
            data = tensor_from_bytes(tensor.name, tensor.datatype, shape, raw[index])
        else:
            field = CONTENTS_FIELDS.get(tensor.datatype)
            if field is None:
                raise InvalidInput(
                    f"input {tensor.name!r}: send {tensor.datatype!r} data as raw_input_contents"
                )
            data = list(getattr(tensor.contents, field))
        tensors.append(InputTensor(tensor.name, tensor.datatype, shape, data))
    return tensors


def _tensor_metadata(tensors: list[Tensor]) -> list[pb.ModelMetadataResponse.TensorMetadata]:
    return [
        pb.ModelMetadataResponse.TensorMetadata(name=t.name, datatype=t.datatype, shape=t.shape)
        for t in tensors
    ]


class InferenceService:
    """The service's methods over one data plane."""

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane

    async def server_live(self, request: pb.ServerLiveRequest) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    async def server_ready(self, request: pb.ServerReadyRequest) -> pb.ServerReadyResponse:
        return pb.ServerReadyResponse(ready=await run_sync(self.plane.ready))

    async def model_ready(self, request: pb.ModelReadyRequest) -> pb.ModelReadyResponse:
        version = version_number(request.version)
        try:
            await run_sync(self.plane.model_ready, request.name, version)
        except NotFound:
            return pb.ModelReadyResponse(ready=False)
        return pb.ModelReadyResponse(ready=True)

    async def server_metadata(self, request: pb.ServerMetadataRequest) -> pb.ServerMetadataResponse:
        info = self.plane.info
        return pb.ServerMetadataResponse(
            name=info.name, version=info.version, extensions=info.extensions
        )

    async def model_metadata(self, request: pb.ModelMetadataRequest) -> pb.ModelMetadataResponse:
        version = version_number(request.version)
        info = await run_sync(self.plane.model_metadata, request.name, version)
        return pb.ModelMetadataResponse(
            name=info.name,
            versions=info.versions,
            platform=info.platform,
            inputs=_tensor_metadata(info.inputs),
            outputs=_tensor_metadata(info.outputs),
        )

    async def model_infer(self, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
        requested = [o.name for o in request.outputs] or None
        result = await self.plane.infer(
            request.model_name,
            version_number(request.model_version),
            input_tensors(request),
            requested,
        )
        response = pb.ModelInferResponse(
            model_name=result.model_name, model_version=result.model_version, id=request.id
        )
        response.parameters["trained"].bool_param = result.trained
        if result.warnings:
            response.parameters["warnings"].string_param = "; ".join(result.warnings)
        for tensor in result.outputs:
            response.outputs.add(name=tensor.name, datatype=tensor.datatype, shape=tensor.shape)
            data = tensor.data if tensor.data is not None else []
            response.raw_output_contents.append(array_to_bytes(data, tensor.datatype))
        return response


Method = Callable[[Any], Awaitable[Message]]


def _guarded(
    method: Method, keys: KeyRing
) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Message]]:
    """``method`` behind the API-key rule, its domain errors answered as status codes."""

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
        tenant: str | None = None
        if keys:
            metadata = dict(context.invocation_metadata() or ())
            scheme, _, token = str(metadata.get("authorization", "")).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED, "send 'authorization: Bearer <api key>'"
                )
            principal = keys.match(token.strip())
            if principal is None:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, "the API key is not valid")
            assert principal is not None  # abort raises
            tenant = principal.tenant  # every call reads or scores: any role may make it
        acting = current_tenant.set(tenant)
        try:
            return await method(request)
        except (ServiceError, CoreError) as error:
            message = error.detail if isinstance(error, ServiceError) else str(error)
            await context.abort(status_code(error), message)
            raise  # abort raises; this keeps the type checker informed
        finally:
            current_tenant.reset(acting)

    return call


def generic_handler(plane: DataPlane, keys: KeyRing) -> grpc.GenericRpcHandler:
    """The service's handler, each method under its protocol name."""
    service = InferenceService(plane)
    methods: dict[str, tuple[Method, type[Message]]] = {
        "ServerLive": (service.server_live, pb.ServerLiveRequest),
        "ServerReady": (service.server_ready, pb.ServerReadyRequest),
        "ModelReady": (service.model_ready, pb.ModelReadyRequest),
        "ServerMetadata": (service.server_metadata, pb.ServerMetadataRequest),
        "ModelMetadata": (service.model_metadata, pb.ModelMetadataRequest),
        "ModelInfer": (service.model_infer, pb.ModelInferRequest),
    }
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        name: grpc.unary_unary_rpc_method_handler(
            _guarded(method, keys),
            request_deserializer=message.FromString,
            response_serializer=lambda response: response.SerializeToString(),
        )
        for name, (method, message) in methods.items()
    }
    return grpc.method_handlers_generic_handler(SERVICE, handlers)
