"""Training jobs: ``POST /v1/models/{id}/train``, ``/v1/jobs`` (list, read, history, events,
cancel, cost curve) and ``GET /v1/models/{id}/cost-curve.png``."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from sse_starlette import EventSourceResponse

from app.api.deps import JobServiceDep, JsonBody
from app.api.http.etags import plan_response
from app.api.http.job_events import event_stream
from app.api.http.negotiation import choose
from app.api.http.pagination import link_pages
from app.api.http.parameters import CONFLICT, IMAGE_RESPONSES, PROBLEMS, ImageFormat, Limit, Offset
from app.api.http.storage_calls import call_storage
from app.api.schemas.common import Problem
from app.api.schemas.jobs import (
    JobHistoryRead,
    JobPage,
    JobRead,
    JobStatus,
    TrainRequest,
)
from app.jobs.job_spec import JobSpec
from app.services.job_images import CostCurves
from app.storage.tables import JobRow

router = APIRouter(prefix="/v1", tags=["jobs"])

ModelIdQuery = Annotated[str | None, Query(pattern=r"^mdl_[0-9a-f]{16}$")]


def to_read(row: JobRow) -> JobRead:
    """The response body of a job row."""
    return JobRead.model_validate(row, from_attributes=True)


def _spec(body: TrainRequest) -> JobSpec:
    stopping = body.early_stopping
    return JobSpec.create(
        n_iter=body.n_iter,
        learning_rate=body.learning_rate,
        batch_size=body.batch_size,
        optimizer=body.optimizer,
        l2=body.l2,
        tol=body.tol,
        max_seconds=body.max_seconds,
        record_every=body.record_every,
        seed=body.seed,
        validation=body.validation,
        patience=stopping.patience if stopping else None,
        min_delta=stopping.min_delta if stopping else 0.0,
        warm_start=body.warm_start,
    )


@router.post(
    "/models/{model_id}/train",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[JsonBody],
    responses={
        **PROBLEMS,
        **CONFLICT,
        503: {"description": "The job queue is unreachable", "model": Problem},
    },
)
def train_model(
    model_id: str, body: TrainRequest, service: JobServiceDep, response: Response
) -> JobRead:
    """Start training in the background: 202 with the queued job and its ``Location``."""
    job = service.submit(model_id, body.dataset_id, _spec(body))
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return to_read(job)


# The two reads clients poll are coroutines: see app.api.http.storage_calls.
@router.get("/jobs", responses=PROBLEMS)
async def list_jobs(
    service: JobServiceDep,
    request: Request,
    response: Response,
    limit: Limit = 20,
    offset: Offset = 0,
    model_id: ModelIdQuery = None,
    status: JobStatus | None = None,
) -> JobPage:
    """Jobs, newest first, optionally filtered by model and status; ``Link`` names the next
    and previous pages."""
    rows, total = await call_storage(
        service.db, service.list, limit=limit, offset=offset, status=status, model_id=model_id
    )
    link_pages(request, response, total, limit, offset)
    return JobPage(items=[to_read(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/jobs/{job_id}", responses=PROBLEMS)
async def get_job(job_id: str, service: JobServiceDep) -> JobRead:
    """One job: status, timestamps, progress, result or error."""
    return to_read(await call_storage(service.db, service.get, job_id))


@router.post("/jobs/{job_id}/cancel", responses=PROBLEMS)
def cancel_job(job_id: str, service: JobServiceDep) -> JobRead:
    """Cancel (idempotent): a queued job ends at once, a running one within about a second."""
    return to_read(service.cancel(job_id))


@router.get(
    "/jobs/{job_id}/history",
    operation_id="getJobHistory",
    responses={
        **PROBLEMS,
        200: {"model": JobHistoryRead, "content": {"application/json": {}, "text/csv": {}}},
    },
)
def job_history(
    job_id: str, service: JobServiceDep, accept: Annotated[str | None, Header()] = None
) -> Response:
    """Recorded costs as JSON, or as CSV (``iteration,cost,val_cost``) with ``Accept: text/csv``."""
    media = choose(accept, ("application/json", "text/csv"))
    its, costs, val_its, val_costs = service.history(job_id)
    if media == "text/csv":
        cost_at = dict(zip(its, costs, strict=True))
        val_cost_at = dict(zip(val_its, val_costs, strict=True))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["iteration", "cost", "val_cost"])
        for i in sorted(cost_at.keys() | val_cost_at.keys()):
            writer.writerow(
                [
                    i,
                    repr(cost_at[i]) if i in cost_at else "",
                    repr(val_cost_at[i]) if i in val_cost_at else "",
                ]
            )
        return Response(out.getvalue(), media_type="text/csv")
    body = JobHistoryRead(
        job_id=job_id, iterations=its, costs=costs, val_iterations=val_its, val_costs=val_costs
    )
    return Response(body.model_dump_json(), media_type="application/json")


@router.get(
    "/jobs/{job_id}/events",
    operation_id="streamJobEvents",
    response_class=EventSourceResponse,
    responses={
        **PROBLEMS,
        200: {"content": {"text/event-stream": {}}},
        204: {"description": "A reconnect (Last-Event-ID) after the job ended: stop"},
    },
)
def job_events(
    job_id: str,
    service: JobServiceDep,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Server-Sent Events: ``status`` at once while queued, ``progress`` events (id =
    iteration), then one final ``status``; a reconnect after that gets 204."""
    return event_stream(lambda: service.get(job_id), to_read, last_event_id)


@router.get(
    "/jobs/{job_id}/cost-curve.png",
    operation_id="getJobCostCurve",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def job_cost_curve(
    job_id: str,
    service: JobServiceDep,
    fmt: ImageFormat = "png",
    log_y: bool = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Training and validation cost over the iterations (also while running); SVG on request."""
    return plan_response(CostCurves(service).for_job(job_id, fmt, log_y), if_none_match)


@router.get(
    "/models/{model_id}/cost-curve.png",
    operation_id="getModelCostCurve",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def model_cost_curve(
    model_id: str,
    service: JobServiceDep,
    fmt: ImageFormat = "png",
    log_y: bool = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The cost curve of the training that produced the model's current version."""
    return plan_response(CostCurves(service).for_model(model_id, fmt, log_y), if_none_match)
