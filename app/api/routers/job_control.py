"""Pause control, live snapshots and neuron maps: ``/v1/jobs/{id}/pause``, ``/resume``,
``/step``, ``/snapshot``, ``/neuron-maps`` and ``GET /v1/models/{id}/neuron-maps``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.concurrency import run_in_threadpool

from app.api.deps import JobServiceDep, ModelCacheDep, cached_network
from app.api.http.parameters import PROBLEMS, Version
from app.api.routers.jobs import to_read
from app.api.schemas.job_control import NeuronMapsRead, SnapshotRead, StepRequest
from app.api.schemas.jobs import JobRead
from app.services.job_control import JobControlService
from app.services.neuron_maps import DEFAULT_EXTENT, MAX_RESOLUTION, MIN_RESOLUTION, Grid
from app.services.neuron_maps import neuron_maps as compute_maps
from core.network import ANN
from core.serialization import model_from_bytes

router = APIRouter(prefix="/v1", tags=["jobs"])

Resolution = Annotated[int, Query(ge=MIN_RESOLUTION, le=MAX_RESOLUTION)]
Bound = Annotated[float, Query(ge=-1e6, le=1e6)]


def _grid(resolution: int, x1_min: float, x1_max: float, x2_min: float, x2_max: float) -> Grid:
    return Grid(resolution, (x1_min, x1_max, x2_min, x2_max)).check()


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


def _snapshot_network(service: JobServiceDep, job_id: str) -> tuple[dict[str, Any], ANN]:
    row, snapshot = JobControlService(service).snapshot(job_id)
    ann = model_from_bytes(service.arrays.model_version_bytes(row.model_id, 0))
    ann.set_parameters(snapshot.parameters)
    return {"model_id": row.model_id, "job_id": row.id, "iteration": snapshot.iteration}, ann


@router.get("/jobs/{job_id}/neuron-maps", responses=PROBLEMS)
def job_neuron_maps(
    job_id: str,
    service: JobServiceDep,
    resolution: Resolution = 20,
    x1_min: Bound = DEFAULT_EXTENT[0],
    x1_max: Bound = DEFAULT_EXTENT[1],
    x2_min: Bound = DEFAULT_EXTENT[2],
    x2_max: Bound = DEFAULT_EXTENT[3],
) -> NeuronMapsRead:
    """Each unit's output over a grid, from the job's latest snapshot (a 2-input model)."""
    grid = _grid(resolution, x1_min, x1_max, x2_min, x2_max)
    head, ann = _snapshot_network(service, job_id)
    return NeuronMapsRead(**head, **compute_maps(ann, grid))


@router.get("/models/{model_id}/neuron-maps", responses=PROBLEMS)
async def model_neuron_maps(
    model_id: str,
    cache: ModelCacheDep,
    version: Version = None,
    resolution: Resolution = 20,
    x1_min: Bound = DEFAULT_EXTENT[0],
    x1_max: Bound = DEFAULT_EXTENT[1],
    x2_min: Bound = DEFAULT_EXTENT[2],
    x2_max: Bound = DEFAULT_EXTENT[3],
) -> NeuronMapsRead:
    """Each hidden and output unit's output over a grid, for a 2-input model's version."""
    grid = _grid(resolution, x1_min, x1_max, x2_min, x2_max)
    loaded = await cached_network(cache, model_id, version)
    body = await run_in_threadpool(compute_maps, loaded.ann, grid)
    return NeuronMapsRead(model_id=model_id, version=loaded.version, **body)
