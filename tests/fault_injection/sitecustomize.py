"""Storage faults on demand for the processes of a test server.

A test puts this directory first on ``PYTHONPATH`` and names a flag file in
``ANNSERVE_TEST_FAULT_FILE``; every Python process of the server (uvicorn and the spawned
workers alike) then reads the flag before each write:

* ``full``: ``os.fsync`` fails with ``ENOSPC`` and SQL writes with SQLite's "database or disk is
  full", as on a full disk;
* ``read_only``: ``EROFS`` and "attempt to write a readonly database";
* ``broken``: SQL statements raise a plain ``RuntimeError`` (an internal error, not a fault).

An absent or empty flag file means no fault.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

_FLAG = os.environ.get("ANNSERVE_TEST_FAULT_FILE")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_ERRNO = {"full": errno.ENOSPC, "read_only": errno.EROFS}
_SQL_MESSAGE = {
    "full": "database or disk is full",
    "read_only": "attempt to write a readonly database",
}


def current_fault() -> str | None:
    """The fault the flag file asks for now, if any."""
    if _FLAG is None:
        return None
    try:
        return Path(_FLAG).read_text().strip() or None
    except OSError:
        return None


def _install() -> None:
    real_fsync = os.fsync

    def fsync(fd: Any) -> None:
        fault = current_fault()
        if fault in _ERRNO:
            raise OSError(_ERRNO[fault], os.strerror(_ERRNO[fault]))
        real_fsync(fd)

    os.fsync = fsync

    from sqlalchemy import Engine, event

    def before_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        fault = current_fault()
        if fault is None:
            return
        if fault == "broken":
            raise RuntimeError("injected internal error")
        if fault in _SQL_MESSAGE and statement.lstrip().upper().startswith(_WRITES):
            raise sqlite3.OperationalError(_SQL_MESSAGE[fault])

    event.listen(Engine, "before_cursor_execute", before_execute)


if _FLAG is not None:
    _install()
