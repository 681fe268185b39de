"""``/v1/datasets/upload``: a dataset from a file, sent as a multipart form (``curl -F``, a
browser form) or as the request body itself (``upload/raw``: ``curl --data-binary``, ``fetch``
with a ``File``), with the same options as form fields or as query parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import DatasetServiceDep, MultipartBody, SettingsDep, media_type
from app.api.http.parameters import PROBLEMS
from app.api.http.spool import received_part, spool_stream
from app.api.routers.datasets import created
from app.api.schemas.common import Seed
from app.api.schemas.datasets import DatasetRead
from app.errors import InvalidInput, UnsupportedMediaType
from app.services.datasets import DatasetService, SplitOptions
from app.services.table_upload import UploadOptions
from app.storage.tables import DatasetRow
from core.table_values import DEFAULT_NA_VALUES

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

UploadTask = Literal["auto", "binary", "multiclass", "regression"]
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"
DESCRIBED = {
    "target": "Target column; empty: the last one.",
    "name": "Empty: the file's name.",
    "task": "auto: inferred from the labels.",
    "delimiter": "Empty: sniffed from the file.",
    "column_types": "JSON object: column -> numeric, categorical, boolean, datetime, ignored.",
    "drop": "JSON list of columns to ignore.",
    "na_values": 'JSON list of texts read as missing; empty: "", NA, NaN, null, None, ?.',
}
RAW_MEDIA_TYPES = {
    "text/csv": "CSV with a header row",
    "application/vnd.apache.parquet": "Parquet",
    "application/octet-stream": "CSV or Parquet, told apart by the file's first bytes",
}
"""What ``upload/raw`` reads (``text/plain`` and ``application/x-parquet`` are taken too)."""
CSV_EXAMPLE = "height,colour,joined,member,y\n1.5,red,2021-03-01,yes,0\n,blue,2021-04-12,no,1\n"
_ALSO_TAKEN = {"text/plain", "application/csv", "application/x-parquet"}
_PARQUET_TYPES = {"application/vnd.apache.parquet", "application/x-parquet"}


def _json_form(text: str, field: str, kind: type) -> Any:
    if not text:
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{field} must be JSON", code="invalid_form_field") from error
    if not isinstance(value, kind) or (
        isinstance(value, dict) and not all(isinstance(v, str) for v in value.values())
    ):
        raise InvalidInput(
            f"{field} must be a JSON {kind.__name__} of strings", code="invalid_form_field"
        )
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{field} must be a JSON list of strings", code="invalid_form_field")
    return value


def upload_options(
    target: str, delimiter: str, column_types: str, drop: str, na_values: str
) -> UploadOptions:
    """The parsing options sent as text fields (JSON for the lists and the mapping)."""
    return UploadOptions(
        target=target or None,
        delimiter=delimiter or None,
        column_types=_json_form(column_types, "column_types", dict),
        drop=_json_form(drop, "drop", list),
        na_values=_json_form(na_values, "na_values", list) if na_values else DEFAULT_NA_VALUES,
    )


def _create(
    service: DatasetService,
    spooled: tuple[Path | bytes, int],
    filename: str,
    options: UploadOptions,
    name: str,
    task: UploadTask,
    split: SplitOptions,
) -> DatasetRow:
    source, size = spooled
    try:
        return service.create_from_upload(
            source=source,
            filename=filename,
            size=size,
            options=options,
            name=name or None,
            task=None if task == "auto" else task,
            split=split,
        )
    finally:
        if isinstance(source, Path):
            source.unlink(missing_ok=True)


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    dependencies=[MultipartBody],
    responses=PROBLEMS,
)
def upload_dataset(
    service: DatasetServiceDep,
    settings: SettingsDep,
    response: Response,
    file: Annotated[UploadFile, File(description="CSV with a header row, or Parquet.")],
    target: Annotated[
        str, Form(max_length=200, description=DESCRIBED["target"], examples=["y"])
    ] = "",
    name: Annotated[
        str,
        Form(
            max_length=200, pattern=NAME_PATTERN, description=DESCRIBED["name"], examples=["pets"]
        ),
    ] = "",
    task: Annotated[UploadTask, Form(description=DESCRIBED["task"], examples=["auto"])] = "auto",
    test_fraction: Annotated[float, Form(ge=0.0, le=0.9, examples=[0.2])] = 0.2,
    seed: Annotated[Seed, Form(examples=[0])] = 0,
    delimiter: Annotated[
        str, Form(max_length=1, description=DESCRIBED["delimiter"], examples=[";"])
    ] = "",
    column_types: Annotated[
        str,
        Form(
            max_length=100_000,
            description=DESCRIBED["column_types"],
            examples=['{"zip": "categorical"}'],
        ),
    ] = "",
    drop: Annotated[str, Form(max_length=100_000, description=DESCRIBED["drop"])] = "",
    na_values: Annotated[str, Form(max_length=100_000, description=DESCRIBED["na_values"])] = "",
) -> DatasetRead:
    """Create a dataset from a CSV (delimiter sniffed, quoted cells, BOM, CRLF) or Parquet
    file: typed columns (inferred or given) and one target column; rows with a missing target
    are dropped and counted."""
    options = upload_options(target, delimiter, column_types, drop, na_values)
    spooled = received_part(
        file,
        settings.max_upload_bytes,
        settings.data_dir / "uploads",
        in_memory=settings.upload_memory_bytes,
    )
    split = SplitOptions(test_fraction, seed)
    row = _create(service, spooled, file.filename or "upload.csv", options, name, task, split)
    return created(response, row)


@router.post(
    "/upload/raw",
    status_code=status.HTTP_201_CREATED,
    responses=PROBLEMS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The file itself.",
            "content": {
                media: {
                    "schema": {"type": "string", "format": "binary", "description": text},
                    **({"example": CSV_EXAMPLE} if media == "text/csv" else {}),
                }
                for media, text in RAW_MEDIA_TYPES.items()
            },
        }
    },
)
async def upload_raw_dataset(
    request: Request,
    service: DatasetServiceDep,
    settings: SettingsDep,
    response: Response,
    content_length: Annotated[int | None, Header(ge=0, include_in_schema=False)] = None,
    filename: Annotated[
        str,
        Query(
            max_length=200,
            pattern=NAME_PATTERN,
            description="The file's name, shown in the dataset's source.",
            examples=["pets.csv"],
        ),
    ] = "",
    target: Annotated[
        str, Query(max_length=200, description=DESCRIBED["target"], examples=["y"])
    ] = "",
    name: Annotated[
        str,
        Query(
            max_length=200, pattern=NAME_PATTERN, description=DESCRIBED["name"], examples=["pets"]
        ),
    ] = "",
    task: Annotated[UploadTask, Query(description=DESCRIBED["task"])] = "auto",
    test_fraction: Annotated[float, Query(ge=0.0, le=0.9)] = 0.2,
    seed: Annotated[Seed, Query()] = 0,
    delimiter: Annotated[str, Query(max_length=1, description=DESCRIBED["delimiter"])] = "",
    column_types: Annotated[
        str, Query(max_length=10_000, description=DESCRIBED["column_types"])
    ] = "",
    drop: Annotated[str, Query(max_length=10_000, description=DESCRIBED["drop"])] = "",
    na_values: Annotated[str, Query(max_length=10_000, description=DESCRIBED["na_values"])] = "",
) -> DatasetRead:
    """Create a dataset from a CSV or Parquet file sent as the request body, streamed to disk
    as it arrives (no multipart encoding to build or parse); the options are query
    parameters, as for the form upload."""
    main, sub = media_type(request)
    media = f"{main}/{sub}"
    if media not in RAW_MEDIA_TYPES and media not in _ALSO_TAKEN:
        raise UnsupportedMediaType(
            f"send the file as one of {', '.join(RAW_MEDIA_TYPES)} (got {media or 'none'})"
        )
    options = upload_options(target, delimiter, column_types, drop, na_values)
    spooled = await spool_stream(
        request.stream(),
        settings.max_upload_bytes,
        settings.data_dir / "uploads",
        declared=content_length,
    )
    shown = filename or ("upload.parquet" if media in _PARQUET_TYPES else "upload.csv")
    split = SplitOptions(test_fraction, seed)
    row = await run_in_threadpool(_create, service, spooled, shown, options, name, task, split)
    return created(response, row)
