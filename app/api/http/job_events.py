"""``GET /v1/jobs/{id}/events``: Server-Sent Events with a job's progress and its final status.

The stream reads the job row ten times a second (in a worker thread, so the event loop never
waits on the database), sends a ``state`` event when the job pauses or resumes (status ``paused``,
then ``queued`` or ``running``; also on connecting to a paused job), a ``progress`` event when the
iteration advanced (at most four a second), with the iteration as the event id, and ends with one
``status`` event holding the whole job as soon as it is final. A job that has no progress yet
(still queued) sends its ``status`` at once, so a client knows where it stands. A client that
reconnects with ``Last-Event-ID`` gets only iterations after that one; once the job is final, a
reconnect is answered 204 No Content, which tells a browser's ``EventSource`` to stop
reconnecting.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

from fastapi import Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from app.api.schemas.jobs import JobRead
from app.storage.tables import JOB_ACTIVE_STATUSES, JobRow

# The row is read often so the final status goes out promptly; progress at most 4 times a second.
POLL_SECONDS = 0.1
PROGRESS_SECONDS = 0.25
PING_SECONDS = 15


def parse_last_event_id(value: str | None) -> int:
    """The iteration a reconnecting client already has (-1 when none or unreadable)."""
    try:
        return int(value) if value is not None else -1
    except ValueError:
        return -1


async def _events(
    read_job: Callable[[], JobRow], to_read: Callable[[JobRow], JobRead], last_seen: int
) -> AsyncIterator[ServerSentEvent]:
    next_progress = 0.0
    first = last_seen < 0
    last_status: str | None = None
    while True:
        job = await run_in_threadpool(read_job)
        progress = job.progress or {}
        iteration = int(progress.get("iteration", 0))
        if first and not progress and job.status in JOB_ACTIVE_STATUSES:
            yield ServerSentEvent(data=to_read(job).model_dump_json(), event="status", id="0")
        first = False
        if job.status not in JOB_ACTIVE_STATUSES:
            body = to_read(job).model_dump_json()
            yield ServerSentEvent(data=body, event="status", id=str(iteration))
            return
        if job.status != last_status and "paused" in (job.status, last_status):
            data = json.dumps({"status": job.status, "iteration": iteration})
            yield ServerSentEvent(data=data, event="state", id=str(iteration))
        last_status = job.status
        now = time.monotonic()
        if progress and iteration > last_seen and now >= next_progress:
            last_seen, next_progress = iteration, now + PROGRESS_SECONDS
            data = json.dumps({"status": job.status, **progress})
            yield ServerSentEvent(data=data, event="progress", id=str(iteration))
        await asyncio.sleep(POLL_SECONDS)


def event_stream(
    read_job: Callable[[], JobRow], to_read: Callable[[JobRow], JobRead], last_event_id: str | None
) -> Response:
    """The SSE response for one job (``read_job`` raises if the job is gone), or 204 for a
    reconnect after the job ended."""
    job = read_job()  # before the stream starts, so an unknown job is a plain 404
    if last_event_id is not None and job.status not in JOB_ACTIVE_STATUSES:
        return Response(status_code=204)
    events = _events(read_job, to_read, parse_last_event_id(last_event_id))
    return EventSourceResponse(
        events, ping=PING_SECONDS, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
