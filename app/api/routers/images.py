"""Figures as images: ``/v1/models/{id}/decision-boundary.png``, ``/weights.png`` and
``/v1/activations/{name}.png``.

PNG by default; ``?format=svg`` (or ``Accept: image/svg+xml``) gives SVG. Every answer carries
an ETag and Cache-Control; ``If-None-Match`` with the current ETag gets 304 without rendering.
The routes are plain functions, so FastAPI runs them (and the drawing) in its thread pool.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from app.api.deps import ImageServiceDep
from app.api.http.etags import conditional_response
from app.api.http.negotiation import choose
from app.api.http.parameters import IMAGE_RESPONSES, Version
from app.services.images import MEDIA_TYPES, ImageFormat, ImagePlan, ImageService, activation

router = APIRouter(prefix="/v1", tags=["images"])

FormatQuery = Annotated[Literal["png", "svg"] | None, Query(description="png (default) or svg.")]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match")]
Accept = Annotated[str | None, Header()]


def image_format(fmt: str | None, accept: str | None) -> ImageFormat:
    """The query's format, else the one ``Accept`` prefers (PNG on a tie)."""
    if fmt is not None:
        return "svg" if fmt == "svg" else "png"
    media = choose(accept, (MEDIA_TYPES["png"], MEDIA_TYPES["svg"]))
    return "svg" if media == MEDIA_TYPES["svg"] else "png"


def serve_image(plan: ImagePlan, service: ImageService, if_none_match: str | None) -> Response:
    """304 when the client has this image, else the image (rendered at most once)."""
    return conditional_response(
        etag=plan.etag,
        if_none_match=if_none_match,
        cache_control="private, max-age=86400" if plan.pinned else "private, no-cache",
        media_type=plan.media_type,
        body=lambda: service.render(plan),
        headers={"Vary": "Accept"},
    )


@router.get(
    "/models/{model_id}/decision-boundary.png",
    operation_id="getDecisionBoundary",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def decision_boundary(
    model_id: str,
    service: ImageServiceDep,
    dataset_id: Annotated[
        str | None, Query(description="Default: the dataset the model was created with.")
    ] = None,
    version: Version = None,
    format: FormatQuery = None,
    resolution: Annotated[int, Query(ge=20, le=400, description="Grid points per axis.")] = 150,
    accept: Accept = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The probability map of a 2-input model with the dataset's train (filled) and test
    (hollow) points; regressors show the predicted value."""
    fmt = image_format(format, accept)
    plan = service.decision_boundary(model_id, dataset_id, version, fmt, resolution)
    return serve_image(plan, service, if_none_match)


@router.get(
    "/models/{model_id}/weights.png",
    operation_id="getWeightsImage",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def weights(
    model_id: str,
    service: ImageServiceDep,
    version: Version = None,
    format: FormatQuery = None,
    accept: Accept = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Histograms of each layer's weights against the density they were initialized from
    (Glorot or He, normal or uniform): the notes' Glorot exercise."""
    plan = service.weights(model_id, version, image_format(format, accept))
    return serve_image(plan, service, if_none_match)


@router.get(
    "/activations/{name}.png",
    operation_id="getActivationImage",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def activation_image(
    name: str,
    service: ImageServiceDep,
    format: FormatQuery = None,
    accept: Accept = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """An activation function next to its derivative on [-5, 5] (the notes' exercise)."""
    plan = activation(name, image_format(format, accept))
    return serve_image(plan, service, if_none_match)
