"""The Open Inference Protocol (KServe v2 REST) at ``/v2``, so existing clients work unchanged.

A model is addressed by id or by (unique) name; ``versions/{v}`` pins a parameter version. One
input tensor ``[batch, n_inputs]`` of FP32, FP64, INT32 or INT64 goes in; ``predictions``
(class labels, or values) and, for classifiers, ``probabilities`` come out. Every error is
``{"error": "..."}`` with 400 (bad request), 401 (API key) or 404 (unknown model or version):
:class:`V2Route` turns domain and validation errors into that shape for these routes only, so
``/v1`` keeps problem+json.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.deps import ModelServiceDep
from app.api.errors import Unauthenticated, status_for
from app.api.predict import ModelCacheDep, load_model
from app.api.schemas.v2 import (
    ErrorResponse,
    InferenceRequest,
    InferenceResponse,
    LiveResponse,
    ModelMetadata,
    ModelReadyResponse,
    ReadyResponse,
    ResponseOutput,
    ServerMetadata,
    TensorMetadata,
)
from app.services import inference_tensors as tensors
from app.services.errors import InvalidInput, NotFound, ServiceError
from app.services.ids import MODEL, is_valid_id
from app.services.loaded_model import LoadedModel
from app.services.model_cache import ModelCache
from app.services.models import ModelService
from app.services.predictions import predict
from app.settings import Settings
from core.errors import CoreError

PLATFORM = "annserve_numpy"


def v2_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The protocol's error body."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class V2Route(APIRoute):
    """A route whose errors (including its dependencies', e.g. the API key) are ``{"error"}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as error:
                # e.g. a body that is not even UTF-8 JSON, refused before validation.
                status = 404 if error.status_code == 404 else 400
                return v2_error(status, f"invalid request: {error.detail}")
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return v2_error(400, f"invalid request: {where}: {first.get('msg', 'bad value')}")
            except (ServiceError, CoreError) as error:
                status = status_for(error)
                if isinstance(error, Unauthenticated):
                    headers = {"WWW-Authenticate": 'Bearer realm="annserve"'}
                    return v2_error(401, error.detail, headers)
                message = error.detail if isinstance(error, ServiceError) else str(error)
                return v2_error(404 if status == 404 else 400, message)

        return handle


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


def _version(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise NotFound(f"no model version {raw!r}: versions are whole numbers", code="bad_version")
    return int(raw)


# Liveness and readiness are open without an API key, like /healthz and /readyz.
health_router = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"], route_class=V2Route)


# --- server ---------------------------------------------------------------------------------
# No I/O in these two: ``async def`` keeps them off the thread pool.
@router.get("")
async def server_metadata(request: Request) -> ServerMetadata:
    """The server's name, version and protocol extensions (none)."""
    return ServerMetadata(name="annserve", version=request.app.version, extensions=[])


@health_router.get("/health/live")
async def server_live() -> LiveResponse:
    """The server answers requests."""
    return LiveResponse(live=True)


@health_router.get("/health/ready", responses={503: {"model": ReadyResponse}})
def server_ready(request: Request) -> JSONResponse:
    """The server can answer inference requests (its database answers)."""
    ready = bool(request.app.state.db.ping())
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


# --- model metadata -------------------------------------------------------------------------
def _metadata(
    cache: ModelCache, models: ModelService, ref: str, version: int | None
) -> ModelMetadata:
    model_id = cache.resolve(ref)
    model = cache.get(model_id, version).model
    versions = [str(v.version) for v in models.versions(model_id)]
    return ModelMetadata(
        name=ref,
        versions=versions,
        platform=PLATFORM,
        inputs=[
            TensorMetadata(name=t.name, datatype=t.datatype, shape=t.shape)
            for t in tensors.input_metadata(model)
        ],
        outputs=[
            TensorMetadata(name=t.name, datatype=t.datatype, shape=t.shape)
            for t in tensors.output_metadata(model)
        ],
    )


@router.get("/models/{name}")
def model_metadata(name: ModelRef, cache: ModelCacheDep, models: ModelServiceDep) -> ModelMetadata:
    """Inputs and outputs of the model's current version (datatype and shape)."""
    return _metadata(cache, models, name, None)


@router.get("/models/{name}/versions/{version}")
def model_version_metadata(
    name: ModelRef, version: str, cache: ModelCacheDep, models: ModelServiceDep
) -> ModelMetadata:
    """Inputs and outputs of one version."""
    return _metadata(cache, models, name, _version(version))


@router.get("/models/{name}/ready")
def model_ready(name: ModelRef, cache: ModelCacheDep) -> ModelReadyResponse:
    """The model's current version is loaded and can answer (404 for an unknown model)."""
    cache.get(cache.resolve(name))
    return ModelReadyResponse(name=name, ready=True)


@router.get("/models/{name}/versions/{version}/ready")
def model_version_ready(name: ModelRef, version: str, cache: ModelCacheDep) -> ModelReadyResponse:
    """The version is loaded and can answer."""
    cache.get(cache.resolve(name), _version(version))
    return ModelReadyResponse(name=name, ready=True)


# --- inference ------------------------------------------------------------------------------
async def _infer(
    request: Request, cache: ModelCache, ref: str, version: int | None, body: InferenceRequest
) -> InferenceResponse:
    if len(body.inputs) != 1:
        raise InvalidInput(f"the model takes exactly one input tensor, got {len(body.inputs)}")
    # An id needs no database read; a name does, off the event loop.
    model_id = ref if is_valid_id(ref, MODEL) else await run_in_threadpool(cache.resolve, ref)
    loaded: LoadedModel = await load_model(cache, model_id, version)
    settings: Settings = request.app.state.settings
    tensor = body.inputs[0]
    rows = tensors.input_rows(
        tensor.name,
        tensor.datatype,
        tensor.shape,
        tensor.data,
        loaded.model.n_inputs,
        settings.max_predict_rows,
    )
    requested = [o.name for o in body.outputs] if body.outputs else None
    wanted = tensors.requested_outputs(requested, loaded.model)
    if rows.shape[0] > settings.predict_inline_rows:
        prediction = await run_in_threadpool(predict, loaded, rows)
    else:
        prediction = predict(loaded, rows)
    return InferenceResponse(
        model_name=ref,
        model_version=str(loaded.version),
        id=body.id,
        parameters={"trained": loaded.trained},
        outputs=[
            ResponseOutput(name=t.name, shape=t.shape, datatype=t.datatype, data=t.data or [])
            for t in tensors.output_tensors(prediction, wanted)
        ],
    )


@router.post("/models/{name}/infer", response_model_exclude_none=True)
async def infer(
    name: ModelRef, body: InferenceRequest, request: Request, cache: ModelCacheDep
) -> InferenceResponse:
    """Run the model's current version on the input tensor."""
    return await _infer(request, cache, name, None, body)


@router.post("/models/{name}/versions/{version}/infer", response_model_exclude_none=True)
async def infer_version(
    name: ModelRef, version: str, body: InferenceRequest, request: Request, cache: ModelCacheDep
) -> InferenceResponse:
    """Run one version of the model on the input tensor."""
    return await _infer(request, cache, name, _version(version), body)
