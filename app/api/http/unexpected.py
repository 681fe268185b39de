"""The last-resort handler as pure ASGI middleware, so an unexpected error keeps the connection.

Starlette's ``ServerErrorMiddleware`` answers an unhandled error and then re-raises it, and
uvicorn closes a connection whose application raised, so every 500 would also cost the client
its keep-alive connection. This middleware sits inside it: the error is answered as problem+json
(:func:`app.api.http.errors.handle_unexpected`: 507 or 503 for storage faults, 500 otherwise) and
not re-raised. An error after the response has started still propagates: that response is
broken and its connection must close.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.http.errors import handle_unexpected


class UnexpectedErrorMiddleware:
    """Answer errors no handler took, without closing the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            # HTTP errors raised from ``receive`` belong to the body-limit middleware outside.
            if started or isinstance(error, HTTPException):
                raise
            response = await handle_unexpected(Request(scope, receive), error)
            await response(scope, receive, send)
