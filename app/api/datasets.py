"""``/v1/datasets``: create (JSON rows, CSV upload, generator), list, read, data, plot, delete."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Request, Response, UploadFile, status

from app.api.deps import DatasetServiceDep, JsonBody, MultipartBody
from app.api.negotiation import choose
from app.api.params import PROBLEMS, Limit, Offset
from app.api.schemas.common import Problem, Seed, Task
from app.api.schemas.datasets import (
    DatasetCreate,
    DatasetData,
    DatasetGenerate,
    DatasetPage,
    DatasetRead,
)
from app.services.datasets import SplitOptions
from app.services.errors import InvalidInput, PayloadTooLarge
from app.services.layout import rows_to_columns
from app.services.numbers import check_plottable
from app.storage.tables import DatasetRow

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


def to_read(row: DatasetRow) -> DatasetRead:
    """The response body of a dataset row."""
    split = row.stats.get("split", {})
    return DatasetRead(
        id=row.id,
        name=row.name,
        task=row.task,
        n_samples=row.n_samples,
        n_features=row.n_features,
        feature_names=row.feature_names,
        target_name=row.target_name,
        classes=row.classes,
        test_fraction=row.test_fraction,
        split_seed=row.split_seed,
        n_train=split.get("n_train", 0),
        n_test=split.get("n_test", 0),
        source=row.source,
        stats=row.stats,
        created_at=row.created_at,
    )


def _created(response: Response, row: DatasetRow) -> DatasetRead:
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
    )
    return _created(response, row)


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    dependencies=[MultipartBody],
    responses=PROBLEMS,
)
def upload_dataset(
    request: Request,
    service: DatasetServiceDep,
    response: Response,
    file: Annotated[UploadFile, File(description="CSV with a header row.")],
    target: Annotated[
        str,
        Form(max_length=200, description="Target column; empty: the last one.", examples=["y"]),
    ] = "",
    name: Annotated[
        str,
        Form(
            max_length=200,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="Empty: the file's name.",
            examples=["pets"],
        ),
    ] = "",
    task: Annotated[
        Literal["auto", "binary", "multiclass", "regression"],
        Form(description="auto: inferred from the labels.", examples=["auto"]),
    ] = "auto",
    test_fraction: Annotated[float, Form(ge=0.0, le=0.9, examples=[0.2])] = 0.2,
    seed: Annotated[Seed, Form(examples=[0])] = 0,
) -> DatasetRead:
    """Create a dataset from a CSV file: numeric features, one target column (labels may be
    strings, kept as the class names)."""
    limit = request.app.state.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"the file is over the limit of {limit} bytes")
    row = service.create_from_csv(
        data=data,
        filename=file.filename or "upload.csv",
        name=name or None,
        target=target or None,
        task=None if task == "auto" else task,
        split=SplitOptions(test_fraction, seed),
    )
    return _created(response, row)


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
    return _created(response, row)


@router.get("", responses=PROBLEMS)
def list_datasets(
    service: DatasetServiceDep, limit: Limit = 20, offset: Offset = 0, task: Task | None = None
) -> DatasetPage:
    """Datasets, newest first."""
    rows, total = service.list(limit=limit, offset=offset, task=task)
    return DatasetPage(items=[to_read(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{dataset_id}", responses=PROBLEMS)
def get_dataset(dataset_id: str, service: DatasetServiceDep) -> DatasetRead:
    """One dataset: shape, task, classes, split and per-feature statistics."""
    return to_read(service.get(dataset_id))


def _csv(names: list[str], features: list[list[float]], targets: list[object]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row, target in zip(features, targets, strict=True):
        writer.writerow([*(repr(v) for v in row), target])
    return buffer.getvalue()


@router.get(
    "/{dataset_id}/data",
    responses={
        **PROBLEMS,
        200: {"content": {"application/json": {}, "text/csv": {}}},
        406: {"description": "Neither JSON nor CSV accepted", "model": Problem},
    },
)
def get_dataset_data(
    dataset_id: str,
    service: DatasetServiceDep,
    subset: Literal["all", "train", "test"] = "all",
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The rows and labels, as JSON or (``Accept: text/csv``) as CSV that uploads back as is."""
    row = service.get(dataset_id)
    media = choose(accept, ("application/json", "text/csv"))
    arrays = service.load_arrays(row)
    labels = arrays.labels(row.classes)
    split = ["train"] * row.n_samples
    for i in arrays.test_idx:
        split[int(i)] = "test"
    keep = [i for i in range(row.n_samples) if subset == "all" or split[i] == subset]
    features = arrays.features[keep].tolist()
    targets = [labels[i] for i in keep]
    if media == "text/csv":
        text = _csv([*row.feature_names, row.target_name], features, targets)
        return Response(text, media_type="text/csv")
    body = DatasetData(
        id=row.id,
        subset=subset,
        feature_names=row.feature_names,
        target_name=row.target_name,
        features=features,
        targets=targets,
        split=[split[i] for i in keep],
    )
    return Response(body.model_dump_json(), media_type="application/json")


@router.get(
    "/{dataset_id}/plot.png",
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
    media = "image/png" if format == "png" else "image/svg+xml"
    etag = f'"{row.id}-{format}"'  # datasets never change, so the id identifies the image
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    arrays = service.load_arrays(row)
    check_plottable(arrays.features, "features")
    if row.classes is None:
        check_plottable(arrays.targets, "targets")
    image = dataset_scatter(
        rows_to_columns(arrays.features),
        arrays.targets,
        classes=row.classes,
        task=row.task,
        format=format,
    )
    return Response(
        image, media_type=media, headers={"ETag": etag, "Cache-Control": "max-age=3600"}
    )


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=PROBLEMS,
)
def delete_dataset(dataset_id: str, service: DatasetServiceDep) -> Response:
    """Delete the dataset and its file (409 while a queued or running job uses it)."""
    service.delete(dataset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
