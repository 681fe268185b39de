"""A bound on the heavy requests one API process serves at once.

Uploads, data exports and big predicts each hold tens to hundreds of megabytes while they run;
past ``limit`` of them in a process, another one is answered 503 (code ``busy``, with
``Retry-After``) at once instead of waiting, so memory stays bounded and nothing queues without
end. Everything runs on the event loop, so a plain counter needs no lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.http.errors import problem
from app.api.http.spool import UPLOAD_PATHS
from app.errors import ServiceUnavailable

RETRY_AFTER_SECONDS = 5
"""As every other 503 of the service."""
_EXPORT = re.compile(r"/v1/datasets/[^/]+/data")


class Busy(ServiceUnavailable):
    """Too many heavy requests are being served by this process; retry shortly."""

    code = "busy"


class HeavyRequests:
    """How many heavy requests run now, against the process's ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0

    def try_enter(self) -> bool:
        """Take a place if one is free."""
        if self.running >= self.limit:
            return False
        self.running += 1
        return True

    def leave(self) -> None:
        """Give a place back."""
        self.running -= 1

    @contextmanager
    def place(self) -> Iterator[None]:
        """Hold a place for the block; :class:`Busy` when none is free."""
        if not self.try_enter():
            raise Busy(_busy_detail(self.limit))
        try:
            yield
        finally:
            self.leave()


def _busy_detail(limit: int) -> str:
    return f"{limit} heavy requests (uploads, exports, big predicts) are being served; retry soon"


class _Template(NamedTuple):
    """Stands for the route of a request refused before routing, for its metric label."""

    path: str


def heavy_route(method: str, path: str) -> str | None:
    """The route template of an upload or data export, else None (big predicts are known once
    their rows are counted)."""
    if method == "POST" and path in UPLOAD_PATHS:
        return path
    if method in ("GET", "HEAD") and _EXPORT.fullmatch(path) is not None:
        return "/v1/datasets/{dataset_id}/data"
    return None


class HeavyRequestMiddleware:
    """Holds a place of ``heavy`` from the start of an upload or export until its last byte."""

    def __init__(self, app: ASGIApp, heavy: HeavyRequests) -> None:
        self.app = app
        self.heavy = heavy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = heavy_route(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        if not self.heavy.try_enter():
            scope["route"] = _Template(route)
            await self._refuse(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.heavy.leave()

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The body is left unread: the server closes the connection after the answer.
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if scope["method"] == "POST":
            headers["Connection"] = "close"
        response = problem(503, Busy.code, _busy_detail(self.heavy.limit), headers=headers)
        await response(scope, receive, send)
