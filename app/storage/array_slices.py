"""Arrays of a stored ``.npz`` file read a slice of rows at a time, never whole.

The store writes uncompressed archives of C-ordered arrays (``numpy.savez``), so a member's
rows lie one after another after its ``.npy`` header: reading ``k`` rows is reading
``k * row_bytes`` bytes of the member's stream. Memory stays at one slice per open array,
whatever the file's size. Any other layout (Fortran order, an unknown header version) is read
whole, which is still correct.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy
from numpy.typing import NDArray

from core.serialization import METADATA_KEY

_HEADER_READERS = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}


class NpzSlices:
    """An open ``.npz`` file whose arrays are read whole (small ones) or in row slices."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path)
        try:
            self.metadata: dict[str, Any] = json.loads(self.load(METADATA_KEY).tobytes())
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> NpzSlices:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (open slice iterators stop working)."""
        self._zip.close()

    def _open(self, name: str) -> tuple[IO[bytes], tuple[int, ...], np.dtype[Any] | None]:
        """The member's stream positioned at its data, its shape and dtype (None: read whole)."""
        stream = self._zip.open(f"{name}.npy")
        version = npy.read_magic(stream)
        reader = _HEADER_READERS.get(version)
        if reader is None:
            stream.close()
            return self._zip.open(f"{name}.npy"), (), None
        shape, fortran, dtype = reader(stream)
        if (fortran and len(shape) > 1) or dtype.hasobject:
            stream.close()
            return self._zip.open(f"{name}.npy"), tuple(shape), None
        return stream, tuple(shape), dtype

    def load(self, name: str) -> NDArray[Any]:
        """The whole array ``name`` (for the small ones: indices, category texts)."""
        with self._zip.open(f"{name}.npy") as stream:
            array: NDArray[Any] = npy.read_array(stream, allow_pickle=False)
        return array

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of ``name``, from its header alone."""
        stream, shape, dtype = self._open(name)
        with stream:
            if dtype is None:
                return tuple(npy.read_array(stream, allow_pickle=False).shape)
            return shape

    def row_slices(self, name: str, rows: int) -> Iterator[NDArray[Any]]:
        """Successive slices of ``rows`` rows (the last may be shorter) of the array ``name``."""
        stream, shape, dtype = self._open(name)
        with stream:
            if dtype is None:
                whole = npy.read_array(stream, allow_pickle=False)
                for start in range(0, len(whole), rows):
                    yield whole[start : start + rows]
                return
            tail = shape[1:]
            row_bytes = math.prod(tail) * dtype.itemsize
            for start in range(0, shape[0] if shape else 0, rows):
                count = min(rows, shape[0] - start)
                data = stream.read(count * row_bytes)
                if len(data) != count * row_bytes:
                    raise ValueError(f"array {name!r} ends early in the file")
                yield np.frombuffer(data, dtype=dtype).reshape(count, *tail)
