"""A model's preprocessing stage and the network behind it.

:class:`Preprocessor` maps a table of raw columns (:mod:`core.table_values`) to the network's
input ``X`` ``(n_x, m)``: one encoder per column (:mod:`core.encoders`) in the upload's order,
then the derived features (:mod:`core.derived`). For regression it also standardizes the
targets for training, :math:`y' = (y - \\mu_y) / s_y`, and maps outputs back,
:math:`\\hat y = A s_y + \\mu_y`. Every statistic is fitted on training rows only.

The stage is plain JSON (:meth:`Preprocessor.to_dict`); :func:`pipeline_to_bytes` stores it in
the metadata of a model version's ``.npz`` next to the network's parameters (no pickle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.derived import DerivedFeature, parse_derived
from core.encoders import (
    Encoder,
    EncodingOptions,
    NumberScale,
    NumericEncoder,
    encode_all,
    encoder_from_dict,
    fit_encoder,
)
from core.errors import ConfigurationError, CoreError
from core.network import ANN
from core.serialization import FORMAT_VERSION, npz_bytes, npz_from_bytes
from core.table_values import DEFAULT_NA_VALUES, Column, Table, coerce

FloatArray = NDArray[np.float64]
PREPROCESSING_KEY = "preprocessing"


class TableValuesError(CoreError):
    """Client values that do not fit the model's columns; ``problems`` lists each bad column as
    ``(column, code, row positions)`` with code ``not_numeric`` (not readable as the column's
    type), ``out_of_range`` or ``missing_column``."""

    def __init__(self, message: str, problems: list[tuple[str, str, list[int]]]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class TargetScale:
    """Regression targets as trained on: ``(y - center) / scale``."""

    center: float
    scale: float

    @classmethod
    def fit(cls, y: FloatArray, center: bool) -> TargetScale:
        """From training targets ``y`` ``(m,)``; ``center`` False keeps 0 at 0 (a relu output)."""
        spread = float(np.sqrt(np.mean(y**2))) if not center else float(y.std())
        return cls(float(y.mean()) if center else 0.0, spread if spread > 0 else 1.0)


@dataclass
class Preprocessor:
    """The fitted stage: columns ``(name, type)`` in order, their encoders, derived features."""

    columns: list[tuple[str, str]]
    encoders: list[Encoder]
    options: EncodingOptions = field(default_factory=EncodingOptions)
    derived: list[DerivedFeature] = field(default_factory=list)
    derived_scales: list[NumberScale] = field(default_factory=list)
    target: TargetScale | None = None
    na_values: tuple[str, ...] = DEFAULT_NA_VALUES

    # Fitting ---------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        table: Table,
        columns: Sequence[tuple[str, str]],
        options: EncodingOptions | None = None,
        *,
        derived: Sequence[str] = (),
        targets: FloatArray | None = None,
        center_targets: bool = True,
        na_values: Sequence[str] = DEFAULT_NA_VALUES,
    ) -> Preprocessor:
        """A stage fitted on the training rows ``table``; ``targets`` (regression only) are the
        training targets ``(m,)`` to standardize."""
        numeric = [name for name, kind in columns if kind == "numeric"]
        features = [parse_derived(text, numeric) for text in derived]
        options = options or EncodingOptions()
        encoders = [fit_encoder(kind, name, table[name], options) for name, kind in columns]
        stage = cls(list(columns), encoders, options, features, [], None, tuple(na_values))
        return stage.refit(table, targets, center_targets=center_targets)

    def refit(
        self, table: Table, targets: FloatArray | None = None, *, center_targets: bool = True
    ) -> Preprocessor:
        """A copy with every statistic fitted anew on training rows ``table``; the layout
        (columns, categories, date parts, indicators) stays, so the network's inputs keep
        their meaning."""
        encoders = [encoder_from_dict(e.to_dict()) for e in self.encoders]
        for encoder, (name, _) in zip(encoders, self.columns, strict=True):
            encoder.refit(table[name], self.options)
        stage = replace(self, encoders=encoders)
        raw = stage._imputed_numbers(table)
        scales = [NumberScale.fit(f.values(raw), self.options) for f in self.derived]
        target = TargetScale.fit(targets, center_targets) if targets is not None else None
        return replace(stage, derived_scales=scales, target=target)

    # Encoding --------------------------------------------------------------------------------
    def _imputed_numbers(self, table: Table) -> dict[str, FloatArray]:
        return {
            e.name: np.where(np.isnan(table[e.name]), e.scale.fill, table[e.name])
            for e in self.encoders
            if isinstance(e, NumericEncoder)
        }

    def transform(self, table: Table) -> tuple[FloatArray, list[str]]:
        """The network's input ``X`` ``(n_x, m)`` for ``table``, and warnings (unseen values)."""
        warnings: list[str] = []
        X = encode_all(self.encoders, [table[name] for name, _ in self.columns], warnings)
        if self.derived:
            raw = self._imputed_numbers(table)
            extra = [
                s.apply(f.values(raw))
                for f, s in zip(self.derived, self.derived_scales, strict=True)
            ]
            X = np.concatenate([X, np.array(extra)])
        return X, warnings

    def encode_targets(self, y: FloatArray) -> FloatArray:
        """Regression targets ``(m,)`` as trained on, ``(1, m)``."""
        values = np.asarray(y, dtype=np.float64)[np.newaxis, :]
        if self.target is None:
            return values
        return (values - self.target.center) / self.target.scale

    def decode_outputs(self, A: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        """Network outputs ``(n_y, m)`` in the targets' units."""
        if self.target is None:
            return A
        return A * self.target.scale + self.target.center

    # Client values ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """The input columns, in order."""
        return [name for name, _ in self.columns]

    def table_from_columns(self, values: Mapping[str, Sequence[Any] | NDArray[Any]]) -> Table:
        """A table of the model's columns from client values per column (any JSON values).

        Raises :class:`TableValuesError` naming every missing column and every column with
        values it cannot read.
        """
        problems: list[tuple[str, str, list[int]]] = [
            (name, "missing_column", []) for name in self.names if name not in values
        ]
        table: dict[str, Column] = {}
        for name, kind in self.columns:
            if name not in values:
                continue
            column, bad, out_of_range = coerce(values[name], kind, self.na_values)
            if bad:
                problems.append((name, "not_numeric" if kind == "numeric" else "bad_value", bad))
            if out_of_range:
                problems.append((name, "out_of_range", out_of_range))
            table[name] = column
        if problems:
            raise TableValuesError(f"{len(problems)} column(s) do not fit the model", problems)
        return table

    def table_from_rows(self, rows: Sequence[Sequence[Any]]) -> Table:
        """A table from rows holding the model's columns in order."""
        n = len(self.columns)
        for i, row in enumerate(rows):
            if not isinstance(row, list | tuple) or len(row) != n:
                raise CoreError(f"row {i} must hold {n} values ({', '.join(self.names)}).")
        return self.table_from_columns(
            {name: [row[j] for row in rows] for j, name in enumerate(self.names)}
        )

    # Description -----------------------------------------------------------------------------
    @property
    def n_x(self) -> int:
        """Width of the encoded input."""
        return sum(e.width for e in self.encoders) + len(self.derived)

    def feature_names(self) -> list[str]:
        """One name per row of ``X``."""
        names = [n for e in self.encoders for n in e.feature_names()]
        return names + [f.expression for f in self.derived]

    def input_schema(self) -> list[dict[str, Any]]:
        """The columns clients send, in order: name, type, encoded width, categories."""
        return [e.schema() for e in self.encoders]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "columns": [list(c) for c in self.columns],
            "encoders": [e.to_dict() for e in self.encoders],
            "options": self.options.to_dict(),
            "derived": [f.expression for f in self.derived],
            "derived_scales": [s.to_list() for s in self.derived_scales],
            "target": None if self.target is None else [self.target.center, self.target.scale],
            "na_values": list(self.na_values),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessor:
        """Inverse of :meth:`to_dict`."""
        columns = [(str(name), str(kind)) for name, kind in data["columns"]]
        numeric = [name for name, kind in columns if kind == "numeric"]
        target = data.get("target")
        return cls(
            columns,
            [encoder_from_dict(e) for e in data["encoders"]],
            EncodingOptions(**data["options"]),
            [parse_derived(text, numeric) for text in data["derived"]],
            [NumberScale(*s) for s in data["derived_scales"]],
            TargetScale(*target) if target is not None else None,
            tuple(data["na_values"]),
        )


@dataclass(frozen=True)
class Pipeline:
    """A preprocessing stage and the network it feeds (``ann.n_x == preprocessor.n_x``)."""

    preprocessor: Preprocessor | None
    ann: ANN

    def __post_init__(self) -> None:
        if self.preprocessor is not None and self.preprocessor.n_x != self.ann.n_x:
            raise ConfigurationError(
                f"the preprocessing gives {self.preprocessor.n_x} inputs, "
                f"the network takes {self.ann.n_x}."
            )


def pipeline_to_bytes(pipeline: Pipeline) -> bytes:
    """The network's ``.npz`` (as :func:`core.serialization.model_to_bytes`) with the stage in
    its JSON metadata."""
    ann = pipeline.ann
    metadata: dict[str, Any] = {
        "kind": "model",
        "format": FORMAT_VERSION,
        "architecture": ann.architecture(),
    }
    if pipeline.preprocessor is not None:
        metadata[PREPROCESSING_KEY] = pipeline.preprocessor.to_dict()
    return npz_bytes(ann.parameters, metadata)


def pipeline_from_bytes(data: bytes) -> Pipeline:
    """Inverse of :func:`pipeline_to_bytes`; reads plain model files too (no stage)."""
    arrays, metadata = npz_from_bytes(data)
    if metadata.get("kind") != "model":
        raise ConfigurationError(f"not a model file (kind {metadata.get('kind')!r}).")
    ann = ANN.from_architecture(metadata["architecture"], arrays)
    stage = metadata.get(PREPROCESSING_KEY)
    return Pipeline(Preprocessor.from_dict(stage) if stage is not None else None, ann)
