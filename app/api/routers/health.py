"""Operational endpoints, open without an API key: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import ArrayStoreDep, DatabaseDep, ServiceMetricsDep

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """Readiness and the checks behind it."""

    status: Literal["ready", "not ready"]
    database: bool
    data_dir_writable: bool


# Endpoints that do no I/O are ``async def``, so FastAPI answers them on the event loop instead
# of handing them to its thread pool, which would cost more than they do.
@router.get("/healthz")
async def healthz() -> Health:
    """The process is alive and serving."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
def readyz(db: DatabaseDep, arrays: ArrayStoreDep) -> JSONResponse:
    """The database answers and the data dir is writable (503 otherwise)."""
    database, writable = db.ping(), arrays.is_writable()
    ready = database and writable
    body = Readiness(
        status="ready" if ready else "not ready", database=database, data_dir_writable=writable
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(registry: ServiceMetricsDep) -> Response:
    """Request counts and latencies by route and status, in Prometheus' text format."""
    return Response(registry.render(), media_type=registry.content_type)
