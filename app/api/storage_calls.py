"""Short storage calls from coroutine endpoints, without a thread hand-off where none pays.

FastAPI runs a plain ``def`` endpoint in its thread pool, so that blocking I/O does not stall the
event loop. For a read of one row from the embedded SQLite database (a local file, a few hundred
microseconds of mostly Python work under the GIL) the hand-off to a pool thread and back costs
more than the read, and while training processes keep the cores busy each of its two wake-ups
may wait for a core: it was most of the tail of ``GET /v1/jobs/{id}`` under load. A database
across the network keeps the thread pool, where waiting for it does not hold up other requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from app.storage.db import Database

P = ParamSpec("P")
T = TypeVar("T")


async def call_storage(db: Database, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``: inline for the embedded database, in the thread pool otherwise.

    For short reads only: a call that may take long (a large query, a write waiting for a lock)
    belongs in the thread pool whatever the database.
    """
    if db.embedded:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)
