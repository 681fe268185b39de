"""Parse an uploaded CSV table: a header row, numeric feature columns and one target column.

Target cells stay labels: they become ints when every cell is an integer, floats when every cell is
a number, and strings otherwise (string class names are kept as the model's class names).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.errors import MAX_REPORTED_ERRORS, FieldError, InvalidInput, LimitExceeded
from app.settings import Settings

MAX_NAME_LENGTH = 200  # the same limit as names sent as JSON


@dataclass(frozen=True)
class CsvTable:
    """Feature rows ``(m, n)``, their column names, the target column's name and its labels."""

    features: NDArray[np.float64]
    feature_names: list[str]
    target_name: str
    labels: list[int | float | str]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"the file is not UTF-8 text (bad byte at offset {error.start})", code="invalid_csv"
        ) from error


def _header(row: list[str] | None) -> list[str]:
    if row is None:
        raise InvalidInput("the file is empty: expected a header row", code="empty_data")
    names = [cell.strip() for cell in row]
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


def _labels(cells: list[str]) -> list[int | float | str]:
    try:
        return [int(cell) for cell in cells]
    except ValueError:
        pass
    try:
        values = [float(cell) for cell in cells]
    except ValueError:
        return list(cells)
    if not all(math.isfinite(v) for v in values):
        raise InvalidInput("the target column holds NaN or infinite values", code="not_finite")
    return list(values)


def _number(cell: str, line: int, column: str, errors: list[FieldError]) -> float:
    try:
        value = float(cell)
    except ValueError:
        errors.append(
            FieldError(
                field=f"file.line{line}.{column}", message="is not a number", code="not_numeric"
            )
        )
        return 0.0
    if not math.isfinite(value):
        errors.append(
            FieldError(
                field=f"file.line{line}.{column}", message="is NaN or infinite", code="not_finite"
            )
        )
    return value


def parse_csv(data: bytes, target: str | None, settings: Settings) -> CsvTable:
    """Parse UTF-8 CSV ``data``; ``target`` names the label column (default: the last one)."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        names = _header(next(reader, None))
        target_name = target if target is not None else names[-1]
        if target_name not in names:
            raise InvalidInput(
                f"no column named {target_name!r} in the header", code="unknown_target"
            )
        t = names.index(target_name)
        feature_names = [name for j, name in enumerate(names) if j != t]
        if len(feature_names) > settings.max_features:
            raise LimitExceeded(
                f"{len(feature_names)} features exceed max_features={settings.max_features}",
                code="too_many_features",
            )
        rows: list[list[float]] = []
        label_cells: list[str] = []
        errors: list[FieldError] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines (e.g. a trailing newline) carry no sample
            line = reader.line_num
            if len(row) != len(names):
                errors.append(
                    FieldError(
                        field=f"file.line{line}",
                        message=f"has {len(row)} cells, the header has {len(names)}",
                        code="ragged",
                    )
                )
            elif not row[t].strip():
                errors.append(
                    FieldError(
                        field=f"file.line{line}.{target_name}", message="is empty", code="missing"
                    )
                )
            else:
                label_cells.append(row[t].strip())
                rows.append(
                    [_number(row[j], line, names[j], errors) for j in range(len(names)) if j != t]
                )
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
            if len(rows) > settings.max_samples:
                raise LimitExceeded(
                    f"more than max_samples={settings.max_samples} rows", code="too_many_samples"
                )
    except csv.Error as error:
        raise InvalidInput(f"malformed CSV: {error}", code="invalid_csv") from error
    if errors:
        codes = {e["code"] for e in errors}
        code = "ragged_rows" if codes == {"ragged"} else "invalid_csv_cells"
        raise InvalidInput(
            f"{len(errors)} bad cell(s) or row(s) in the file", code=code, errors=errors
        )
    if not rows:
        raise InvalidInput("the file has a header but no data rows", code="empty_data")
    features = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(feature_names))
    return CsvTable(features, feature_names, target_name, _labels(label_cells))
