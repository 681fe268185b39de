"""Request bodies copied to a temporary file in the data dir, in chunks, refused past a limit:
an upload is never held whole in memory, and a refused or failed one leaves no file behind."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from app.errors import PayloadTooLarge

CHUNK_BYTES = 1024 * 1024
UPLOAD_PATHS = frozenset({"/v1/datasets/upload", "/v1/datasets/upload/raw"})
"""The routes whose bodies are files: limited by ``max_upload_bytes``, not ``max_body_bytes``."""


class _Spool:
    """A temporary file in ``directory`` that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.handle = tempfile.NamedTemporaryFile(dir=directory, prefix=".upload.", delete=False)  # noqa: SIM115 (closed by spooled(); kept for the parser)
        self.path, self.limit, self.size = Path(self.handle.name), limit, 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise _too_large(self.limit)
        self.handle.write(chunk)


@contextmanager
def _spooled(limit: int, directory: Path) -> Iterator[_Spool]:
    """A :class:`_Spool`, closed at the end of the block and removed if the block fails."""
    spool = _Spool(limit, directory)
    try:
        with spool.handle:
            yield spool
    except BaseException:
        spool.path.unlink(missing_ok=True)
        raise


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
    with _spooled(limit, directory) as spool:
        while chunk := file.file.read(CHUNK_BYTES):
            spool.write(chunk)
    return spool.path, spool.size


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
    with _spooled(limit, directory) as spool:
        async for chunk in chunks:
            spool.write(chunk)
    return spool.path, spool.size
