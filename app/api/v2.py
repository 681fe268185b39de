"""The Open Inference Protocol (KServe v2 REST) at ``/v2``, so existing clients work unchanged.

A model is addressed by id or by (unique) name; ``versions/{v}`` pins a parameter version. One
input tensor ``[batch, n_inputs]`` of FP32, FP64, INT32 or INT64 goes in; ``predictions``
(class labels, or values) and, for classifiers, ``probabilities`` come out. Every error is
``{"error": "..."}`` with 400 (bad request), 401 (API key) or 404 (unknown model or version):
:class:`V2Route` turns domain and validation errors into that shape for these routes only, so
``/v1`` keeps problem+json.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from numpy.typing import NDArray
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
    RequestInput,
    ResponseOutput,
    ServerMetadata,
    TensorMetadata,
)
from app.services.errors import InvalidInput, NotFound, ServiceError
from app.services.model_cache import LoadedModel, ModelCache, ServedModel
from app.services.models import ModelService
from app.services.predictions import Prediction, check_features, predict
from app.settings import Settings
from core.errors import CoreError

INPUT_DTYPES: dict[str, type[np.generic]] = {
    "FP32": np.float32,
    "FP64": np.float64,
    "INT32": np.int32,
    "INT64": np.int64,
}
INT_LIMITS: dict[str, np.iinfo[Any]] = {"INT32": np.iinfo(np.int32), "INT64": np.iinfo(np.int64)}
FLOAT_NAMES = {"float32": "FP32", "float64": "FP64"}
PLATFORM = "annserve_numpy"
INPUT_NAME = "input"
OUTPUTS = ("predictions", "probabilities")


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


# --- server ---------------------------------------------------------------------------------
@router.get("")
def server_metadata(request: Request) -> ServerMetadata:
    """The server's name, version and protocol extensions (none)."""
    return ServerMetadata(name="annserve", version=request.app.version, extensions=[])


@router.get("/health/live")
def server_live() -> LiveResponse:
    """The server answers requests."""
    return LiveResponse(live=True)


@router.get("/health/ready", responses={503: {"model": ReadyResponse}})
def server_ready(request: Request) -> JSONResponse:
    """The server can answer inference requests (its database answers)."""
    ready = bool(request.app.state.db.ping())
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503)


# --- model metadata -------------------------------------------------------------------------
def _tensor_dtype(model: ServedModel) -> str:
    return FLOAT_NAMES[model.dtype]


def _output_metadata(model: ServedModel) -> list[TensorMetadata]:
    dtype = _tensor_dtype(model)
    if model.classes is None:
        return [TensorMetadata(name="predictions", datatype=dtype, shape=[-1, model.n_outputs])]
    label_type = "BYTES" if isinstance(model.classes[0], str) else "INT64"
    return [
        TensorMetadata(name="predictions", datatype=label_type, shape=[-1]),
        TensorMetadata(name="probabilities", datatype=dtype, shape=[-1, len(model.classes)]),
    ]


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
            TensorMetadata(
                name=INPUT_NAME, datatype=_tensor_dtype(model), shape=[-1, model.n_inputs]
            )
        ],
        outputs=_output_metadata(model),
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
def input_rows(tensor: RequestInput, n_inputs: int, max_rows: int) -> NDArray[np.float64]:
    """The input tensor as finite rows ``(batch, n_inputs)``, checked against its datatype."""
    dtype = INPUT_DTYPES.get(tensor.datatype)
    if dtype is None:
        raise InvalidInput(
            f"input {tensor.name!r}: datatype {tensor.datatype!r} is not supported; "
            f"use one of {', '.join(INPUT_DTYPES)}"
        )
    shape = tensor.shape
    if len(shape) != 2 or shape[1] != n_inputs or shape[0] < 1:
        raise InvalidInput(
            f"input {tensor.name!r}: shape must be [batch, {n_inputs}] with batch >= 1, got {shape}"
        )
    try:
        values = np.asarray(tensor.data)
    except ValueError as error:
        raise InvalidInput(f"input {tensor.name!r}: data is ragged") from error
    limits = INT_LIMITS.get(tensor.datatype)
    integer = limits is not None
    allowed = "iu" if integer else "iuf"
    if values.dtype.kind not in allowed:
        kind = "integers" if integer else "numbers"
        raise InvalidInput(f"input {tensor.name!r}: {tensor.datatype} data must hold {kind}")
    if values.size != math.prod(shape):
        raise InvalidInput(
            f"input {tensor.name!r}: shape {shape} needs {math.prod(shape)} values, "
            f"data has {values.size}"
        )
    if limits is not None and (values.min() < limits.min or values.max() > limits.max):
        raise InvalidInput(f"input {tensor.name!r}: a value is out of range for {tensor.datatype}")
    # FP32 data is taken at FP32 precision, as the client declared it.
    rows = values.astype(dtype).reshape(shape)
    return check_features(rows, n_inputs, max_rows, field=f"inputs.{tensor.name}")


def _outputs(prediction: Prediction, wanted: list[str]) -> list[ResponseOutput]:
    model = prediction.model
    dtype = _tensor_dtype(model)
    batch = prediction.outputs.shape[0]
    outputs = []
    for name in wanted:
        if name == "predictions" and prediction.labels is not None:
            label_type = "BYTES" if isinstance(prediction.labels[0], str) else "INT64"
            outputs.append(
                ResponseOutput(
                    name=name, shape=[batch], datatype=label_type, data=prediction.labels
                )
            )
        elif name == "predictions":
            n_y = prediction.outputs.shape[1]
            data = prediction.outputs.ravel().tolist()
            outputs.append(ResponseOutput(name=name, shape=[batch, n_y], datatype=dtype, data=data))
        elif prediction.probabilities is not None:
            k = prediction.probabilities.shape[1]
            data = prediction.probabilities.ravel().tolist()
            outputs.append(ResponseOutput(name=name, shape=[batch, k], datatype=dtype, data=data))
    return outputs


def _wanted(body: InferenceRequest, model: ServedModel) -> list[str]:
    available = [o.name for o in _output_metadata(model)]
    if not body.outputs:
        return available
    names = [o.name for o in body.outputs]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise InvalidInput(f"unknown output(s) {unknown}; this model has {available}")
    return names


async def _infer(
    request: Request, cache: ModelCache, ref: str, version: int | None, body: InferenceRequest
) -> InferenceResponse:
    if len(body.inputs) != 1:
        raise InvalidInput(f"the model takes exactly one input tensor, got {len(body.inputs)}")
    model_id = await run_in_threadpool(cache.resolve, ref)
    loaded: LoadedModel = await load_model(cache, model_id, version)
    settings: Settings = request.app.state.settings
    rows = input_rows(body.inputs[0], loaded.model.n_inputs, settings.max_predict_rows)
    wanted = _wanted(body, loaded.model)
    if rows.shape[0] > settings.predict_inline_rows:
        prediction = await run_in_threadpool(predict, loaded, rows)
    else:
        prediction = predict(loaded, rows)
    return InferenceResponse(
        model_name=ref,
        model_version=str(loaded.version),
        id=body.id,
        parameters={"trained": loaded.trained},
        outputs=_outputs(prediction, wanted),
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
