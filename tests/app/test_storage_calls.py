"""call_storage: inline on the event loop for the embedded database, in the thread pool for a
database across the network."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from app.api.http.storage_calls import call_storage
from app.storage.db import Database


def _thread_of_call(db: Database) -> tuple[str, str]:
    async def main() -> tuple[str, str]:
        here = threading.current_thread().name
        there = await call_storage(db, lambda: threading.current_thread().name)
        return here, there

    try:
        return asyncio.run(main())
    finally:
        db.dispose()


def test_the_embedded_database_is_called_inline(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    assert db.embedded
    here, there = _thread_of_call(db)
    assert there == here


def test_a_network_database_is_called_from_the_thread_pool(postgres_url: str) -> None:
    db = Database(postgres_url)
    assert not db.embedded
    here, there = _thread_of_call(db)
    assert there != here


def test_arguments_and_errors_pass_through(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")

    def divide(a: int, *, b: int) -> float:
        return a / b

    async def main() -> None:
        assert await call_storage(db, divide, 6, b=3) == 2.0
        try:
            await call_storage(db, divide, 1, b=0)
        except ZeroDivisionError:
            return
        raise AssertionError("the error did not reach the caller")

    try:
        asyncio.run(main())
    finally:
        db.dispose()
