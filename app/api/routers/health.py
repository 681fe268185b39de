"""Operational endpoints, open without an API key: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import ArrayStoreDep, DatabaseDep, ServiceMetricsDep
from app.storage.faults import data_dir_problem, database_problem

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """Readiness and the checks behind it; ``reason`` says what is wrong when not ready."""

    status: Literal["ready", "not ready"]
    database: bool
    database_writable: bool
    data_dir_writable: bool
    reason: str | None = None


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
    """The database answers and takes writes, and the data dir is writable (503 otherwise)."""
    database = db.ping()
    dir_problem = data_dir_problem(arrays.root)
    db_problem = database_problem(db) if database else "the database does not answer"
    reason = "; ".join(p for p in (db_problem, dir_problem) if p) or None
    body = Readiness(
        status="not ready" if reason else "ready",
        database=database,
        database_writable=db_problem is None,
        data_dir_writable=dir_problem is None,
        reason=reason,
    )
    return JSONResponse(body.model_dump(), status_code=503 if reason else 200)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(registry: ServiceMetricsDep) -> Response:
    """Request counts and latencies by route and status, in Prometheus' text format."""
    return Response(registry.render(), media_type=registry.content_type)
