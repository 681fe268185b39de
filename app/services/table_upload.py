"""Read an uploaded table (CSV or Parquet) into typed columns and one target column.

Parsing is pyarrow's: its CSV reader is a well-kept, multi-threaded C++ parser that handles
quoted cells, CRLF, a UTF-8 BOM and typed inference (integers, floats, booleans, dates and
timestamps) in one pass over a file on disk, without Python objects per cell; the same library
reads Parquet; numeric columns come out as numpy arrays without copies. pandas would parse into
the same kind of buffers but add a second large dependency and object arrays for text.

The file is read from a temporary file (the upload is streamed there, never held whole in
memory). Each column then gets a type (:data:`core.table_values.COLUMN_TYPES`): inferred from
its values, or as the client says (``column_types``, ``drop``). Inference: numbers -> numeric;
booleans, or text that is only true/false words -> boolean; dates and ISO timestamps ->
datetime; other text -> categorical, or ``ignored`` when more than half of its values are
distinct (identifier-like: names, codes; one-hot columns of values seen once only let the
network memorize its training rows); a column with at most one distinct value -> ignored. Rows
whose target is missing are dropped and counted. Every bad column is named with its count of
bad cells and the lines of the first few (line 1 is the header).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from app.errors import FieldError, InvalidInput, LimitExceeded
from app.settings import Settings
from core.table_values import (
    COLUMN_TYPES,
    DEFAULT_NA_VALUES,
    FALSE_WORDS,
    MAX_ABS_VALUE,
    TRUE_WORDS,
    CategoryCodes,
    Column,
    coerce,
    parse_datetime,
)

Source = Path | bytes
"""An uploaded file: on disk (a spooled body), or its bytes (a small multipart part)."""
TableColumn = Column | CategoryCodes
"""A feature column as the upload holds it: categories as codes, every other type as floats."""
Labels = list[int | float | str] | np.ndarray[Any, Any] | CategoryCodes
"""A target column: int64 or float64 numbers, text classes as codes, or (JSON rows, mixed
labels) a list of values."""

MAX_NAME_LENGTH = 200
SHOWN_LINES = 5
SNIFF_BYTES = 16 * 1024
MIN_ROWS_FOR_IDENTIFIER = 20
IDENTIFIER_DISTINCT_SHARE = 0.5
"""A text column with more distinct values than this share of its filled cells is an identifier."""
DELIMITERS = ",;\t|"
COLUMN_THREADS = min(4, os.cpu_count() or 1)
"""Columns typed (and profiled) at once: one per core, up to 4."""
DATE_SAMPLE = 50
"""How many distinct texts (spread over their sorted order) must read as dates for a text
column to be inferred ``datetime``."""


@dataclass(frozen=True)
class UploadOptions:
    """What the client said about the file."""

    target: str | None = None
    delimiter: str | None = None
    column_types: Mapping[str, str] = field(default_factory=dict)
    drop: Sequence[str] = ()
    na_values: Sequence[str] = DEFAULT_NA_VALUES


@dataclass
class RawTable:
    """Typed feature columns (upload order, ignored ones included in ``types`` only), the
    target's labels and how many rows were dropped for a missing target."""

    types: dict[str, str]
    columns: dict[str, TableColumn]
    target_name: str
    labels: Labels
    dropped_rows: int = 0
    target_type: str = "numeric"

    @property
    def feature_names(self) -> list[str]:
        """The non-ignored feature columns, in upload order."""
        return [name for name, kind in self.types.items() if kind != "ignored"]


class _Problems:
    """Bad cells per column: a count and the first few lines."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.total = 0

    def add(self, column: str, code: str, positions: Sequence[int], what: str) -> None:
        if not positions:
            return
        lines = ", ".join(str(int(i) + 2) for i in positions[:SHOWN_LINES])
        more = " ..." if len(positions) > SHOWN_LINES else ""
        self.total += len(positions)
        self.errors.append(
            FieldError(
                field=f"file.{column}",
                message=f"{len(positions)} cell(s) {what} (lines {lines}{more})",
                code=code,
            )
        )

    def extend(self, other: _Problems) -> None:
        self.errors += other.errors
        self.total += other.total

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInput(
                f"{self.total} bad cell(s) in {len(self.errors)} column(s)",
                code="invalid_csv_cells",
                errors=self.errors,
            )


# Reading --------------------------------------------------------------------------------------
def _head(source: Source, size: int) -> bytes:
    if isinstance(source, bytes):
        return source[:size]
    with source.open("rb") as handle:
        return handle.read(size)


def _arrow_input(source: Source) -> str | pa.BufferReader:
    return pa.BufferReader(source) if isinstance(source, bytes) else str(source)


def _sniff_delimiter(source: Source) -> str:
    sample = _head(source, SNIFF_BYTES).decode("utf-8-sig", errors="replace")
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        sample = "\n".join(lines[:-1])  # the last line may be cut in the middle
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _is_parquet(source: Source, filename: str) -> bool:
    return filename.lower().endswith((".parquet", ".pq")) or _head(source, 4) == b"PAR1"


def _read_csv(source: Source, delimiter: str, options: UploadOptions, stream: bool) -> pa.Table:
    parse = pa_csv.ParseOptions(delimiter=delimiter)
    convert = pa_csv.ConvertOptions(
        null_values=list(options.na_values),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    if stream:
        # Types come from the first block; a later block that does not fit them raises, and
        # the whole-file reader (which widens types as it goes) reads the file instead.
        try:
            reader = pa_csv.open_csv(
                _arrow_input(source), parse_options=parse, convert_options=convert
            )
            return pa.Table.from_batches(list(reader), schema=reader.schema)
        except pa.ArrowInvalid:
            pass
    return pa_csv.read_csv(_arrow_input(source), parse_options=parse, convert_options=convert)


def read_arrow(
    source: Source, filename: str, options: UploadOptions, stream_above: int | None = None
) -> pa.Table:
    """The file as an Arrow table (strings for text, nulls for ``na_values``).

    A CSV file over ``stream_above`` bytes is parsed a block at a time: Arrow's whole-file
    reader holds every parsed block until all are converted, about 1.6 times the table on top
    of it; block by block, the parser holds a few blocks.
    """
    if _is_parquet(source, filename):
        try:
            return pq.read_table(_arrow_input(source))
        except (pa.ArrowException, OSError):
            # pyarrow's message names the server's temporary file: not shown to the client.
            raise InvalidInput(
                "the file is not a readable Parquet file", code="invalid_parquet"
            ) from None
    try:
        delimiter = options.delimiter or _sniff_delimiter(source)
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        stream = stream_above is not None and size > stream_above
        return _read_csv(source, delimiter, options, stream)
    except pa.ArrowInvalid as error:
        message = str(error)
        if "Empty CSV file" in message:
            raise InvalidInput(
                "the file is empty: expected a header row", code="empty_data"
            ) from None
        if "Expected" in message and "columns" in message:
            raise InvalidInput(f"rows differ in length: {message}", code="ragged_rows") from None
        if "UTF8" in message or "utf8" in message.lower():
            raise InvalidInput("the file is not UTF-8 text", code="invalid_csv") from None
        raise InvalidInput(f"malformed file: {message}", code="invalid_csv") from None


def _check_header(names: list[str]) -> list[str]:
    names = [name.strip() for name in names]
    if any(not name for name in names):
        raise InvalidInput("every header cell must name its column", code="invalid_csv")
    if any(len(name) > MAX_NAME_LENGTH or not name.isprintable() for name in names):
        raise InvalidInput(
            f"column names must be printable and at most {MAX_NAME_LENGTH} characters",
            code="invalid_csv",
        )
    if len(set(names)) != len(names):
        raise InvalidInput("header names must be distinct", code="invalid_csv")
    if len(names) < 2:
        raise InvalidInput(
            "need at least one feature column and one target column", code="invalid_csv"
        )
    return names


# Columns ----------------------------------------------------------------------------------------
def _is_text(array: pa.ChunkedArray) -> bool:
    return bool(pa.types.is_string(array.type) or pa.types.is_large_string(array.type))


def _float_column(array: pa.ChunkedArray) -> np.ndarray[Any, Any]:
    values = np.asarray(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), np.float64)
    return values if values.flags.writeable else values.copy()


def _seconds(array: pa.ChunkedArray) -> np.ndarray[Any, Any]:
    if pa.types.is_timestamp(array.type) and array.type.tz is not None:
        array = pc.cast(array, pa.timestamp(array.type.unit, tz="UTC"))
    stamps = pc.cast(pc.cast(array, pa.timestamp("s")), pa.int64())
    return _float_column(stamps)


class TextColumn:
    """A text column read through its distinct values: each distinct text is trimmed, sorted
    and converted once, by Arrow's hash kernels, and no cell becomes a Python string."""

    def __init__(self, array: pa.ChunkedArray) -> None:
        self.array = array if _is_text(array) else pc.cast(array, pa.string())
        self.raw = pc.unique(self.array).drop_null()
        """The distinct texts as written (before trimming)."""
        self.trimmed = pc.utf8_trim_whitespace(self.raw)
        self.n_present = len(self.array) - self.array.null_count

    def distinct(self) -> pa.Array:
        """The distinct trimmed texts, sorted."""
        distinct = pc.unique(self.trimmed)
        return distinct.take(pc.array_sort_indices(distinct))

    def codes(self) -> CategoryCodes:
        """The column as codes into its sorted distinct trimmed texts (-1 where missing)."""
        trimmed = self.trimmed.to_pylist()
        categories = sorted(set(trimmed))
        lookup = {text: code for code, text in enumerate(categories)}
        remap = np.array([*(lookup[text] for text in trimmed), -1], dtype=np.int32)
        where = pc.fill_null(pc.index_in(self.array, value_set=self.raw), len(trimmed))
        return CategoryCodes(
            remap[np.asarray(where.to_numpy(zero_copy_only=False))], tuple(categories)
        )

    def infer(self) -> str:
        """The type the texts suggest (see the module docstring)."""
        distinct = self.distinct()
        n_distinct = len(distinct)
        if n_distinct <= 1:
            return "ignored"
        if n_distinct <= 8:
            words = {str(w).lower() for w in distinct.to_pylist()}
            if words <= (TRUE_WORDS | FALSE_WORDS) and words & TRUE_WORDS:
                return "boolean"
        # Sorted texts put digits before letters: a spread sample with the last text catches a
        # word among dates.
        step = max(1, n_distinct // DATE_SAMPLE)
        sample = [*distinct[::step].to_pylist(), distinct[-1].as_py()]
        if all(any(ch.isdigit() for ch in s) and parse_datetime(s) is not None for s in sample):
            return "datetime"
        if (
            n_distinct > IDENTIFIER_DISTINCT_SHARE * self.n_present
            and self.n_present >= MIN_ROWS_FOR_IDENTIFIER
        ):
            return "ignored"
        return "categorical"

    def convert(self, kind: str, name: str, problems: _Problems) -> TableColumn:
        """The column as ``kind``: codes, or each distinct text read once as a number."""
        codes = self.codes()
        if kind == "categorical":
            return codes
        values, bad, out_of_range = coerce(list(codes.categories), kind, ())
        column = np.append(values, np.nan)[
            np.where(codes.codes >= 0, codes.codes, len(codes.categories))
        ]
        if kind == "numeric":
            problems.add(name, "not_numeric", self._cells(codes, bad), "are not numbers")
            problems.add(
                name,
                "out_of_range",
                self._cells(codes, out_of_range),
                "are infinite or beyond 1e300",
            )
        else:
            problems.add(name, "bad_value", self._cells(codes, bad), f"are not {kind} values")
        return column

    @staticmethod
    def _cells(codes: CategoryCodes, which: Sequence[int]) -> list[int]:
        if not which:
            return []
        cells: list[int] = np.flatnonzero(np.isin(codes.codes, np.asarray(which))).tolist()
        return cells


def infer_type(array: pa.ChunkedArray) -> str:
    """The type a non-text column's values suggest (text: :meth:`TextColumn.infer`)."""
    kind = array.type
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        low, high = pc.min_max(array).values()  # nulls skipped; NaN too
        if low.is_valid and low.as_py() != high.as_py():
            return "numeric"
        return "ignored" if len(pc.unique(pc.drop_null(array))) <= 1 else "numeric"
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return "datetime"
    return "categorical"


def _numeric(array: pa.ChunkedArray, name: str, problems: _Problems) -> Column:
    values = _float_column(array)
    nulls = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    bad = ~np.isfinite(values) & ~nulls
    problems.add(name, "not_finite", np.flatnonzero(bad).tolist(), "are NaN or infinite")
    big = np.isfinite(values) & (np.abs(values) > MAX_ABS_VALUE)
    problems.add(name, "out_of_range", np.flatnonzero(big).tolist(), "exceed 1e300")
    if pa.types.is_floating(array.type):
        whole = values[np.isfinite(values)]
        if whole.size and np.all(whole == np.round(whole)) and np.any(np.abs(whole) >= 2**63):
            where = np.flatnonzero(np.isfinite(values) & (np.abs(values) >= 2**63)).tolist()
            problems.add(name, "out_of_range", where, "are integers beyond 64 bits")
    return values


def convert_column(
    array: pa.ChunkedArray, kind: str, name: str, problems: _Problems
) -> TableColumn:
    """A non-text column as ``kind`` in core's raw form (:mod:`core.table_values`), categories
    as codes (text: :meth:`TextColumn.convert`)."""
    is_number = pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
    if kind == "numeric" and is_number:
        return _numeric(array, name, problems)
    if kind == "datetime" and (pa.types.is_timestamp(array.type) or pa.types.is_date(array.type)):
        return _seconds(array)
    if kind == "boolean" and pa.types.is_boolean(array.type):
        return _float_column(array)
    column, bad, _ = coerce(array.to_pylist(), kind, ())
    if kind == "numeric":
        problems.add(name, "not_numeric", bad, "are not numbers")
    else:
        problems.add(name, "bad_value", bad, f"are not {kind} values")
    return CategoryCodes.from_texts(column) if kind == "categorical" else column


# The table --------------------------------------------------------------------------------------
def _labels(array: pa.ChunkedArray, kind: str | None) -> tuple[Labels, str]:
    if kind == "categorical" or not (
        pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
    ):
        if pa.types.is_floating(array.type) or pa.types.is_boolean(array.type):
            column, _, _ = coerce(array.to_pylist(), "categorical")
            return list(column), "categorical"
        return TextColumn(array).codes(), "categorical"
    if pa.types.is_integer(array.type):
        if pa.types.is_unsigned_integer(array.type) and pc.max(array).as_py() >= 2**63:
            return array.to_pylist(), "numeric"  # beyond int64: named by the label checks
        return np.asarray(array.to_numpy(), dtype=np.int64), "numeric"
    values = _float_column(array)
    if not np.isfinite(values).all():
        raise InvalidInput("the target column holds NaN or infinite values", code="not_finite")
    return values, "numeric"


def _check_options(names: list[str], options: UploadOptions) -> None:
    for name in [*options.column_types, *options.drop]:
        if name not in names:
            raise InvalidInput(f"no column named {name!r} in the header", code="unknown_column")
    for name, kind in options.column_types.items():
        if kind not in COLUMN_TYPES:
            raise InvalidInput(
                f"column {name!r}: type {kind!r} is not one of {list(COLUMN_TYPES)}",
                code="invalid_column_type",
            )


def table_from_arrow(
    read: Callable[[], pa.Table], options: UploadOptions, settings: Settings
) -> RawTable:
    """Typed columns of the Arrow table ``read`` returns, checked and limited.

    The table is only referenced here, and each Arrow column is let go once converted, so the
    file's Arrow buffers and the typed arrays are not both held whole at once.
    """
    table = read()
    try:
        raw_names = list(table.column_names)
    except UnicodeDecodeError:
        raise InvalidInput("the file's header is not UTF-8 text", code="invalid_csv") from None
    names = _check_header(raw_names)
    if any(pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) for f in table.schema):
        raise InvalidInput("the file is not UTF-8 text", code="invalid_csv")
    table = table.rename_columns(names)
    target = options.target if options.target is not None else names[-1]
    if target not in names:
        raise InvalidInput(f"no column named {target!r} in the header", code="unknown_target")
    _check_options(names, options)
    if table.num_rows == 0:
        raise InvalidInput("the file has a header but no data rows", code="empty_data")
    if table.num_rows > settings.max_samples:
        raise LimitExceeded(
            f"{table.num_rows} rows exceed max_samples={settings.max_samples}",
            code="too_many_samples",
        )
    if len(names) - 1 > settings.max_features:
        raise LimitExceeded(
            f"{len(names) - 1} features exceed max_features={settings.max_features}",
            code="too_many_features",
        )
    keep = pc.invert(table.column(target).is_null())
    dropped = table.num_rows - pc.sum(keep).as_py()
    if dropped:
        table = table.filter(keep)
    if table.num_rows < 2:
        raise InvalidInput(
            f"a dataset needs at least 2 rows with a target, the file has {table.num_rows}",
            code="too_few_samples",
        )
    arrays = dict(zip(names, table.columns, strict=True))
    del table

    def typed(name: str) -> tuple[str, TableColumn | None, _Problems]:
        array, problems = arrays.pop(name), _Problems()
        text = TextColumn(array) if _is_text(array) else None
        kind = "ignored" if name in options.drop else options.column_types.get(name)
        kind = kind or (text.infer() if text is not None else infer_type(array))
        column: TableColumn | None = None
        if kind != "ignored" and text is not None:
            column = text.convert(kind, name, problems)
        elif kind != "ignored":
            column = convert_column(array, kind, name, problems)
        # The Arrow column is no longer needed: its pages go back to the system, where the
        # next typed arrays take them, instead of staying in Arrow's pool.
        del array, text
        pa.default_memory_pool().release_unused()
        return kind, column, problems

    features = [name for name in names if name != target]
    types: dict[str, str] = {}
    columns: dict[str, TableColumn] = {}
    problems = _Problems()
    # Arrow's kernels and numpy's sorts let go of the GIL: columns are typed side by side.
    with ThreadPoolExecutor(max_workers=COLUMN_THREADS) as pool:
        for name, (kind, column, found) in zip(features, pool.map(typed, features), strict=True):
            types[name] = kind
            if column is not None:
                columns[name] = column
            problems.extend(found)
    problems.raise_if_any()
    if not columns:
        raise InvalidInput("every feature column is ignored", code="no_feature_columns")
    labels, target_type = _labels(arrays.pop(target), options.column_types.get(target))
    return RawTable(types, columns, target, labels, int(dropped), target_type)


def parse_upload(
    source: Source, filename: str, options: UploadOptions, settings: Settings
) -> RawTable:
    """Read, type and check the uploaded file: on disk at ``source``, or its bytes."""
    read = partial(read_arrow, source, filename, options, settings.upload_stream_bytes)
    return table_from_arrow(read, options, settings)
