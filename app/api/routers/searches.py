"""Hyperparameter searches: ``/v1/searches`` (create, list, read, cancel, delete, events)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from sse_starlette import EventSourceResponse

from app.api.deps import JsonBody, SearchServiceDep
from app.api.http.etags import plan_response
from app.api.http.parameters import CONFLICT, IMAGE_RESPONSES, PROBLEMS, ImageFormat, Limit, Offset
from app.api.http.search_events import search_event_stream
from app.api.schemas.searches import (
    SearchCreate,
    SearchPage,
    SearchRead,
    SearchStatus,
    SearchSummary,
    validated_search,
)
from app.services.search_images import (
    MAX_TOP,
    cost_curves_image,
    importance_image,
    trials_image,
)
from app.services.search_importance import ImportanceMethod, param_importances
from app.services.searches import SearchView, trial_body

router = APIRouter(prefix="/v1", tags=["searches"])
DatasetIdQuery = Annotated[str | None, Query(pattern=r"^ds_[0-9a-f]{16}$")]
MethodQuery = Annotated[
    ImportanceMethod,
    Query(description="fanova (random-forest variance split, the default) or ped_anova"),
]


def to_read(view: SearchView) -> SearchRead:
    """The response body of a search with its trials."""
    row, spec = view.row, view.spec
    leaderboard = view.leaderboard()
    return SearchRead.model_validate(
        {
            "id": row.id,
            "name": spec["name"],
            "dataset_id": row.dataset_id,
            "status": row.status,
            "strategy": spec["strategy"],
            "metric": spec["metric"],
            "direction": spec["direction"],
            "spec": spec,
            "progress": view.progress(),
            "best_trial": leaderboard[0].number if leaderboard else None,
            "best_value": leaderboard[0].value if leaderboard else None,
            "best_params": leaderboard[0].params if leaderboard else None,
            "best_model_id": row.best_model_id,
            "leaderboard": [trial_body(t) for t in leaderboard],
            "trials": [trial_body(t) for t in view.trials],
            "error": row.error,
            "cancel_requested": row.cancel_requested,
            "created_at": row.created_at,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
        }
    )


def to_summary(view: SearchView) -> SearchSummary:
    """A search in a list."""
    full = to_read(view)
    return SearchSummary.model_validate(full.model_dump())


@router.post(
    "/searches", status_code=status.HTTP_202_ACCEPTED, dependencies=[JsonBody], responses=PROBLEMS
)
def create_search(body: SearchCreate, service: SearchServiceDep, response: Response) -> SearchRead:
    """Start a search: 202 with the queued search and its ``Location``."""
    row = service.create(body.dataset_id, validated_search(body))
    response.headers["Location"] = f"/v1/searches/{row.id}"
    return to_read(service.view(row.id))


@router.get("/searches", responses=PROBLEMS)
def list_searches(
    service: SearchServiceDep,
    limit: Limit = 20,
    offset: Offset = 0,
    status: SearchStatus | None = None,
    dataset_id: DatasetIdQuery = None,
) -> SearchPage:
    """Searches, newest first, optionally filtered by status and dataset."""
    views, total = service.list(limit=limit, offset=offset, status=status, dataset_id=dataset_id)
    items = [to_summary(v) for v in views]
    return SearchPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/searches/{search_id}", responses=PROBLEMS)
def get_search(search_id: str, service: SearchServiceDep) -> SearchRead:
    """One search: status, progress, best trial and the leaderboard."""
    return to_read(service.view(search_id))


@router.post("/searches/{search_id}/cancel", responses=PROBLEMS)
def cancel_search(search_id: str, service: SearchServiceDep) -> SearchRead:
    """Cancel (idempotent): running trials are cancelled, finished ones kept."""
    service.cancel(search_id)
    return to_read(service.view(search_id))


@router.delete("/searches/{search_id}", status_code=status.HTTP_204_NO_CONTENT, responses=PROBLEMS)
def delete_search(search_id: str, service: SearchServiceDep) -> Response:
    """Delete a finished search (409 while active); the best model stays a normal model."""
    service.delete(search_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/searches/{search_id}/events",
    response_class=EventSourceResponse,
    responses={**PROBLEMS, 200: {"content": {"text/event-stream": {}}}},
)
def search_events(search_id: str, service: SearchServiceDep) -> EventSourceResponse:
    """Server-Sent Events: ``progress`` when trials end or the best changes, then ``status``."""
    service.get(search_id)
    return search_event_stream(lambda: to_read(service.view(search_id)))


@router.get("/searches/{search_id}/trials.png", response_class=Response, responses=IMAGE_RESPONSES)
def search_trials_image(
    search_id: str,
    service: SearchServiceDep,
    fmt: ImageFormat = "png",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Each trial's metric in order, with the best so far; SVG on request."""
    return plan_response(
        trials_image(service.view(search_id), "svg" if fmt == "svg" else "png"), if_none_match
    )


@router.get(
    "/searches/{search_id}/cost-curves.png", response_class=Response, responses=IMAGE_RESPONSES
)
def search_cost_curves_image(
    search_id: str,
    service: SearchServiceDep,
    fmt: ImageFormat = "png",
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="how many of the best trials")] = 5,
    log_y: Annotated[bool, Query(description="a logarithmic cost axis")] = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The best trials' training (solid) and validation (dashed) costs overlaid, each labelled
    by its searched settings and score; SVG on request."""
    view = service.view(search_id)
    curves = partial(service.curves, search_id)
    plan = cost_curves_image(view, curves, top, "svg" if fmt == "svg" else "png", log_y)
    return plan_response(plan, if_none_match)


@router.get("/searches/{search_id}/importance", responses={**PROBLEMS, **CONFLICT})
def search_importance(
    search_id: str, service: SearchServiceDep, method: MethodQuery = "fanova"
) -> dict[str, Any]:
    """How much each searched parameter matters to the metric, most important first (409 with
    fewer than two succeeded trials or when no parameter varied)."""
    return param_importances(service.view(search_id), method)


@router.get(
    "/searches/{search_id}/importance.png",
    response_class=Response,
    responses={**IMAGE_RESPONSES, **CONFLICT},
)
def search_importance_image(
    search_id: str,
    service: SearchServiceDep,
    fmt: ImageFormat = "png",
    method: MethodQuery = "fanova",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The importance of each searched parameter as bars; SVG on request."""
    plan = importance_image(service.view(search_id), method, "svg" if fmt == "svg" else "png")
    return plan_response(plan, if_none_match)
