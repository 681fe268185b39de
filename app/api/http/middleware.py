"""Pure ASGI middleware (cheap per request: no DB work, one JSON log line).

* :class:`RequestContextMiddleware` gives every request an id (``X-Request-ID``, taken from the
  client when it is sane), times it, feeds the Prometheus metrics and writes one access log line.
* :class:`BodyLimitMiddleware` refuses bodies over the configured size with 413, from
  ``Content-Length`` up front or while the body streams in.
* :class:`HeadMiddleware` answers ``HEAD`` wherever ``GET`` is served.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.http.errors import problem
from app.api.http.metrics import ServiceMetrics
from app.api.http.v2_errors import is_v2_path, v2_error
from app.logs import request_id_var
from app.storage.tenancy import current_tenant

access_logger = logging.getLogger("annserve.access")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
UNMATCHED = "<unmatched>"


_TEMPLATES: dict[int, str] = {}


def _template_of(app: object, endpoint: object) -> str:
    """The path template of the route (or mount) of ``app`` whose endpoint is ``endpoint``."""
    for route in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(route, Mount) and route.app is endpoint:
            return f"{route.path}/{{path}}"
        if getattr(route, "endpoint", None) is endpoint:
            return str(getattr(route, "path", UNMATCHED))
    return UNMATCHED


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/v1/models/{model_id}``), for metric labels;
    ``<unmatched>`` when no route did (a 404 for an unknown path)."""
    path = getattr(scope.get("route"), "path", None)
    if path:
        return str(path)
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return UNMATCHED
    template = _TEMPLATES.get(id(endpoint))
    if template is None:
        template = _TEMPLATES[id(endpoint)] = _template_of(scope.get("app"), endpoint)
    return template


class RequestContextMiddleware:
    """Request id, metrics and the access log."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id")
        request_id = incoming if incoming and _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        acting = current_tenant.set(None)  # the API key, once checked, names the tenant
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(scope)
            self.metrics.observe(scope["method"], template, status, elapsed)
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
            current_tenant.reset(acting)
            request_id_var.reset(token)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes the limit (FastAPI re-raises HTTP errors)."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    """413 for bodies over ``limit_for(path)`` bytes."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(limit, scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(limit, scope, receive, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is over the limit of {limit} bytes"
        headers = {"Connection": "close"}
        if is_v2_path(scope["path"]):
            response = v2_error(413, detail, headers)
        else:
            response = problem(413, "payload_too_large", detail, headers=headers)
        await response(scope, receive, send)


class HeadMiddleware:
    """``HEAD`` as ``GET`` without the body (RFC 9110, 9.3.2): same status and headers.

    Routes declare only ``GET``; the request reaches them as ``GET`` and the body is dropped
    here. The first body message ends the response, so a stream (SSE) stops at once: the
    server then tells the app the client is gone.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def send_headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not ended:
                ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
