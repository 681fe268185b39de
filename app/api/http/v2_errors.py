"""Errors under ``/v2`` in the protocol's shape: ``{"error": "..."}``, never problem+json.

:class:`V2Route` answers the errors of a ``/v2`` route (its dependencies', e.g. the API key's,
included), :class:`V2DirectRoute` those of a direct one; :func:`install_v2_errors` answers
unknown ``/v2`` routes and wrong methods there; :func:`is_v2_path` lets the body-size limit
answer in the same shape. Statuses are 400 (bad request), 401 (API key), 404 (unknown model,
version or route), 405, 413, 415 and 503.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.http.direct_route import DirectRoute
from app.api.http.errors import Unauthenticated, status_for
from app.errors import ServiceError
from core.errors import CoreError

# Statuses a /v2 error keeps; every other client error is a 400, as the protocol has it.
KEPT_STATUSES = frozenset({401, 404, 405, 413, 415, 503})
AUTH_HEADERS = {"WWW-Authenticate": 'Bearer realm="annserve"'}


def is_v2_path(path: str) -> bool:
    """Whether ``path`` is under ``/v2``."""
    return path == "/v2" or path.startswith("/v2/")


def v2_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The protocol's error body."""
    return JSONResponse(
        {"error": message}, status_code=status if status in KEPT_STATUSES else 400, headers=headers
    )


def _http_error(error: StarletteHTTPException) -> JSONResponse:
    message = {404: "no such route", 405: "method not allowed on this route"}.get(
        error.status_code, f"invalid request: {error.detail}"
    )
    return v2_error(error.status_code, message, error.headers)


class V2Route(APIRoute):
    """A route whose errors (including its dependencies', e.g. the API key) are ``{"error"}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as error:
                # e.g. a body over the size limit, refused while it streams in.
                return _http_error(error)
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return v2_error(400, f"invalid request: {where}: {first.get('msg', 'bad value')}")
            except (ServiceError, CoreError) as error:
                headers = AUTH_HEADERS if isinstance(error, Unauthenticated) else None
                message = error.detail if isinstance(error, ServiceError) else str(error)
                return v2_error(status_for(error), message, headers)

        return handle


class V2DirectRoute(V2Route, DirectRoute):
    """A :class:`~app.api.http.direct_route.DirectRoute` whose errors are ``{"error"}``."""


def install_v2_errors(app: FastAPI) -> None:
    """Answer unknown ``/v2`` routes and wrong methods there with ``{"error"}`` too."""
    fallback = app.exception_handlers[StarletteHTTPException]

    async def handle(request: Request, error: Exception) -> Response:
        if isinstance(error, StarletteHTTPException) and is_v2_path(request.url.path):
            return _http_error(error)
        response = fallback(request, error)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, handle)
