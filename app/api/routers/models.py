"""``/v1/models``: create, list, read, rename, delete, parameters and versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from app.api.deps import JsonBody, ModelServiceDep
from app.api.http.etags import conditional_response
from app.api.http.negotiation import choose
from app.api.http.pagination import link_pages
from app.api.http.parameters import CONFLICT, PROBLEMS, Limit, Offset, Version
from app.api.schemas.common import DatasetId, Name, Problem, Task
from app.api.schemas.models import (
    ModelCreate,
    ModelPage,
    ModelRead,
    ModelUpdate,
    ModelVersionRead,
    ParameterRead,
    ParametersRead,
)
from app.services.images import etag_for
from app.services.model_spec import HiddenLayerSpec, ModelSpec
from app.services.model_tables import PreprocessingSpec
from app.services.models import parameter_summary
from app.storage.tables import ModelRow

router = APIRouter(prefix="/v1/models", tags=["models"])

NPZ_TYPES = ("application/x-npz", "application/octet-stream")


def to_read(row: ModelRow) -> ModelRead:
    """The response body of a model row."""
    return ModelRead.model_validate(row, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[JsonBody], responses=PROBLEMS)
def create_model(body: ModelCreate, service: ModelServiceDep, response: Response) -> ModelRead:
    """Create a network; its parameters are initialized now and stored as version 0."""
    spec = ModelSpec(
        name=body.name,
        description=body.description,
        task=body.task,
        n_inputs=body.n_inputs,
        hidden_layers=[HiddenLayerSpec(h.units, h.activation) for h in body.hidden_layers],
        output_activation=body.output_activation,
        classes=body.classes,
        n_outputs=body.n_outputs,
        init=body.init,
        distribution=body.distribution,
        seed=body.seed,
        dtype=body.dtype,
        dataset_id=body.dataset_id,
        preprocessing=_preprocessing(body),
    )
    row = service.create(spec)
    response.headers["Location"] = f"/v1/models/{row.id}"
    return to_read(row)


def _preprocessing(body: ModelCreate) -> PreprocessingSpec | None:
    if body.preprocessing is None and not body.derived_features:
        return None
    options = body.preprocessing.model_dump() if body.preprocessing is not None else {}
    return PreprocessingSpec(**options, derived_features=tuple(body.derived_features))


@router.get("", responses=PROBLEMS)
def list_models(
    service: ModelServiceDep,
    request: Request,
    response: Response,
    limit: Limit = 20,
    offset: Offset = 0,
    task: Task | None = None,
    status: Annotated[str | None, Query(pattern="^(ready|training)$")] = None,
    dataset_id: DatasetId | None = None,
    name: Name | None = None,
) -> ModelPage:
    """Models, newest first, optionally filtered by task, status, dataset or exact name;
    ``Link`` names the next and previous pages."""
    rows, total = service.list(
        limit=limit, offset=offset, task=task, status=status, dataset_id=dataset_id, name=name
    )
    link_pages(request, response, total, limit, offset)
    return ModelPage(items=[to_read(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{model_id}", responses=PROBLEMS)
def get_model(model_id: str, service: ModelServiceDep) -> ModelRead:
    """One model: architecture, parameter count, current version, status, latest metrics."""
    return to_read(service.get(model_id))


@router.patch("/{model_id}", dependencies=[JsonBody], responses=PROBLEMS)
def update_model(model_id: str, body: ModelUpdate, service: ModelServiceDep) -> ModelRead:
    """Rename a model or change its description."""
    return to_read(service.update(model_id, name=body.name, description=body.description))


@router.delete(
    "/{model_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**PROBLEMS, **CONFLICT}
)
def delete_model(model_id: str, service: ModelServiceDep) -> Response:
    """Delete the model and all its files (409 while it is training)."""
    service.delete(model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{model_id}/parameters",
    operation_id="getModelParameters",
    responses={
        **PROBLEMS,
        200: {
            "model": ParametersRead,
            "content": {"application/json": {}, "application/x-npz": {}},
        },
        406: {"description": "Neither JSON nor .npz accepted", "model": Problem},
    },
)
def get_parameters(
    model_id: str,
    service: ModelServiceDep,
    version: Version = None,
    accept: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Parameters ``W1, b1, ...`` with shapes as JSON, or (``Accept: application/x-npz``) the
    version's ``.npz`` file, loadable with ``core.serialization.load_model``. A version never
    changes, so its ETag holds for as long as it exists."""
    row = service.get(model_id)
    media = choose(accept, ("application/json", *NPZ_TYPES))
    cache_control = "private, max-age=86400" if version is not None else "private, no-cache"
    if media in NPZ_TYPES:
        number, data = service.parameters_file(row, version)
        filename = f"{row.id}-v{number}.npz"
        return conditional_response(
            etag=etag_for("parameters", row.id, number, "npz"),
            if_none_match=if_none_match,
            cache_control=cache_control,
            media_type="application/x-npz",
            body=lambda: data,
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "Accept"},
        )
    number, parameters = service.parameters(row, version)
    body = ParametersRead(
        model_id=row.id,
        version=number,
        dtype=row.dtype,
        parameters=[ParameterRead(**p) for p in parameter_summary(parameters)],
    )
    return conditional_response(
        etag=etag_for("parameters", row.id, number, "json"),
        if_none_match=if_none_match,
        cache_control=cache_control,
        media_type="application/json",
        body=body.model_dump_json().encode,
        headers={"Vary": "Accept"},
    )


@router.get("/{model_id}/versions", operation_id="listModelVersions", responses=PROBLEMS)
def list_versions(
    model_id: str,
    service: ModelServiceDep,
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 100,
    offset: Offset = 0,
) -> list[ModelVersionRead]:
    """Parameter versions, oldest first (version 0 is the initialization).

    The body stays a plain list, as before pagination; the total is in ``X-Total-Count`` and
    ``Link`` names the next and previous pages.
    """
    current = service.get(model_id).current_version
    versions = service.versions(model_id)
    response.headers["X-Total-Count"] = str(len(versions))
    link_pages(request, response, len(versions), limit, offset)
    return [
        ModelVersionRead(
            version=v.version,
            current=v.version == current,
            created_at=v.created_at,
            job_id=v.job_id,
            metrics=v.metrics,
            note=v.note,
        )
        for v in versions[offset : offset + limit]
    ]
