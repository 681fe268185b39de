"""``/v1/datasets``: create (JSON rows, generator; uploads are in :mod:`.uploads`), list, read,
data, plot, delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import StreamingResponse

from app.api.deps import DatasetServiceDep, JsonBody
from app.api.http.etags import conditional_response, etag_matches
from app.api.http.negotiation import choose
from app.api.http.pagination import link_pages
from app.api.http.parameters import CONFLICT, PROBLEMS, Limit, Offset
from app.api.schemas.common import Problem, Task
from app.api.schemas.datasets import (
    DatasetCreate,
    DatasetData,
    DatasetGenerate,
    DatasetPage,
    DatasetRead,
)
from app.errors import InvalidInput
from app.services.dataset_export import DatasetExport
from app.services.datasets import SplitOptions
from app.services.numbers import check_plottable
from app.storage.tables import DatasetRow
from core.inference import rows_to_columns
from core.table_values import DEFAULT_NA_VALUES

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


def to_read(row: DatasetRow) -> DatasetRead:
    """The response body of a dataset row."""
    return DatasetRead.model_validate(row, from_attributes=True)


def created(response: Response, row: DatasetRow) -> DatasetRead:
    response.headers["Location"] = f"/v1/datasets/{row.id}"
    return to_read(row)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[JsonBody],
    responses=PROBLEMS,
)
def create_dataset(
    body: DatasetCreate, service: DatasetServiceDep, response: Response
) -> DatasetRead:
    """Create a dataset from JSON rows and targets; it is split into train and test at once."""
    row = service.create_from_rows(
        name=body.name,
        features=body.features,
        targets=body.targets,
        feature_names=body.feature_names,
        target_name=body.target_name,
        task=body.task,
        split=SplitOptions(body.test_fraction, body.seed),
        column_types=body.column_types,
        drop=body.drop,
        na_values=body.na_values if body.na_values is not None else DEFAULT_NA_VALUES,
    )
    return created(response, row)


@router.post(
    "/generate",
    status_code=status.HTTP_201_CREATED,
    dependencies=[JsonBody],
    responses=PROBLEMS,
)
def generate_dataset(
    body: DatasetGenerate, service: DatasetServiceDep, response: Response
) -> DatasetRead:
    """Create one of the playground's toy datasets."""
    row = service.generate(
        kind=body.kind,
        n_samples=body.n_samples,
        noise=body.noise,
        seed=body.seed,
        n_classes=body.n_classes,
        name=body.name,
        split=SplitOptions(body.test_fraction, body.seed),
    )
    return created(response, row)


@router.get("", responses=PROBLEMS)
def list_datasets(
    service: DatasetServiceDep,
    request: Request,
    response: Response,
    limit: Limit = 20,
    offset: Offset = 0,
    task: Task | None = None,
) -> DatasetPage:
    """Datasets, newest first; ``Link`` names the next and previous pages."""
    rows, total = service.list(limit=limit, offset=offset, task=task)
    link_pages(request, response, total, limit, offset)
    return DatasetPage(items=[to_read(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{dataset_id}", responses=PROBLEMS)
def get_dataset(dataset_id: str, service: DatasetServiceDep) -> DatasetRead:
    """One dataset: shape, task, classes, split and per-feature statistics."""
    return to_read(service.get(dataset_id))


@router.get(
    "/{dataset_id}/data",
    responses={
        **PROBLEMS,
        200: {"model": DatasetData, "content": {"application/json": {}, "text/csv": {}}},
        406: {"description": "Neither JSON nor CSV accepted", "model": Problem},
    },
)
def get_dataset_data(
    dataset_id: str,
    service: DatasetServiceDep,
    subset: Literal["all", "train", "test"] = "all",
    accept: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The rows and labels, as JSON or (``Accept: text/csv``) as CSV that uploads back as is;
    datetimes as ISO 8601 texts. The body is streamed, written from the file a slice at a time."""
    row = service.get(dataset_id)
    media = choose(accept, ("application/json", "text/csv"))
    # Datasets never change, so the id, subset and form identify the body.
    etag = f'"{row.id}-{subset}-{"csv" if media == "text/csv" else "json"}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400", "Vary": "Accept"}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    export = service.export(row, subset)
    chunks = export.csv_chunks() if media == "text/csv" else export.json_chunks()
    return StreamingResponse(_closing(chunks, export), media_type=media, headers=headers)


def _closing(chunks: Iterator[bytes], export: DatasetExport) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        export.file.close()


@router.get(
    "/{dataset_id}/plot.png",
    response_class=Response,
    responses={
        **PROBLEMS,
        200: {"content": {"image/png": {}, "image/svg+xml": {}}},
    },
)
def plot_dataset(
    dataset_id: str,
    service: DatasetServiceDep,
    format: Literal["png", "svg"] = "png",
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Scatter plot of a 2-feature dataset by class (regression: coloured by value)."""
    from core.plots import dataset_scatter

    row = service.get(dataset_id)
    if row.n_features != 2:
        raise InvalidInput(
            f"a scatter plot needs exactly 2 features, this dataset has {row.n_features}",
            code="plot_needs_two_features",
        )

    def draw() -> bytes:
        arrays = service.load_arrays(row)
        if arrays.features.shape[1] != 2:
            raise InvalidInput(
                "a scatter plot needs 2 numeric feature columns without missing values",
                code="plot_needs_two_features",
            )
        check_plottable(arrays.features, "features")
        if row.classes is None:
            check_plottable(arrays.targets, "targets")
        return dataset_scatter(
            rows_to_columns(arrays.features),
            arrays.targets,
            classes=row.classes,
            task=row.task,
            format=format,
        )

    return conditional_response(
        etag=f'"{row.id}-{format}"',  # datasets never change, so the id identifies the image
        if_none_match=if_none_match,
        cache_control="private, max-age=86400",
        media_type="image/png" if format == "png" else "image/svg+xml",
        body=draw,
    )


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**PROBLEMS, **CONFLICT},
)
def delete_dataset(dataset_id: str, service: DatasetServiceDep) -> Response:
    """Delete the dataset and its file (409 while a queued or running job uses it)."""
    service.delete(dataset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
