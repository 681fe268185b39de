"""The one inference entry point: a network's predictions for rows of inputs.

:class:`Inference` wraps a network (and its class labels, for a classifier). Clients and files
speak rows, ``(m, n_x)``, one sample per row; the network computes in the notes' columns,
``X`` of shape ``(n_x, m)``; :meth:`Inference.predict` takes rows and answers rows, so the
transposes happen here and nowhere else. Outputs become classes by the rule of
:mod:`core.decision`.

Two backends give the same answers (to rounding, a relative 1e-12): numpy, for every request,
and, for a few rows of a small float64 network, the plain-Python pass of
:class:`core.scalar_network.ScalarNetwork`, because there a numpy call costs more than a row's
whole arithmetic. :meth:`Inference.predict` chooses between them.

A network with a preprocessing stage (:class:`core.pipeline.Preprocessor`) takes the user's raw
columns instead: :meth:`Inference.predict_table` encodes them, runs the numpy backend and maps
regression outputs back to the targets' units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from core.activations import ACTIVATIONS, Activation
from core.decision import class_index, class_indices
from core.errors import CoreError
from core.network import ANN
from core.pipeline import Preprocessor
from core.scalar_network import ScalarNetwork
from core.table_values import Table

FloatArray = NDArray[np.floating[Any]]
FloatRows = list[list[float]]
Label = int | str
ScalarT = TypeVar("ScalarT", bound=np.generic)
RowCheck = Callable[[object], NDArray[np.float64]]
"""Turns client rows into a finite float64 ``(m, n_x)`` array, or raises naming what is wrong."""

_EXACT_INT = 2**53  # integers up to this convert to float64 exactly


class OutputNotFiniteError(CoreError):
    """The network's output overflowed for these inputs (e.g. a linear output of huge inputs)."""


class Prediction(NamedTuple):
    """Predictions of ``m`` rows, as numpy arrays (numpy backend) or lists of floats (scalar).

    ``outputs`` is the network's ``A^{[L]}`` as rows ``(m, n_y)``. For a classifier,
    ``probabilities`` is ``(m, k)`` in the order of the classes (a binary model's two columns
    are ``1 - p`` and ``p``), ``indices`` the class index of each row and ``labels`` its class;
    for a regressor the three are None.
    """

    outputs: FloatArray | FloatRows
    probabilities: FloatArray | FloatRows | None
    indices: NDArray[np.intp] | list[int] | None
    labels: list[Label] | None


def rows_to_columns(rows: NDArray[ScalarT]) -> NDArray[ScalarT]:
    """``X`` ``(n, m)`` (contiguous, as BLAS prefers) from rows ``(m, n)``."""
    return np.ascontiguousarray(rows.T)


def columns_to_rows(X: NDArray[ScalarT]) -> NDArray[ScalarT]:
    """Rows ``(m, n)`` from the notes' columns ``(n, m)``."""
    return np.ascontiguousarray(X.T)


def check_rows(rows: object, n_x: int) -> NDArray[np.float64]:
    """The default :data:`RowCheck`: ``rows`` as finite float64 ``(m, n_x)``, else CoreError."""
    array = np.asarray(rows)
    if array.ndim != 2 or array.shape[1] != n_x or array.shape[0] < 1:
        raise CoreError(f"rows must have shape (m, {n_x}) with m >= 1, got {array.shape}.")
    if array.dtype.kind not in "fiub":
        raise CoreError(f"rows must hold numbers, got dtype {array.dtype}.")
    features = array.astype(np.float64, copy=False)
    if not np.isfinite(features).all():
        raise CoreError("rows contain NaN or infinite values.")
    return features


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


def plain_rows(rows: object, n_x: int, max_rows: int) -> FloatRows | None:
    """``rows`` as lists of ``n_x`` finite floats when they plainly are, else None.

    Plainly: a non-empty list of at most ``max_rows`` lists of JSON numbers (floats, integers up
    to 2**53). None is no verdict: the row check of the numpy backend then checks the rows and
    names what is wrong (or accepts what this quick check leaves to it, such as a row whose sum
    overflows).
    """
    if type(rows) is not list or not 0 < len(rows) <= max_rows:
        return None
    plain: FloatRows = rows
    for i, row in enumerate(rows):
        if type(row) is not list or len(row) != n_x:
            return None
        all_floats = True
        for value in row:
            if type(value) is not float:
                all_floats = False
                break
        if not all_floats:  # ints are converted, anything else is left to the numpy checks
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


class Inference:
    """A network ready to predict: rows in; outputs, class indices and labels out.

    Parameters
    ----------
    ann : ANN
        The network; its parameters are read, never changed (views, not copies).
    classes : sequence of int or str, optional
        The class labels of a classifier, in the order of its outputs (two classes for one
        sigmoid unit); None for a regressor.
    preprocessor : Preprocessor, optional
        The model's preprocessing stage: rows are then raw column values, encoded here.
    """

    def __init__(
        self,
        ann: ANN,
        classes: Sequence[Label] | None = None,
        preprocessor: Preprocessor | None = None,
    ) -> None:
        self.ann = ann
        self.preprocessor = preprocessor
        self.classes: tuple[Label, ...] | None = tuple(classes) if classes is not None else None
        self.n_inputs = ann.n_x
        self.n_outputs = ann.n_y
        self._layers: tuple[tuple[FloatArray, FloatArray, Activation], ...] = tuple(
            (getattr(ann, f"W{l}"), getattr(ann, f"b{l}"), ACTIVATIONS[name])
            for l, name in enumerate(ann.spec.activations, start=1)
        )
        # A stage's encoding is numpy work: such a model always takes the numpy backend.
        self.scalar = ScalarNetwork.from_ann(ann) if preprocessor is None else None
        """The plain-Python backend, or None when the network is not small float64."""

    # The numpy backend -------------------------------------------------------------------
    def outputs(self, X: FloatArray) -> FloatArray:
        """``A^{[L]}`` ``(n_y, m)`` of finite inputs ``X`` ``(n_x, m)`` in the notes' columns.

        The notes' forward pass with the engine's in-place activation forms, so it agrees with
        :meth:`core.network.ANN.forward_propagation` to rounding; it keeps no per-layer cache,
        because on a single row every numpy call counts.
        """
        A: FloatArray = X.astype(self.ann.dtype, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            for W, b, activation in self._layers:
                Z = W @ A
                np.add(Z, b, out=Z)
                A = activation.apply_in_place(Z)
        return A

    def layer_outputs(self, X: FloatArray) -> list[FloatArray]:
        """Every layer's activations ``[A^{[1]}, ..., A^{[L]}]`` (each ``(n_l, m)``) of ``X``.

        The same pass as :meth:`outputs`, keeping each layer's ``A``: what each hidden and
        output unit computes, e.g. over a grid of inputs.
        """
        A: FloatArray = X.astype(self.ann.dtype, copy=False)
        layers: list[FloatArray] = []
        with np.errstate(over="ignore", invalid="ignore"):
            for W, b, activation in self._layers:
                Z = W @ A
                np.add(Z, b, out=Z)
                A = activation.apply_in_place(Z)
                layers.append(A)
        return layers

    def _predict_array(self, features: NDArray[np.float64]) -> Prediction:
        return self._predict_columns(rows_to_columns(features))

    def _predict_columns(self, X: FloatArray) -> Prediction:
        A = self.outputs(X)
        if not np.isfinite(A).all():
            raise OutputNotFiniteError("the model's output overflowed for these inputs")
        if self.preprocessor is not None and self.classes is None:
            A = self.preprocessor.decode_outputs(A)
        outputs = columns_to_rows(A)
        if self.classes is None:
            return Prediction(outputs, None, None, None)
        # A binary model's 1 - p in the model's dtype, as the ONNX export computes it.
        probabilities = np.concatenate([1 - A, A]).T if A.shape[0] == 1 else outputs
        indices = class_indices(A)
        classes = self.classes
        return Prediction(outputs, probabilities, indices, [classes[i] for i in indices.tolist()])

    # The plain-Python backend ------------------------------------------------------------
    def _predict_plain(self, rows: object, max_rows: int) -> Prediction | None:
        network = self.scalar
        if network is None or type(rows) is not list or len(rows) > network.max_samples:
            return None
        features = plain_rows(rows, network.n_x, max_rows)
        if features is None:
            return None
        forward = network.forward
        outputs = [forward(x) for x in features]
        total = sum(map(sum, outputs))
        if total - total != 0.0:  # an output overflowed (or their sum did): numpy says which
            return None
        classes = self.classes
        if classes is None:
            return Prediction(outputs, None, None, None)
        probabilities = [[1.0 - p, p] for (p,) in outputs] if network.n_y == 1 else outputs
        indices = [class_index(A) for A in outputs]
        return Prediction(outputs, probabilities, indices, [classes[i] for i in indices])

    # The entry point ---------------------------------------------------------------------
    def predict(
        self, rows: object, *, max_rows: int | None = None, check: RowCheck | None = None
    ) -> Prediction:
        """The predictions of ``rows`` (``(m, n_x)``: an array, or lists of numbers).

        A few plain rows of a small float64 network take the plain-Python backend; any other
        rows are checked by ``check`` (default :func:`check_rows`, which raises CoreError; the
        service passes its own, which names each bad field) and take numpy. ``max_rows`` bounds
        the rows the plain backend accepts (more are left to ``check`` to refuse).
        """
        if self.preprocessor is not None:
            return self.predict_table(self.preprocessor.table_from_rows(rows))[0]  # type: ignore[arg-type]
        if type(rows) is list:
            plain = self._predict_plain(rows, len(rows) if max_rows is None else max_rows)
            if plain is not None:
                return plain
        features = check(rows) if check is not None else check_rows(rows, self.n_inputs)
        return self._predict_array(features)

    # Tables of raw columns ---------------------------------------------------------------
    def predict_table(self, table: Table) -> tuple[Prediction, list[str]]:
        """The predictions of a table of the stage's raw columns (see
        :meth:`core.pipeline.Preprocessor.table_from_columns`) and the stage's warnings."""
        if self.preprocessor is None:
            raise CoreError("this network has no preprocessing stage: send rows of numbers.")
        X, warnings = self.preprocessor.transform(table)
        return self._predict_columns(X), warnings

    @property
    def n_columns(self) -> int:
        """How many raw columns a client sends: the stage's columns, else the network's inputs."""
        return self.n_inputs if self.preprocessor is None else len(self.preprocessor.columns)

    def network_inputs(self, X: FloatArray) -> FloatArray:
        """The network's inputs ``(n_x, m)`` for raw numeric columns ``X`` ``(n, m)``: ``X``
        itself, or the stage's input columns (all numeric, in order) encoded, derived features
        included."""
        if self.preprocessor is None:
            return X
        names = self.preprocessor.names
        encoded, _ = self.preprocessor.transform(dict(zip(names, X, strict=True)))
        return encoded

    def column_outputs(self, X: FloatArray) -> FloatArray:
        """Outputs ``(n_y, m)`` in the targets' units for raw numeric columns ``X`` ``(n, m)``
        (see :meth:`network_inputs`)."""
        A = self.outputs(self.network_inputs(X))
        if self.preprocessor is None or self.classes is not None:
            return A
        return self.preprocessor.decode_outputs(A)
