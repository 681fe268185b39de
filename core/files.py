"""The one atomic file writer: a crash leaves the old file or the new one, never half of one.

The bytes go to a temporary file in the target's directory, are flushed and fsynced, then the
temporary file is renamed over the target (or, where the target must not exist yet, hard-linked
to it, which fails if another writer got there first), and the directory is fsynced so the
rename itself survives a power loss.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def fsync_directory(directory: Path) -> None:
    """Make the entries of ``directory`` (a rename, a removal) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: str | Path, *, overwrite: bool = True) -> Iterator[BinaryIO]:
    """A binary handle whose bytes replace ``path`` atomically when the block ends without an
    exception (nothing changes otherwise); its directory is created if needed.

    With ``overwrite=False`` an existing file is kept and ``FileExistsError`` raised, so two
    writers cannot both create the same immutable file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
        fsync_directory(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, overwrite=overwrite) as handle:
        handle.write(data)
