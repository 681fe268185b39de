"""``/v1/models/{id}/export``: the parameters as ``.npz``, JSON or an ONNX graph."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from app.api.deps import ExportServiceDep
from app.api.http.etags import conditional_response
from app.api.http.parameters import PROBLEMS, Version
from app.api.schemas.common import Problem
from app.services.export import MEDIA_TYPES, ExportFormat

router = APIRouter(prefix="/v1/models", tags=["export"])


@router.get(
    "/{model_id}/export",
    response_class=Response,
    responses={
        **PROBLEMS,
        200: {
            "description": "The exported model, as a download",
            # Binary first: a generated client then hands every format over as bytes.
            "content": {
                MEDIA_TYPES["npz"]: {},
                MEDIA_TYPES["onnx"]: {},
                MEDIA_TYPES["json"]: {"schema": {"type": "object"}},
            },
        },
        406: {"description": "ONNX asked for but the onnx extra is missing", "model": Problem},
        409: {
            "description": "ONNX asked for a table model whose graph cannot express its stage "
            "(onnx_preprocessing_unsupported) or a column's name (onnx_column_name_conflict)",
            "model": Problem,
        },
    },
)
def export_model(
    model_id: str,
    service: ExportServiceDep,
    format: Annotated[
        ExportFormat,
        Query(description="npz (core's file), json (architecture + parameters) or onnx."),
    ] = "json",
    version: Version = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Download a version: ``npz`` loads with ``core.serialization.load_model``, ``json`` holds
    the architecture and every parameter, ``onnx`` runs in onnxruntime (inputs ``[batch,
    n_inputs]``; outputs ``probabilities`` and ``class_index``, or ``values``)."""
    plan = service.plan(model_id, version, format)
    return conditional_response(
        etag=plan.etag,
        if_none_match=if_none_match,
        # A pinned version never changes; the current one may move on with training.
        cache_control="private, max-age=86400" if version is not None else "private, no-cache",
        media_type=plan.media_type,
        body=plan.render,
        headers={
            "Content-Disposition": f'attachment; filename="{plan.filename}"',
            "X-Model-Version": str(plan.version),
        },
    )
