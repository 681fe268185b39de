"""Neuron maps: ``GET /v1/jobs/{id}/neuron-maps`` (from the job's live snapshot) and
``GET /v1/models/{id}/neuron-maps``, as JSON or in binary form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import JobServiceDep, ModelCacheDep, cached_network
from app.api.http.negotiation import choose
from app.api.http.parameters import PROBLEMS, Version
from app.api.schemas.job_control import NeuronMapsRead
from app.services.job_control import JobControlService
from app.services.neuron_map_files import LAYOUT as MAPS_LAYOUT
from app.services.neuron_map_files import MEDIA_TYPE as MAPS_FILE
from app.services.neuron_map_files import maps_file
from app.services.neuron_maps import (
    DEFAULT_EXTENT,
    MAX_RESOLUTION,
    MIN_RESOLUTION,
    Grid,
    NeuronMaps,
    maps_body,
)
from app.services.neuron_maps import neuron_maps as compute_maps
from core.inference import Inference
from core.pipeline import pipeline_from_bytes

router = APIRouter(prefix="/v1", tags=["jobs"])

Resolution = Annotated[int, Query(ge=MIN_RESOLUTION, le=MAX_RESOLUTION)]
Bound = Annotated[float, Query(ge=-1e6, le=1e6)]
MapsFormat = Annotated[
    Literal["json", "binary"] | None,
    Query(description="json (default) or binary; without it, Accept chooses."),
]
JSON = "application/json"
MAPS_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    200: {
        "model": NeuronMapsRead,
        "content": {JSON: {}, MAPS_FILE: {}},
        "description": f"The maps as JSON, or in binary form. {MAPS_LAYOUT}",
    },
}


async def grid_query(
    resolution: Resolution = 20,
    x1_min: Bound = DEFAULT_EXTENT[0],
    x1_max: Bound = DEFAULT_EXTENT[1],
    x2_min: Bound = DEFAULT_EXTENT[2],
    x2_max: Bound = DEFAULT_EXTENT[3],
) -> Grid:
    """The grid of the query: ``resolution`` points a side over the two raw inputs' ranges."""
    return Grid(resolution, (x1_min, x1_max, x2_min, x2_max)).check()


async def media_query(
    format: MapsFormat = None, accept: Annotated[str | None, Header()] = None
) -> str:
    """The form asked for: the query's ``format``, else the one ``Accept`` prefers (JSON on a
    tie); 406 when it allows neither."""
    if format is not None:
        return MAPS_FILE if format == "binary" else JSON
    return choose(accept, (JSON, MAPS_FILE))


GridDep = Annotated[Grid, Depends(grid_query)]
MediaDep = Annotated[str, Depends(media_query)]


def _snapshot_network(service: JobServiceDep, job_id: str) -> tuple[dict[str, Any], Inference]:
    row, snapshot = JobControlService(service).snapshot(job_id)
    base = pipeline_from_bytes(service.arrays.model_version_bytes(row.model_id, 0))
    base.ann.set_parameters(snapshot.parameters)
    stage = snapshot.stage if snapshot.stage is not None else base.preprocessor
    head = {"model_id": row.model_id, "job_id": row.id, "iteration": snapshot.iteration}
    return head, Inference(base.ann, preprocessor=stage)


def _answer(head: dict[str, Any], maps: NeuronMaps, media: str) -> Response:
    if media == MAPS_FILE:
        return Response(maps_file(maps, head), media_type=MAPS_FILE, headers={"Vary": "Accept"})
    body = NeuronMapsRead(**head, **maps_body(maps))
    return Response(body.model_dump_json(), media_type=JSON, headers={"Vary": "Accept"})


@router.get("/jobs/{job_id}/neuron-maps", responses=MAPS_RESPONSES, response_model=None)
def job_neuron_maps(
    job_id: str, service: JobServiceDep, grid: GridDep, media: MediaDep
) -> Response:
    """Each encoded input and each unit's output over a grid of the two raw inputs, from the
    job's latest snapshot, as JSON or (``?format=binary`` or ``Accept:
    application/octet-stream``) as float32 grids in the safetensors layout."""
    head, inference = _snapshot_network(service, job_id)
    return _answer(head, compute_maps(inference, grid), media)


@router.get("/models/{model_id}/neuron-maps", responses=MAPS_RESPONSES, response_model=None)
async def model_neuron_maps(
    model_id: str,
    cache: ModelCacheDep,
    grid: GridDep,
    media: MediaDep,
    version: Version = None,
) -> Response:
    """Each encoded input and each hidden and output unit's output over a grid of the two raw
    inputs (through the model's preprocessing), for a version of a model with two numeric
    inputs; JSON, or the binary form as for a job's maps."""
    loaded = await cached_network(cache, model_id, version)
    maps = await run_in_threadpool(compute_maps, loaded.inference, grid)
    return _answer({"model_id": model_id, "version": loaded.version}, maps, media)
