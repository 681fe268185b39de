"""A stored dataset's rows written as CSV or JSON a slice at a time.

The file is read in row slices (:class:`app.storage.array_slices.NpzSlices`) and every slice
becomes one chunk of text, so an export costs a slice of memory, not the dataset's size in Python
objects. Cells are what clients sent: numbers, category texts, datetimes as ISO 8601 strings,
missing values as ``null`` (an empty CSV cell), so the CSV uploads back as the same dataset.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson
from numpy.typing import NDArray

from app.storage.array_slices import NpzSlices
from app.storage.table_columns import TABLE_KEY
from app.storage.tables import DatasetRow

Subset = Literal["all", "train", "test"]
CHUNK_CELLS = 65_536
"""About this many cells are turned into text at a time ..."""
MIN_CHUNK_ROWS = 64
"""... and at least this many rows."""


def _datetimes(seconds: NDArray[np.float64], dates_only: bool) -> list[str | None]:
    missing = np.isnan(seconds)
    stamps = np.where(missing, 0, seconds).astype(np.int64).astype("datetime64[s]")
    texts = np.datetime_as_string(stamps, unit="D" if dates_only else "s").tolist()
    return [None if gone else text for gone, text in zip(missing.tolist(), texts, strict=True)]


def _numbers(values: NDArray[np.float64]) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]


@dataclass
class DatasetExport:
    """The rows of one stored dataset (``subset``: all, train or test), ready to be written."""

    row: DatasetRow
    file: NpzSlices
    subset: Subset = "all"

    def __post_init__(self) -> None:
        test = np.zeros(self.row.n_samples, dtype=bool)
        test[self.file.load("test_idx")] = True
        self._test = test
        self._columns = self.file.metadata.get(TABLE_KEY)
        width = len(self._columns) if self._columns is not None else self.row.n_features
        self.chunk_rows = max(MIN_CHUNK_ROWS, CHUNK_CELLS // max(1, width))

    def _keep(self, start: int, stop: int) -> NDArray[np.bool_]:
        test = self._test[start:stop]
        return ~test if self.subset == "train" else test

    def _kept(self, values: NDArray[Any], start: int) -> NDArray[Any]:
        if self.subset == "all":
            return values
        return values[self._keep(start, start + len(values))]

    def _slices(self, name: str) -> Iterator[tuple[int, NDArray[Any]]]:
        start = 0
        for values in self.file.row_slices(name, self.chunk_rows):
            yield start, values
            start += len(values)

    def feature_rows(self) -> Iterator[list[list[Any]]]:
        """The feature rows, a slice at a time."""
        if self._columns is None:
            for start, values in self._slices("features"):
                yield self._kept(values, start).tolist()
            return
        readers = []
        for j, entry in enumerate(self._columns):
            categories, dates_only = None, False
            if entry["type"] == "categorical":
                categories = np.array([*self.file.load(f"cat{j}").tolist(), None], dtype=object)
            elif entry["type"] == "datetime":  # a date alone when every time is midnight
                dates_only = all(
                    bool(np.all(values[~np.isnan(values)] % 86_400 == 0))
                    for _, values in self._slices(f"col{j}")
                )
            readers.append((entry["type"], categories, dates_only, self._slices(f"col{j}")))
        for _ in range(0, self.row.n_samples, self.chunk_rows):
            shown = []
            for kind, categories, dates_only, slices in readers:
                start, values = next(slices)
                values = self._kept(values, start)
                if categories is not None:
                    shown.append(categories[np.where(values >= 0, values, -1)].tolist())
                elif kind == "datetime":
                    shown.append(_datetimes(values, dates_only))
                else:
                    shown.append(_numbers(values))
            yield [list(cells) for cells in zip(*shown, strict=True)] if shown else []

    def targets(self) -> Iterator[list[Any]]:
        """The targets as clients see them (class labels or values), a slice at a time."""
        classes = self.row.classes
        lookup = None if classes is None else np.array(list(classes), dtype=object)
        for start, values in self._slices("targets"):
            kept = self._kept(values, start)
            if lookup is None:
                yield kept.astype(np.float64).tolist()
            else:
                yield lookup[kept.astype(np.int64)].tolist()

    def splits(self) -> Iterator[list[str]]:
        """``train`` or ``test`` for each row, a slice at a time."""
        for start in range(0, self.row.n_samples, self.chunk_rows):
            test = self._test[start : start + self.chunk_rows]
            if self.subset != "all":
                test = test[self._keep(start, start + len(test))]
            yield np.where(test, "test", "train").tolist()

    # Writers -------------------------------------------------------------------------------
    def csv_chunks(self) -> Iterator[bytes]:
        """A CSV with a header row, the features and the target (it uploads back as is)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*self.row.feature_names, self.row.target_name])
        for features, targets in zip(self.feature_rows(), self.targets(), strict=True):
            for cells, target in zip(features, targets, strict=True):
                writer.writerow([*("" if v is None else v for v in cells), target])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()

    def json_chunks(self) -> Iterator[bytes]:
        """The JSON document of ``DatasetData``, its three long arrays written slice by slice."""
        head = {
            "id": self.row.id,
            "subset": self.subset,
            "feature_names": self.row.feature_names,
            "target_name": self.row.target_name,
        }
        yield orjson.dumps(head)[:-1] + b',"features":'
        yield from _json_array(self.feature_rows())
        yield b',"targets":'
        yield from _json_array(self.targets())
        yield b',"split":'
        yield from _json_array(self.splits())
        yield b"}"


def _json_array(parts: Iterator[list[Any]]) -> Iterator[bytes]:
    """One JSON array from lists of items, written a list at a time."""
    yield b"["
    first = True
    for items in parts:
        if not items:
            continue
        yield (b"" if first else b",") + orjson.dumps(items)[1:-1]
        first = False
    yield b"]"
