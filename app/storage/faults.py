"""Storage faults: which errors mean a full or read-only disk, and probes of the data dir and
database.

A full disk shows up as ``OSError`` (``ENOSPC``, ``EDQUOT``) from file writes, as SQLite's
"database or disk is full" and as PostgreSQL's SQLSTATE 53100, each possibly wrapped by
SQLAlchemy; a read-only data dir as ``EROFS``/``EACCES``/``EPERM`` or SQLite's "attempt to write a
readonly database". These are conditions of the host, not of a request or a job: the API answers
them with 507 or 503 and workers put the job back in the queue instead of failing it.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Literal

from sqlalchemy import text

from app.storage.db import Database

Fault = Literal["full", "read_only"]

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
_FULL_MESSAGES = ("database or disk is full", "no space left on device", "disk full")
_READ_ONLY_MESSAGES = ("attempt to write a readonly database", "read-only file system")
_DISK_FULL_SQLSTATE = "53100"


def _own_fault(error: BaseException) -> Fault | None:
    if isinstance(error, OSError) and error.errno is not None:
        if error.errno in _FULL_ERRNOS:
            return "full"
        if error.errno in _READ_ONLY_ERRNOS:
            return "read_only"
    if getattr(error, "sqlstate", None) == _DISK_FULL_SQLSTATE:
        return "full"
    if type(error).__name__ in {"OperationalError", "DiskFull"}:
        message = str(error).lower()
        if any(part in message for part in _FULL_MESSAGES):
            return "full"
        if any(part in message for part in _READ_ONLY_MESSAGES):
            return "read_only"
    return None


def storage_fault(error: BaseException) -> Fault | None:
    """``"full"`` or ``"read_only"`` when ``error`` (or what it wraps) is a storage fault."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        fault = _own_fault(current)
        if fault is not None:
            return fault
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapper keeps the driver's error
        if isinstance(orig, BaseException):
            fault = _own_fault(orig)
            if fault is not None:
                return fault
        current = current.__cause__ or current.__context__
    return None


def describe(fault: Fault) -> str:
    """A sentence for clients and logs."""
    if fault == "full":
        return "the data volume has no space left"
    return "the data volume or database is read-only"


def data_dir_problem(root: Path) -> str | None:
    """Why a file cannot be created, synced and removed in ``root``; None when it can."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".ready.", suffix=".tmp") as handle:
            handle.write(b"ok")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        fault = storage_fault(error)
        return describe(fault) if fault else f"the data dir cannot be written ({error.strerror})"
    return None


def database_problem(db: Database) -> str | None:
    """Why the database cannot take a write; None when it can.

    The probe rewrites the schema version row with its own value, so it changes nothing.
    """
    try:
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except Exception as error:
        fault = storage_fault(error)
        return describe(fault) if fault else "the database does not accept writes"
    return None
