"""A route class for hot endpoints that take the request and return a response themselves.

FastAPI's own request handler resolves the endpoint's dependencies and parameters, validates
the body and serializes the returned model; on a route whose endpoint does all of that itself
(it takes only the ``Request`` and returns a ``Response``) this machinery still runs, and costs
more than a small prediction. :class:`DirectRoute` keeps everything else of an ``APIRoute``
(path matching, the OpenAPI operation built from the route's arguments, FastAPI's per-request
wrapper, the app's middleware and exception handlers) and hands the request straight to the
endpoint, through FastAPI's documented extension point ``APIRoute.get_route_handler``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class DirectRoute(APIRoute):
    """An ``APIRoute`` whose endpoint is ``async def endpoint(request: Request) -> Response``."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        parameters = list(inspect.signature(endpoint).parameters.values())
        if not inspect.iscoroutinefunction(endpoint) or [p.annotation for p in parameters] not in (
            [Request],
            ["Request"],
        ):
            raise TypeError(f"{path}: a direct endpoint is async and takes only the Request")
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The endpoint itself: no dependencies to solve, nothing to validate or serialize."""
        handler: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return handler
