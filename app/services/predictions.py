"""Predictions: client rows checked, run through a cached network, labelled.

Rows arrive as parsed JSON (lists) or CSV text. Two paths give the same answers (to rounding, a
relative 1e-12): a few rows of a small float64 network go through :func:`predict_plain`, which
checks plain JSON numbers and runs the network's plain-Python form
(:class:`core.scalar_network.ScalarNetwork`), because a numpy call costs more than such a row's
whole arithmetic; everything else, and every row it does not plainly accept, is validated in one
pass by numpy (shape, type, finiteness, the row limit; :func:`check_features`, which names what is
wrong) and predicted by :func:`predict`. Rows become core's columns through
:mod:`app.services.layout`, the one place that transposes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from app.services.errors import InvalidInput, LimitExceeded, not_finite
from app.services.layout import columns_to_rows, rows_to_columns
from app.services.loaded_model import LoadedModel, ServedModel

FloatArray = NDArray[np.floating[Any]]
FloatRows = list[list[float]]
_EXACT_INT = 2**53  # integers up to this convert to float64 exactly


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


@dataclass(frozen=True)
class Prediction:
    """The outcome of one predict call, in rows.

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


def forward(loaded: LoadedModel, X: NDArray[np.float64]) -> FloatArray:
    """``A^{[L]}`` ``(n_y, m)`` of checked, finite inputs ``X`` ``(n_x, m)``.

    The notes' forward pass with the engine's in-place activation forms (those of its training
    fast path), so it agrees with :meth:`core.network.ANN.forward_propagation` to rounding; it
    skips the input checks done already and keeps no per-layer cache, because on a single row
    every numpy call counts. Callers hold ``np.errstate(over="ignore")``.
    """
    A: FloatArray = X.astype(loaded.ann.dtype, copy=False)
    for W, b, g in loaded.layers:
        Z = W @ A
        np.add(Z, b, out=Z)
        A = g(Z)
    return A


def predict(loaded: LoadedModel, features: NDArray[np.float64]) -> Prediction:
    """Run ``features`` ``(m, n_inputs)`` (checked and finite) through ``loaded``'s network."""
    # Huge inputs can overflow a linear output; that is answered below, not warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        A = forward(loaded, rows_to_columns(features))
    if not np.isfinite(A).all():
        raise InvalidInput(
            "the model's output overflowed for these inputs", code="output_not_finite"
        )
    model = loaded.model
    outputs = columns_to_rows(A)
    if model.classes is None:
        return Prediction(model, loaded.version, outputs, None, None)
    classes = model.classes
    if A.shape[0] == 1:
        # 1 - p in the model's dtype, as the ONNX export computes it.
        probabilities = np.concatenate([1 - A, A]).T
        index = (A[0] > 0.5).tolist()
    else:
        probabilities = outputs
        index = A.argmax(axis=0).tolist()
    labels = [classes[i] for i in index]
    return Prediction(model, loaded.version, outputs, probabilities, labels)


def _float_row(row: list[Any]) -> list[float] | None:
    # Integers convert as numpy converts them; bools, strings, nulls and huge integers go to numpy.
    out: list[float] = []
    for value in row:
        kind = type(value)
        if kind is float:
            out.append(value)
        elif kind is int and -_EXACT_INT <= value <= _EXACT_INT:
            out.append(float(value))
        else:
            return None
    return out


def plain_rows(rows: object, n_inputs: int, max_rows: int) -> FloatRows | None:
    """``rows`` as lists of ``n_inputs`` finite floats when they plainly are, else None.

    Plainly: a non-empty list of at most ``max_rows`` lists of JSON numbers (floats, integers up
    to 2**53). None is no verdict: :func:`check_features` then checks the rows and names what is
    wrong (or accepts what this quick check leaves to it, such as a row whose sum overflows).
    """
    if type(rows) is not list or not 0 < len(rows) <= max_rows:
        return None
    plain: FloatRows = rows
    for i, row in enumerate(rows):
        if type(row) is not list or len(row) != n_inputs:
            return None
        all_floats = True
        for value in row:
            if type(value) is not float:
                all_floats = False
                break
        if not all_floats:  # ints are converted, anything else is left to numpy's checks
            converted = _float_row(row)
            if converted is None:
                return None
            if plain is rows:
                plain = list(rows)  # the caller's rows stay as they were
            plain[i] = row = converted
        total = sum(row)
        if total - total != 0.0:  # NaN or infinite
            return None
    return plain


class PlainPrediction(NamedTuple):
    """A :class:`Prediction` of the plain-Python path: the same fields, as lists of floats
    (``outputs`` ``(m, n_y)``, ``probabilities`` ``(m, k)``). A named tuple: it is made per
    request, and costs a third of a frozen dataclass to make."""

    model: ServedModel
    version: int
    outputs: FloatRows
    probabilities: FloatRows | None
    labels: list[int | str] | None

    @property
    def trained(self) -> bool:
        """False when version 0 (the initialization) answered."""
        return self.version > 0


def predict_plain(loaded: LoadedModel, rows: object, max_rows: int) -> PlainPrediction | None:
    """The prediction of ``rows`` through ``loaded``'s plain-Python network, or None when that
    is not the faster path (no such form, too much work) or the rows or outputs are not plainly
    fine: then :func:`check_features` and :func:`predict` answer, errors included."""
    network = loaded.scalar
    if network is None or type(rows) is not list or len(rows) > network.max_samples:
        return None
    features = plain_rows(rows, network.n_x, max_rows)
    if features is None:
        return None
    forward = network.forward
    outputs = [forward(x) for x in features]
    total = sum(map(sum, outputs))
    if total - total != 0.0:  # an output overflowed (or their sum did): numpy's path says which
        return None
    model = loaded.model
    classes = model.classes
    if classes is None:
        return PlainPrediction(model, loaded.version, outputs, None, None)
    if network.n_y == 1:
        probabilities = [[1.0 - p, p] for (p,) in outputs]
        labels = [classes[p > 0.5] for (p,) in outputs]
    else:
        probabilities = outputs
        # max keeps the first of equal maxima, as argmax does.
        labels = [classes[max(range(len(A)), key=A.__getitem__)] for A in outputs]
    return PlainPrediction(model, loaded.version, outputs, probabilities, labels)


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
