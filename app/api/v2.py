"""The Open Inference Protocol (KServe v2 REST) at ``/v2``, so existing clients work unchanged.

A model is addressed by id or by (unique) name; ``versions/{v}`` pins a parameter version. One
input tensor ``[batch, n_inputs]`` of numbers goes in, as JSON or binary tensor data
(:mod:`app.api.v2_wire`); ``predictions`` (class labels, or values) and, for classifiers,
``probabilities`` come out. The answers come from the protocol's data plane
(:mod:`app.services.inference_dataplane`), which the gRPC service shares. Every error is
``{"error": "..."}`` with 400 (bad request), 401 (API key), 404 (unknown model, version or
route), 405, 413 or 415: :class:`V2Route` and :func:`install_v2_errors` give that shape to
``/v2`` paths only, so ``/v1`` keeps problem+json.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import v2_wire as wire
from app.api.errors import Unauthenticated, status_for
from app.api.schemas.v2 import (
    ErrorResponse,
    InferenceRequest,
    InferenceResponse,
    LiveResponse,
    ModelMetadata,
    ModelReadyResponse,
    ReadyResponse,
    ServerMetadata,
    TensorMetadata,
)
from app.services.errors import ServiceError
from app.services.inference_dataplane import (
    DataPlane,
    InferenceResult,
    ModelInfo,
    version_number,
)
from app.settings import Settings
from core.errors import CoreError

# Statuses a /v2 error keeps; every other client error is a 400, as the protocol has it.
KEPT_STATUSES = frozenset({401, 404, 405, 413, 415, 503})
AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="annserve"'}
BIG_BODY_BYTES = 256 * 1024


def v2_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The protocol's error body."""
    return JSONResponse(
        {"error": message}, status_code=status if status in KEPT_STATUSES else 400, headers=headers
    )


def _http_error(error: StarletteHTTPException) -> JSONResponse:
    message = {404: "no such route", 405: "method not allowed on this route"}.get(
        error.status_code, f"invalid request: {error.detail}"
    )
    return v2_error(error.status_code, message, error.headers)


class V2Route(APIRoute):
    """A route whose errors (including its dependencies', e.g. the API key) are ``{"error"}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as error:
                # e.g. a body over the size limit, refused while it streams in.
                return _http_error(error)
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return v2_error(400, f"invalid request: {where}: {first.get('msg', 'bad value')}")
            except (ServiceError, CoreError) as error:
                headers = AUTH_HEADERS if isinstance(error, Unauthenticated) else None
                message = error.detail if isinstance(error, ServiceError) else str(error)
                return v2_error(status_for(error), message, headers)

        return handle


def install_v2_errors(app: FastAPI) -> None:
    """Answer unknown ``/v2`` routes and wrong methods there with ``{"error"}`` too."""
    fallback = app.exception_handlers[StarletteHTTPException]

    async def handle(request: Request, error: Exception) -> Response:
        path = request.url.path
        if isinstance(error, StarletteHTTPException) and (path == "/v2" or path[:4] == "/v2/"):
            return _http_error(error)
        response = fallback(request, error)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, handle)


async def _dataplane(request: Request) -> DataPlane:
    plane: DataPlane = request.app.state.dataplane
    return plane


DataPlaneDep = Annotated[DataPlane, Depends(_dataplane)]

router = APIRouter(
    prefix="/v2",
    tags=["open inference protocol (v2)"],
    route_class=V2Route,
    responses={
        400: {"model": ErrorResponse, "description": "Bad request"},
        401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
        404: {"model": ErrorResponse, "description": "Unknown model or version"},
    },
)

ModelRef = Annotated[str, Path(min_length=1, max_length=200, description="Model id or name.")]


# --- server ---------------------------------------------------------------------------------
# No I/O in these two: ``async def`` keeps them off the thread pool.
@router.get("")
async def server_metadata(plane: DataPlaneDep) -> ServerMetadata:
    """The server's name, version and protocol extensions (binary tensor data)."""
    info = plane.info
    return ServerMetadata(name=info.name, version=info.version, extensions=list(info.extensions))


@router.get("/health/live")
async def server_live() -> LiveResponse:
    """The server answers requests."""
    return LiveResponse(live=True)


@router.get("/health/ready", responses={503: {"model": ReadyResponse}})
def server_ready(request: Request) -> JSONResponse:
    """The server can answer inference requests (its database answers)."""
    ready = request.app.state.dataplane.ready()
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


# --- model metadata -------------------------------------------------------------------------
def _metadata(info: ModelInfo) -> ModelMetadata:
    return ModelMetadata(
        name=info.name,
        versions=info.versions,
        platform=info.platform,
        inputs=[
            TensorMetadata(name=t.name, datatype=t.datatype, shape=t.shape) for t in info.inputs
        ],
        outputs=[
            TensorMetadata(name=t.name, datatype=t.datatype, shape=t.shape) for t in info.outputs
        ],
    )


@router.get("/models/{name}")
def model_metadata(name: ModelRef, plane: DataPlaneDep) -> ModelMetadata:
    """Inputs and outputs of the model's current version (datatype and shape)."""
    return _metadata(plane.model_metadata(name, None))


@router.get("/models/{name}/versions/{version}")
def model_version_metadata(name: ModelRef, version: str, plane: DataPlaneDep) -> ModelMetadata:
    """Inputs and outputs of one version."""
    return _metadata(plane.model_metadata(name, version_number(version)))


@router.get("/models/{name}/ready")
def model_ready(name: ModelRef, plane: DataPlaneDep) -> ModelReadyResponse:
    """The model's current version is loaded and can answer (404 for an unknown model)."""
    plane.model_ready(name, None)
    return ModelReadyResponse(name=name, ready=True)


@router.get("/models/{name}/versions/{version}/ready")
def model_version_ready(name: ModelRef, version: str, plane: DataPlaneDep) -> ModelReadyResponse:
    """The version is loaded and can answer."""
    plane.model_ready(name, version_number(version))
    return ModelReadyResponse(name=name, ready=True)


# --- inference ------------------------------------------------------------------------------
def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` references replaced by the definitions (for a request
    body documented outside FastAPI's own body handling)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


_INFER_DOCS = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inlined(InferenceRequest.model_json_schema())}},
    }
}
_INFER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/json": {},
            wire.BINARY_MEDIA: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "The outputs; with binary tensor data, a JSON header of "
        "Inference-Header-Content-Length bytes followed by the outputs' bytes.",
    },
    413: {"model": ErrorResponse, "description": "Body over the size limit"},
    415: {"model": ErrorResponse, "description": "Unsupported Content-Encoding"},
}


def _read(body: bytes, headers: Mapping[str, str], limit: int) -> wire.WireRequest:
    data = wire.decompress(body, headers.get("content-encoding", ""), limit)
    return wire.parse_request(data, headers.get(wire.HEADER_LENGTH))


def _write(
    result: InferenceResult, request: wire.WireRequest, accept_encoding: str
) -> tuple[bytes, dict[str, str]]:
    body, header_length = wire.encode_response(result, request)
    headers = {"Content-Type": wire.JSON_MEDIA}
    if header_length is not None:
        headers = {
            "Content-Type": wire.BINARY_MEDIA,
            "Inference-Header-Content-Length": str(header_length),
        }
    body, coding = wire.compress(body, accept_encoding)
    if coding is not None:
        headers["Content-Encoding"] = coding
    return body, headers


async def _infer(request: Request, plane: DataPlane, ref: str, version: int | None) -> Response:
    settings: Settings = request.app.state.settings
    body = await request.body()
    big = len(body) > BIG_BODY_BYTES
    headers = request.headers
    if big:
        parsed = await run_in_threadpool(_read, body, headers, settings.max_body_bytes)
    else:
        parsed = _read(body, headers, settings.max_body_bytes)
    result = await plane.infer(ref, version, parsed.inputs, parsed.requested)
    accept = headers.get("accept-encoding", "")
    if big:
        payload, response_headers = await run_in_threadpool(_write, result, parsed, accept)
    else:
        payload, response_headers = _write(result, parsed, accept)
    return Response(payload, headers=response_headers)


@router.post(
    "/models/{name}/infer",
    response_model=InferenceResponse,
    response_model_exclude_none=True,
    responses=_INFER_RESPONSES,
    openapi_extra=_INFER_DOCS,
)
async def infer(name: ModelRef, request: Request, plane: DataPlaneDep) -> Response:
    """Run the model's current version on the input tensor."""
    return await _infer(request, plane, name, None)


@router.post(
    "/models/{name}/versions/{version}/infer",
    response_model=InferenceResponse,
    response_model_exclude_none=True,
    responses=_INFER_RESPONSES,
    openapi_extra=_INFER_DOCS,
)
async def infer_version(
    name: ModelRef, version: str, request: Request, plane: DataPlaneDep
) -> Response:
    """Run one version of the model on the input tensor."""
    return await _infer(request, plane, name, version_number(version))
