"""uvicorn's HTTP protocol with read deadlines and a header size limit.

uvicorn times out idle keep-alive connections but not a request being read, so a client that
sends its headers or body a byte at a time holds a connection (and a slot of
``limit_concurrency``) for as long as it likes. Here a request's headers must arrive within
``http_header_timeout`` seconds of its first byte (or of the connection opening) and within
``http_max_header_bytes`` bytes, and its body within ``http_body_timeout`` seconds of the end of
the headers; otherwise it is answered 408 or 431 (problem+json) and the connection closed.
The application's own work is not limited: the deadline ends when the request is read.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import get_settings

PROTOCOL = "app.api.http.server_protocol:TimedHttpToolsProtocol"
"""The import string ``annserve serve`` gives uvicorn as its ``http`` protocol."""


def _problem_bytes(status: int, code: str, detail: str) -> bytes:
    body = json.dumps(
        {
            "type": f"urn:annserve:problem:{code}",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "code": code,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` whose requests must be read in time and in bounded headers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.http_header_timeout
        self.body_timeout = settings.http_body_timeout
        self.max_header_bytes = settings.http_max_header_bytes
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_headers = True
        self._header_bytes = 0

    # Deadlines ------------------------------------------------------------------------------
    def _arm(self, seconds: float, status: int, code: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, status, code)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, status: int, code: str) -> None:
        self._deadline = None
        self._refuse(status, code, "the request was not received in time")

    def _refuse(self, status: int, code: str, detail: str) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            self.transport.write(_problem_bytes(status, code, detail))
        self.transport.close()

    # The protocol ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, 408, "request_timeout")

    def data_received(self, data: bytes) -> None:
        if self._reading_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        # Counted per chunk: a chunk that completes the headers is never refused for its body.
        if self._reading_headers and self._header_bytes > self.max_header_bytes:
            self._refuse(431, "headers_too_large", "the request headers are over the size limit")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a new request on a kept-alive connection
            self._arm(self.header_timeout, 408, "request_timeout")

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._arm(self.body_timeout, 408, "request_timeout")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading_headers, self._header_bytes = True, 0
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
