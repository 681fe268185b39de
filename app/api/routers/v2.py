"""The Open Inference Protocol (KServe v2 REST) at ``/v2``, so existing clients work unchanged.

A model is addressed by id or by (unique) name; ``versions/{v}`` pins a parameter version. One
input tensor ``[batch, n_inputs]`` of numbers goes in (a table model: one tensor per raw column,
:mod:`app.services.inference_columns`), as JSON or binary tensor data
(:mod:`app.api.http.v2_wire`); ``predictions`` (class labels, or values) and, for classifiers,
``probabilities`` come out. The answers come from the protocol's data plane
(:mod:`app.services.inference_dataplane`), which the gRPC service shares. Every error is
``{"error": "..."}`` with 400 (bad request), 401 (API key), 404 (unknown model, version or
route), 405, 413 or 415: :mod:`app.api.http.v2_errors` gives that shape to ``/v2`` paths
only, so ``/v1`` keeps problem+json. The two infer routes, the hot path, are mounted by
:mod:`app.api.routers.v2_infer`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from app.api.deps import DataPlaneDep
from app.api.http.v2_errors import V2Route
from app.api.schemas.v2 import (
    ERROR_RESPONSES,
    LiveResponse,
    ModelMetadata,
    ModelReadyResponse,
    ReadyResponse,
    ServerMetadata,
    TensorMetadata,
)
from app.services.inference_dataplane import (
    ModelInfo,
    version_number,
)

router = APIRouter(
    prefix="/v2",
    tags=["open inference protocol (v2)"],
    route_class=V2Route,
    responses=ERROR_RESPONSES,
)

ModelRef = Annotated[str, Path(min_length=1, max_length=200, description="Model id or name.")]


# Liveness and readiness are open without an API key, like /healthz and /readyz.
health_router = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"], route_class=V2Route)


# --- server ---------------------------------------------------------------------------------
# No I/O in these two: ``async def`` keeps them off the thread pool.
@router.get("")
async def server_metadata(plane: DataPlaneDep) -> ServerMetadata:
    """The server's name, version and protocol extensions (binary tensor data)."""
    info = plane.info
    return ServerMetadata(name=info.name, version=info.version, extensions=list(info.extensions))


@health_router.get("/health/live")
async def server_live() -> LiveResponse:
    """The server answers requests."""
    return LiveResponse(live=True)


@health_router.get("/health/ready", responses={503: {"model": ReadyResponse}})
def server_ready(plane: DataPlaneDep) -> JSONResponse:
    """The server can answer inference requests (its database answers)."""
    ready = plane.ready()
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
