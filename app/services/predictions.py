"""Predictions for client rows: the rows checked, run through the model's inference entry point
(:class:`core.inference.Inference`, which picks its numpy or plain-Python backend), labelled and
written out as JSON numbers or CSV.

Rows arrive as parsed JSON (lists) or CSV text. :func:`check_features` validates rows in one numpy
pass (shape, type, finiteness, the row limit) and names what is wrong, field by field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInput, LimitExceeded, not_finite
from app.services.loaded_model import LoadedModel, ServedModel
from core.inference import OutputNotFiniteError
from core.inference import Prediction as InferenceResult

FloatArray = NDArray[np.floating[Any]]
FloatRows = list[list[float]]


def check_features(
    rows: object, n_inputs: int, max_rows: int, *, field: str = "inputs"
) -> NDArray[np.float64]:
    """``rows`` (a list of equal-length numeric rows, or an array) as a finite float64
    ``(m, n_inputs)`` array.

    Raises ``InvalidInput`` naming what is wrong (codes ``invalid_inputs``,
    ``feature_count_mismatch``, ``not_finite``) or ``LimitExceeded`` (``too_many_rows``).
    """
    if not isinstance(rows, list | np.ndarray) or len(rows) == 0:
        raise InvalidInput(f"{field} must be a non-empty list of rows", code="invalid_inputs")
    if len(rows) > max_rows:
        raise LimitExceeded(
            f"{len(rows)} rows exceed max_predict_rows={max_rows}", code="too_many_rows"
        )
    try:
        array = np.asarray(rows)
    except ValueError as error:
        raise InvalidInput(
            f"{field} rows must all have the same length", code="invalid_inputs"
        ) from error
    if array.ndim != 2:
        raise InvalidInput(
            f"{field} must be a list of rows of numbers, e.g. [[0.5, 1.0]]", code="invalid_inputs"
        )
    # Strings, nulls and nested objects give non-numeric dtypes; numpy would coerce "1.5".
    if array.dtype.kind not in "fiu":
        raise InvalidInput(f"{field} must hold only numbers", code="invalid_inputs")
    if array.shape[1] != n_inputs:
        raise InvalidInput(
            f"the model takes {n_inputs} feature(s) per row, got {array.shape[1]}",
            code="feature_count_mismatch",
        )
    features = array.astype(np.float64, copy=False)
    if not np.isfinite(features).all():
        raise not_finite(features, field, "input")
    return features


def rows_from_csv(data: bytes, max_rows: int) -> list[list[float]]:
    """Numeric rows of a CSV body; a first row that is not all numbers is taken as a header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("the CSV body is not UTF-8 text", code="invalid_csv") from error
    reader = csv.reader(io.StringIO(text))
    rows: list[list[float]] = []
    for line, cells in enumerate(reader, start=1):
        if not cells or all(not c.strip() for c in cells):
            continue
        try:
            rows.append([float(c) for c in cells])
        except ValueError as error:
            if line == 1:
                continue  # a header row names the columns
            raise InvalidInput(
                f"CSV line {line} has a cell that is not a number", code="invalid_csv"
            ) from error
        if len(rows) > max_rows:
            raise LimitExceeded(f"more than max_predict_rows={max_rows} rows", code="too_many_rows")
    return rows


class Prediction(NamedTuple):
    """The outcome of one predict call, in rows: the version that answered, and
    :class:`core.inference.Prediction`'s fields as numpy arrays.

    ``outputs`` is the network's ``A^{[L]}`` as rows ``(m, n_y)``. For a classifier,
    ``probabilities`` is ``(m, k)`` in the order of ``model.classes`` (a binary model's two
    columns are ``1 - p`` and ``p``) and ``labels`` the predicted class of each row; for a
    regressor both are None.
    """

    model: ServedModel
    version: int
    outputs: FloatArray
    probabilities: FloatArray | None
    labels: list[int | str] | None

    @property
    def trained(self) -> bool:
        """False when version 0 (the initialization) answered."""
        return self.version > 0


class PlainPrediction(NamedTuple):
    """A :class:`Prediction` of the plain-Python backend: the same fields, as lists of floats
    (``outputs`` ``(m, n_y)``, ``probabilities`` ``(m, k)``)."""

    model: ServedModel
    version: int
    outputs: FloatRows
    probabilities: FloatRows | None
    labels: list[int | str] | None

    @property
    def trained(self) -> bool:
        """False when version 0 (the initialization) answered."""
        return self.version > 0


def _served(loaded: LoadedModel, result: InferenceResult) -> Prediction | PlainPrediction:
    outputs, probabilities, _, labels = result
    if isinstance(outputs, list):
        plain_probabilities = probabilities if isinstance(probabilities, list) else None
        return PlainPrediction(loaded.model, loaded.version, outputs, plain_probabilities, labels)
    array_probabilities = probabilities if isinstance(probabilities, np.ndarray) else None
    return Prediction(loaded.model, loaded.version, outputs, array_probabilities, labels)


def predict_rows(loaded: LoadedModel, rows: object, max_rows: int) -> Prediction | PlainPrediction:
    """The prediction of client ``rows`` (parsed JSON or an array), checked as
    :func:`check_features` checks them; either backend may answer."""
    n_inputs = loaded.model.n_inputs

    def check(candidate: object) -> NDArray[np.float64]:
        return check_features(candidate, n_inputs, max_rows)

    try:
        result = loaded.inference.predict(rows, max_rows=max_rows, check=check)
    except OutputNotFiniteError as error:
        raise InvalidInput(str(error), code="output_not_finite") from error
    return _served(loaded, result)


def predict(loaded: LoadedModel, features: NDArray[np.float64]) -> Prediction:
    """The prediction of checked, finite rows ``features`` ``(m, n_inputs)``, as numpy arrays."""
    try:
        result = loaded.inference.predict(features)
    except OutputNotFiniteError as error:
        raise InvalidInput(str(error), code="output_not_finite") from error
    served = _served(loaded, result)
    assert isinstance(served, Prediction)  # an array never takes the plain backend
    return served


def number_rows(values: FloatArray | FloatRows) -> list[str]:
    """Each row of ``values`` ``(m, k)`` as comma-separated shortest round-trip numbers.

    Building the text from one flat list of floats avoids ``m`` small lists, which is what
    makes large answers slow to write (and busy for the garbage collector).
    """
    if isinstance(values, np.ndarray):
        k = values.shape[1]
        flat: list[float] = values.ravel().tolist()
    else:
        k = len(values[0])
        flat = list(chain.from_iterable(values))
    text = list(map(float.__repr__, flat))
    if k == 1:
        return text
    if k == 2:
        pairs = iter(text)
        return [f"{a},{b}" for a, b in zip(pairs, pairs, strict=True)]
    return [",".join(text[i : i + k]) for i in range(0, len(text), k)]


def _csv_cell(value: int | str) -> str:
    text = str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_table(prediction: Prediction | PlainPrediction) -> str:
    """The prediction as CSV: a header, then one line per input row."""
    if prediction.probabilities is not None and prediction.labels is not None:
        classes: Sequence[int | str] = prediction.model.classes or ()
        header = ",".join(["prediction", *[_csv_cell(f"p_{c}") for c in classes]])
        rows = number_rows(prediction.probabilities)
        lines = [
            f"{_csv_cell(label)},{r}" for label, r in zip(prediction.labels, rows, strict=True)
        ]
    else:
        n_y = len(prediction.outputs[0])
        header = "prediction" if n_y == 1 else ",".join(f"prediction_{i}" for i in range(n_y))
        lines = number_rows(prediction.outputs)
    return header + "\n" + "".join(f"{line}\n" for line in lines)
