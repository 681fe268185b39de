"""Predictions of a table model from the user's own rows.

Three forms, all turned into a table of the model's raw columns, which the model's inference
entry point encodes (:meth:`core.inference.Inference.predict_table`):

* ``records``: objects keyed by column name, in any order, null (or an absent key) for missing;
* ``inputs``: rows holding the model's input columns in the upload's order (mixed values);
* CSV with a header: columns matched by name, in any order.

Columns the model does not take (the target, identifiers, ...) are ignored and listed in the
warnings, as are values unseen in training (encoded in the ``<other>`` bucket).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from app.errors import FieldError, InvalidInput, LimitExceeded
from app.services.loaded_model import LoadedModel
from app.services.predictions import PlainPrediction, Prediction
from core.errors import CoreError
from core.inference import OutputNotFiniteError
from core.pipeline import Preprocessor, TableValuesError
from core.table_values import Table

SHOWN_ROWS = 5


class Records(NamedTuple):
    """A predict body's ``records``, as parsed JSON."""

    records: object


class CsvBody(NamedTuple):
    """A predict body sent as CSV, not parsed yet (its model decides how)."""

    data: bytes


def _ignored(names: Sequence[str], stage: Preprocessor) -> list[str]:
    extra = [name for name in names if name not in set(stage.names)]
    if not extra:
        return []
    return [f"column(s) not used by the model were ignored: {', '.join(map(repr, extra))}"]


def _from_records(stage: Preprocessor, records: object) -> tuple[Table, list[str]]:
    if not isinstance(records, list) or not records:
        raise InvalidInput("records must be a non-empty list of objects", code="invalid_inputs")
    if not all(isinstance(r, dict) for r in records):
        raise InvalidInput("each record must be an object keyed by column", code="invalid_inputs")
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    values = {name: [r.get(name) for r in records] for name in stage.names}
    return stage.table_from_columns(values), _ignored(list(seen), stage)


def _from_csv(stage: Preprocessor, data: bytes, max_rows: int) -> tuple[Table, list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("the CSV body is not UTF-8 text", code="invalid_csv") from error
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if len(rows) < 2:
        raise InvalidInput("send a header row and at least one row", code="invalid_csv")
    header = [name.strip() for name in rows[0]]
    missing = [name for name in stage.names if name not in header]
    if missing:
        raise InvalidInput(
            f"the CSV header lacks the model's column(s) {', '.join(map(repr, missing))}",
            code="missing_columns",
            errors=[
                FieldError(field=f"csv.{name}", message="column is missing", code="missing_column")
                for name in missing
            ],
        )
    if len(rows) - 1 > max_rows:
        raise LimitExceeded(f"more than max_predict_rows={max_rows} rows", code="too_many_rows")
    position = {name: header.index(name) for name in stage.names}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InvalidInput(
                f"CSV line {line} has {len(row)} cells, the header has {len(header)}",
                code="invalid_csv",
            )
    values = {name: [row[j] for row in rows[1:]] for name, j in position.items()}
    return stage.table_from_columns(values), _ignored(header, stage)


def _field_errors(error: TableValuesError, where: str) -> InvalidInput:
    errors = []
    for column, code, positions in error.problems:
        shown = ", ".join(str(i) for i in positions[:SHOWN_ROWS])
        message = (
            "column is missing"
            if code == "missing_column"
            else f"{len(positions)} value(s) do not fit the column (rows {shown})"
        )
        errors.append(FieldError(field=f"{where}.{column}", message=message, code=code))
    return InvalidInput(str(error), code="invalid_inputs", errors=errors)


def request_table(stage: Preprocessor, rows: object, max_rows: int) -> tuple[Table, list[str]]:
    """The table a predict body holds, and warnings about ignored columns."""
    try:
        if isinstance(rows, CsvBody):
            return _from_csv(stage, rows.data, max_rows)
        if isinstance(rows, Records):
            if isinstance(rows.records, list) and len(rows.records) > max_rows:
                raise LimitExceeded(
                    f"{len(rows.records)} rows exceed max_predict_rows={max_rows}",
                    code="too_many_rows",
                )
            return _from_records(stage, rows.records)
        if not isinstance(rows, list) or not rows:
            raise InvalidInput("inputs must be a non-empty list of rows", code="invalid_inputs")
        if len(rows) > max_rows:
            raise LimitExceeded(
                f"{len(rows)} rows exceed max_predict_rows={max_rows}", code="too_many_rows"
            )
        return stage.table_from_rows(rows), []
    except TableValuesError as error:
        raise _field_errors(error, "csv" if isinstance(rows, CsvBody) else "inputs") from error
    except CoreError as error:
        raise InvalidInput(str(error), code="invalid_inputs") from error


def predict_table(
    loaded: LoadedModel, rows: object, max_rows: int
) -> tuple[Prediction | PlainPrediction, list[str]]:
    """The prediction of a table model for ``rows`` (records, inputs or CSV) and warnings."""
    stage = loaded.inference.preprocessor
    assert stage is not None
    table, warnings = request_table(stage, rows, max_rows)
    prediction, unseen = predict_columns(loaded, table)
    return prediction, [*warnings, *unseen]


def predict_columns(loaded: LoadedModel, table: Table) -> tuple[Prediction, list[str]]:
    """The prediction of a table of the model's raw columns, as numpy arrays, and the stage's
    warnings (values unseen in training)."""
    try:
        result, unseen = loaded.inference.predict_table(table)
    except OutputNotFiniteError as error:
        raise InvalidInput(str(error), code="output_not_finite") from error
    outputs, probabilities, _, labels = result
    assert isinstance(outputs, np.ndarray)
    array_probabilities = probabilities if isinstance(probabilities, np.ndarray) else None
    return Prediction(loaded.model, loaded.version, outputs, array_probabilities, labels), unseen


def table_columns(values: Mapping[str, Sequence[Any]], stage: Preprocessor) -> Table:
    """A table from values per column (the v2 protocol's inputs), or ``InvalidInput``."""
    try:
        return stage.table_from_columns(values)
    except TableValuesError as error:
        raise _field_errors(error, "inputs") from error
