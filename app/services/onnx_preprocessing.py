"""A model's preprocessing stage as ONNX nodes: the raw columns in, the network's input out.

The graph has one input per column of the stage (:class:`core.pipeline.Preprocessor`), named
by the column, of shape ``[batch]``:

* ``numeric``: double, NaN where missing;
* ``boolean``: double 0 or 1, NaN where missing;
* ``datetime``: double seconds since 1970-01-01 UTC, NaN where missing (parts by
  :mod:`app.services.onnx_dates`);
* ``categorical``: string, matched exactly (no trimming); the stage's missing markers (``""``,
  ``"NA"``, ... as :attr:`Preprocessor.na_values`) are missing, other values unseen in training
  go to the bucket (``ai.onnx.ml`` ``LabelEncoder`` to an index, then ``Equal`` against
  ``0..k`` for the one-hot rows).

Each column is encoded as :mod:`core.encoders` encodes it, with the same float64 operations
(imputation ``Where(IsNaN(x), fill, x)``, scaling ``(x - center) / scale``), and the derived
features of :mod:`core.derived` follow (``Pow``, ``Sin``, ``Cos``, ``Mul`` of the imputed
columns); their concatenation is the network's input ``[batch, n_x]`` in the stage's feature
order, cast to float for a float32 network. What the graph cannot express is a
:class:`app.errors.Conflict` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import Conflict
from app.services.onnx_dates import date_part_nodes
from app.services.onnx_graph import GraphBuilder
from core.derived import DerivedFeature
from core.encoders import NumberScale, NumericEncoder
from core.pipeline import Preprocessor

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 2  # LabelEncoder with keys_strings / values_int64s
STAGE_SCOPE = "stage/"
NETWORK_SCOPE = "network/"
OUTPUT_NAMES = ("probabilities", "class_index", "values")
FUNCTIONS = {"sin": "Sin", "cos": "Cos"}
MISSING_CATEGORY = -1  # the LabelEncoder's index of a missing marker

ColumnNodes = Callable[[GraphBuilder, Any, str, Preprocessor], tuple[list[str], str]]
"""An encoder's nodes: ``(g, encoder, input, stage)`` to its rows (double ``[batch, k]``
tensors, in the encoder's order) and its missing mask (bool ``[batch]``)."""


@dataclass(frozen=True)
class StageGraph:
    """The stage's part of a graph: column inputs, nodes, constants, the encoded input's name,
    and the operator sets beyond the default one that it uses."""

    inputs: list[Any]
    nodes: list[Any]
    initializers: list[Any]
    output: str
    opsets: dict[str, int]


def _column(g: GraphBuilder, row: str) -> str:
    """``[batch]`` as ``[batch, 1]``."""
    return g.op("Unsqueeze", row, g.i64([1]))


def _scaled(g: GraphBuilder, x: str, missing: str, scale: NumberScale) -> str:
    filled = g.op("Where", missing, g.f64(scale.fill), x)
    return g.op("Div", g.op("Sub", filled, g.f64(scale.center)), g.f64(scale.scale))


def _numeric(g: GraphBuilder, encoder: Any, x: str, stage: Preprocessor) -> tuple[list[str], str]:
    missing = g.op("IsNaN", x)
    return [_column(g, _scaled(g, x, missing, encoder.scale))], missing


def _boolean(g: GraphBuilder, encoder: Any, x: str, stage: Preprocessor) -> tuple[list[str], str]:
    missing = g.op("IsNaN", x)
    return [_column(g, g.op("Where", missing, g.f64(encoder.fill), x))], missing


def _datetime(g: GraphBuilder, encoder: Any, x: str, stage: Preprocessor) -> tuple[list[str], str]:
    missing = g.op("IsNaN", x)
    parts = date_part_nodes(g, x, encoder.parts)
    double = g.onnx.TensorProto.DOUBLE
    rows = [
        _column(g, _scaled(g, g.op("Cast", parts[part], to=double), missing, scale))
        for part, scale in zip(encoder.parts, encoder.scales, strict=True)
    ]
    return rows, missing


def _categorical(
    g: GraphBuilder, encoder: Any, x: str, stage: Preprocessor
) -> tuple[list[str], str]:
    categories: list[str] = encoder.categories
    bucket = len(categories)
    markers = list(dict.fromkeys(stage.na_values))  # a missing marker wins, as in coerce
    known = [c for c in categories if c not in set(markers)]
    index = g.op(
        "LabelEncoder",
        x,
        domain=ML_DOMAIN,
        keys_strings=markers + known,
        values_int64s=[MISSING_CATEGORY] * len(markers) + [categories.index(c) for c in known],
        default_int64=bucket,
    )
    missing = g.op("Equal", index, g.i64(MISSING_CATEGORY))
    fill = bucket if encoder.fill is None else categories.index(encoder.fill)
    index = g.op("Where", missing, g.i64(fill), index)
    hot = g.op("Equal", g.op("Unsqueeze", index, g.i64([1])), g.i64(np.arange(bucket + 1)))
    return [g.op("Cast", hot, to=g.onnx.TensorProto.DOUBLE)], missing


COLUMN_NODES: dict[str, ColumnNodes] = {
    "numeric": _numeric,
    "boolean": _boolean,
    "datetime": _datetime,
    "categorical": _categorical,
}


def _derived(g: GraphBuilder, feature: DerivedFeature, fills: dict[str, float]) -> str:
    """The unscaled feature, from its numeric inputs imputed with their ``fills``."""
    product: str | None = None
    for factor in feature.factors:
        x = factor.column  # the graph's input of that column
        value = g.op("Where", g.op("IsNaN", x), g.f64(fills[factor.column]), x)
        if factor.function is not None:
            if factor.function not in FUNCTIONS:
                raise Conflict(
                    f"the ONNX export cannot express the function {factor.function!r} of the "
                    f"derived feature {feature.expression!r}",
                    code="onnx_preprocessing_unsupported",
                )
            value = g.op(FUNCTIONS[factor.function], value)
        elif factor.power != 1:
            value = g.op("Pow", value, g.f64(float(factor.power)))
        product = value if product is None else g.op("Mul", product, value)
    if product is None:
        raise Conflict(
            f"the derived feature {feature.expression!r} has no factor",
            code="onnx_preprocessing_unsupported",
        )
    return product


def _check_names(stage: Preprocessor) -> None:
    for name in stage.names:
        if not name or name in OUTPUT_NAMES or name.startswith((STAGE_SCOPE, NETWORK_SCOPE)):
            raise Conflict(
                f"the column {name!r} cannot be an input of the ONNX graph: inputs need a "
                f"name, and the names {list(OUTPUT_NAMES)} and those starting with "
                f"{STAGE_SCOPE!r} or {NETWORK_SCOPE!r} are the graph's own",
                code="onnx_column_name_conflict",
            )


def stage_graph(onnx: Any, stage: Preprocessor, dtype: np.dtype[Any]) -> StageGraph:
    """The nodes of ``stage`` for a network computing in ``dtype`` (float32 or float64)."""
    _check_names(stage)
    g = GraphBuilder(onnx, STAGE_SCOPE)
    TensorProto = onnx.TensorProto
    inputs: list[Any] = []
    rows: list[str] = []
    for encoder in stage.encoders:
        build = COLUMN_NODES.get(encoder.kind)
        if build is None:
            raise Conflict(
                f"the ONNX export cannot express the column {encoder.name!r} of type "
                f"{encoder.kind!r}",
                code="onnx_preprocessing_unsupported",
            )
        elem = TensorProto.STRING if encoder.kind == "categorical" else TensorProto.DOUBLE
        inputs.append(onnx.helper.make_tensor_value_info(encoder.name, elem, ["batch"]))
        encoded, missing = build(g, encoder, encoder.name, stage)
        if encoder.indicator:
            encoded.append(_column(g, g.op("Cast", missing, to=TensorProto.DOUBLE)))
        rows += encoded
    fills = {e.name: e.scale.fill for e in stage.encoders if isinstance(e, NumericEncoder)}
    for feature, scale in zip(stage.derived, stage.derived_scales, strict=True):
        value = _derived(g, feature, fills)
        rows.append(_column(g, _scaled(g, value, g.op("IsNaN", value), scale)))
    features = g.op("Concat", *rows, axis=1)
    if dtype == np.float32:
        features = g.op("Cast", features, to=TensorProto.FLOAT)
    uses_ml = any(e.kind == "categorical" for e in stage.encoders)
    return StageGraph(
        inputs, g.nodes, g.initializers, features, {ML_DOMAIN: ML_OPSET} if uses_ml else {}
    )
