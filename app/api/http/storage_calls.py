"""Short storage calls from coroutine endpoints, without a thread hand-off where none pays.

A one-row read of the embedded SQLite database is cheaper than a round trip through the thread
pool, so it runs inline; a database across the network keeps the pool, where waiting for it does
not hold up other requests.
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
