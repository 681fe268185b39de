"""A shared "something changed" signal between the processes of one data dir.

A marker is an 8-byte file that writers overwrite with fresh random bytes after every change they
make (:meth:`ChangeMarker.touch`). Readers map it into memory once and compare its bytes with
what they saw last (:meth:`ChangeMarker.token`): about 0.1 µs, against 2 µs or more for the
``stat`` of a directory, which matters on a path taken once per request.

The protocol is *change first, then touch*; a reader that takes the token *before* it looks at
the files can then miss no change: a change it did not see completes after its look, so the
touch that follows writes bytes that differ from the token it holds. Random bytes (not a counter)
make concurrent writers safe without a lock: every touch writes a value no reader has seen. The
file is created with its 8 bytes and never truncated (a mapped file that shrinks would fault).

Where the file cannot be created or mapped (a read-only data dir, a filesystem without shared
mappings), :meth:`ChangeMarker.token` answers None, "unknown", and readers fall back to looking
at the files every time. A marker on a network filesystem shared between hosts may not see
another host's touches at once; readers that care bound that with a re-read interval.
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from pathlib import Path

SIZE = 8


class ChangeMarker:
    """The marker file at ``path``, opened (and created) on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._map: mmap.mmap | None = None
        self._failed = False
        self._lock = threading.Lock()

    def _open(self) -> mmap.mmap | None:
        with self._lock:
            if self._map is None and not self._failed:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                    try:
                        if os.fstat(fd).st_size < SIZE:
                            os.pwrite(fd, os.urandom(SIZE), 0)
                        self._map = mmap.mmap(fd, SIZE, access=mmap.ACCESS_READ)
                    finally:
                        os.close(fd)  # the mapping keeps the file
                except (OSError, ValueError):
                    self._failed = True
            return self._map

    def token(self) -> bytes | None:
        """The marker's current bytes, or None when they cannot be read (treat as changed)."""
        mapped = self._map or self._open()
        return None if mapped is None else mapped[:SIZE]

    def wait(self, token: bytes | None, timeout: float, step: float = 0.005) -> None:
        """Return once the marker's bytes differ from ``token`` (checked every ``step`` s) or
        after ``timeout`` s; a marker that cannot be read just sleeps ``timeout``."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            current = self.token()
            if current is None:
                time.sleep(remaining)
                return
            if current != token:
                return
            time.sleep(min(step, remaining))

    def touch(self) -> None:
        """Announce a change (call it after the change is complete)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError:
            return  # readers that cannot map the marker look at the files themselves
        try:
            os.pwrite(fd, os.urandom(SIZE), 0)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Unmap the file (a later :meth:`token` maps it again)."""
        with self._lock:
            if self._map is not None:
                self._map.close()
                self._map = None
