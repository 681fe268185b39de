"""``GET /v1/searches/{id}/events``: Server-Sent Events with a search's progress and its end.

The stream reads the search four times a second (in a worker thread), sends a ``progress`` event
whenever its trial counts or best value changed, with the number of ended trials as the event
id, and ends with one ``status`` event holding the whole search once it is final.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from app.api.schemas.searches import SearchRead

POLL_SECONDS = 0.25
PING_SECONDS = 15
_COUNTS = ("created", "succeeded", "running", "pruned", "failed", "cancelled")


async def _events(read: Callable[[], SearchRead]) -> AsyncIterator[ServerSentEvent]:
    last: tuple[Any, ...] | None = None
    while True:
        search = await run_in_threadpool(read)
        progress = search.progress
        ended = progress.succeeded + progress.pruned + progress.failed + progress.cancelled
        if search.status not in ("queued", "running"):
            yield ServerSentEvent(data=search.model_dump_json(), event="status", id=str(ended))
            return
        state = (search.status, search.best_value, *(getattr(progress, c) for c in _COUNTS))
        if state != last:
            last = state
            body = {"status": search.status, "best_value": search.best_value}
            data = json.dumps(body | progress.model_dump())
            yield ServerSentEvent(data=data, event="progress", id=str(ended))
        await asyncio.sleep(POLL_SECONDS)


def search_event_stream(read: Callable[[], SearchRead]) -> EventSourceResponse:
    """The SSE response for one search (``read`` raises if the search is gone)."""
    return EventSourceResponse(
        _events(read),
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
