"""Query parameters and documented error responses shared by the routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from app.api.schemas.common import Problem

MAX_VERSION = 2_147_483_647

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=2_147_483_647, description="Items to skip.")]
Version = Annotated[
    int | None, Query(ge=0, le=MAX_VERSION, description="Parameter version (default: current).")
]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed JSON"),
    401: _problem("Missing or invalid API key"),
    404: _problem("Unknown or malformed id"),
    413: _problem("Body over the size limit"),
    415: _problem("Wrong content type"),
    422: _problem("Invalid input"),
    500: _problem("Internal error (a bug; it is logged)"),
}
"""The generic problems; the OpenAPI document keeps those an operation can answer."""
CONFLICT: dict[int | str, dict[str, Any]] = {409: _problem("Conflicts with the current state")}
"""For the operations that can conflict with a resource's state."""

IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    200: {"content": {"image/png": {}, "image/svg+xml": {}}, "description": "The image"},
    304: {"description": "The client's copy (If-None-Match) is current"},
}
"""The answers of an image route (the OpenAPI document adds 304's headers)."""
ImageFormat = Annotated[str, Query(alias="format", pattern="^(png|svg)$")]
"""``?format=png`` (default) or ``svg`` of a route that draws a figure."""
