"""Pause control and live snapshots: ``/v1/jobs/{id}/pause``, ``/resume``, ``/step`` and
``/snapshot`` (a job's neuron maps are in :mod:`app.api.routers.neuron_maps`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from app.api.deps import JobServiceDep
from app.api.http.parameters import PROBLEMS
from app.api.routers.jobs import to_read
from app.api.schemas.job_control import SnapshotRead, StepRequest
from app.api.schemas.jobs import JobRead
from app.services.job_control import JobControlService

router = APIRouter(prefix="/v1", tags=["jobs"])


@router.post("/jobs/{job_id}/pause", responses=PROBLEMS)
def pause_job(job_id: str, service: JobServiceDep) -> JobRead:
    """Pause: a queued job at once; a running one checkpoints and frees its worker slot."""
    return to_read(JobControlService(service).pause(job_id))


@router.post("/jobs/{job_id}/resume", responses=PROBLEMS)
def resume_job(job_id: str, service: JobServiceDep) -> JobRead:
    """Queue a paused job again; it continues from its checkpoint (bit-identical)."""
    return to_read(JobControlService(service).resume(job_id))


@router.post("/jobs/{job_id}/step", responses=PROBLEMS)
def step_job(
    job_id: str,
    service: JobServiceDep,
    body: Annotated[StepRequest | None, Body(examples=[{"iterations": 10}])] = None,
) -> JobRead:
    """Train ``iterations`` more passes (default 1), then pause again."""
    iterations = body.iterations if body is not None else 1
    return to_read(JobControlService(service).step(job_id, iterations))


@router.get("/jobs/{job_id}/snapshot", responses=PROBLEMS)
def job_snapshot(job_id: str, service: JobServiceDep) -> SnapshotRead:
    """The latest parameters of a job while it trains (a few times a second) and after."""
    row, snapshot = JobControlService(service).snapshot(job_id)
    parameters = {
        name: value.reshape(value.shape[0], -1).tolist()
        for name, value in snapshot.parameters.items()
    }
    return SnapshotRead(
        job_id=row.id,
        model_id=row.model_id,
        status=row.status,
        iteration=snapshot.iteration,
        n_iter=snapshot.n_iter,
        cost=snapshot.cost,
        parameters=parameters,
    )
