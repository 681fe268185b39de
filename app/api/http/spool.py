"""Request bodies copied to a temporary file in the data dir, in chunks, refused past a limit:
an upload is never held whole in memory, and a refused or failed one leaves no file behind."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from fastapi import UploadFile

from app.errors import PayloadTooLarge

CHUNK_BYTES = 1024 * 1024
UPLOAD_PATHS = frozenset({"/v1/datasets/upload", "/v1/datasets/upload/raw"})
"""The routes whose bodies are files: limited by ``max_upload_bytes``, not ``max_body_bytes``."""


def _temporary(directory: Path) -> tuple[IO[bytes], Path]:
    directory.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix=".upload.", delete=False)  # noqa: SIM115 (closed by the caller; kept for the parser)
    return handle, Path(handle.name)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the file is over the limit of {limit} bytes")


def received_part(
    file: UploadFile, limit: int, directory: Path, in_memory: int
) -> tuple[Path | bytes, int]:
    """A multipart file part's bytes when it was received in memory (``in_memory`` bytes at
    most, Starlette's spool size), else a copy of it in a temporary file; and its size."""
    if file.size is not None and file.size <= in_memory:
        if file.size > limit:
            raise _too_large(limit)
        file.file.seek(0)
        data = file.file.read()
        return data, len(data)
    handle, path = _temporary(directory)
    size = 0
    try:
        with handle:
            while chunk := file.file.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size


async def spool_stream(
    chunks: AsyncIterator[bytes], limit: int, directory: Path, declared: int | None = None
) -> tuple[Path, int]:
    """Copy a request body, as it arrives, to a temporary file; its path and size.

    A ``declared`` length (Content-Length) over the limit is refused before a byte is read.
    Writes go to the page cache in the event loop: a chunk costs microseconds, less than a
    hand-off to a thread would.
    """
    if declared is not None and declared > limit:
        raise _too_large(limit)
    handle, path = _temporary(directory)
    size = 0
    try:
        with handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size
