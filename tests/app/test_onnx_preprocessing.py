"""The ONNX graph of a preprocessing stage gives the rows of ``Preprocessor.transform`` (for
chosen and random options, holes and derived features), and its date parts are numpy's; what it
cannot express is a 409 naming it."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import Conflict
from app.services.onnx_dates import date_part_nodes
from app.services.onnx_export import IR_VERSION, OPSET
from app.services.onnx_graph import GraphBuilder
from app.services.onnx_preprocessing import stage_graph
from core.derived import DerivedFeature, Factor
from core.encoders import EncodingOptions, NumberScale
from core.pipeline import Preprocessor
from core.table_values import DATE_PARTS, date_parts

COLUMNS = [
    ("size", "numeric"),
    ("colour", "categorical"),
    ("is new? (ja/nein) ñ=1", "boolean"),  # any header is an input's name
    ("when", "datetime"),
    ("weight", "numeric"),
]
COLOURS = np.array(["red", "blue", "green", "grey", "teal"], dtype=object)
DERIVED = ["size^2", "size*weight", "sin(weight)", "cos(size)*weight^3"]


def _table(rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
    """Raw columns as core holds them, with a fifth of each column missing."""
    holes = rng.random((5, m)) < 0.2
    size = np.where(holes[0], np.nan, rng.normal(2000.0, 500.0, m))
    colour = COLOURS[rng.integers(0, len(COLOURS), m)].copy()
    colour[holes[1]] = None
    flag = np.where(holes[2], np.nan, rng.integers(0, 2, m).astype(float))
    when = np.where(holes[3], np.nan, rng.integers(-3_000_000_000, 4_000_000_000, m) * 1.0)
    weight = np.where(holes[4], np.nan, rng.uniform(0.01, 3.0, m))
    flag_name = COLUMNS[2][0]
    return {"size": size, "colour": colour, flag_name: flag, "when": when, "weight": weight}


def _feeds(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The graph's inputs: a missing category is one of the missing markers."""
    colour = np.array(["" if v is None else v for v in table["colour"]], dtype=object)
    colour[::7] = np.where(colour[::7] == "", "NA", colour[::7])
    return {**table, "colour": colour}


def _run(graph: Any, outputs: list[Any], feeds: dict[str, np.ndarray], opsets: Any) -> Any:
    model = onnx.helper.make_model(
        graph(outputs),
        opset_imports=[onnx.helper.make_opsetid(d, v) for d, v in opsets.items()],
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, feeds)


def _stage_features(stage: Preprocessor, feeds: dict[str, np.ndarray], dtype: Any) -> Any:
    part = stage_graph(onnx, stage, np.dtype(dtype))
    elem = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    output = onnx.helper.make_tensor_value_info(part.output, elem, ["batch", stage.n_x])
    opsets = {"": OPSET} | part.opsets

    def graph(outputs: list[Any]) -> Any:
        return onnx.helper.make_graph(
            part.nodes, "stage", part.inputs, outputs, initializer=part.initializers
        )

    return _run(graph, [output], feeds, opsets)[0]


OPTIONS = [
    EncodingOptions(),
    EncodingOptions(impute="mean", scaling="minmax", missing_indicators=True),
    EncodingOptions(impute="constant", fill_value=-1.5, scaling="none", max_categories=2),
]


@pytest.mark.parametrize("options", OPTIONS)
def test_the_graph_encodes_as_the_stage_does(options: EncodingOptions) -> None:
    rng = np.random.default_rng(4)
    stage = Preprocessor.fit(_table(rng, 300), COLUMNS, options, derived=DERIVED)
    table = _table(rng, 200)
    table["colour"][:3] = ["purple", None, "  red"]  # unseen; missing; not trimmed: unseen
    expected, _ = stage.transform(table)
    got = _stage_features(stage, _feeds(table), "float64")
    assert got.shape == (200, stage.n_x)
    np.testing.assert_allclose(got, expected.T, rtol=1e-12, atol=1e-12)
    bucket = stage.feature_names().index("colour=<other>")
    assert got[:3, bucket].tolist() == [1.0, 0.0, 1.0]
    single = _stage_features(stage, _feeds(table), "float32")
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, expected.T.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_date_parts_are_numpys() -> None:
    rng = np.random.default_rng(0)
    # Wide spans (years -2000 to 4000), each side of the epoch and of leap days and years.
    seconds = np.concatenate(
        [
            rng.integers(-125_000_000_000, 64_000_000_000, 2000) * 1.0,
            np.array([-1.0, 0.0, 86_399.0, 86_400.0, 951_782_400.0, 951_868_800.0]),
            np.array([4_107_542_400.0, 4_102_444_800.0 - 1, -2_208_988_800.0, np.nan]),
            rng.uniform(-1e9, 1e9, 200),  # fractions of seconds, truncated as numpy does
        ]
    )
    g = GraphBuilder(onnx, "t/")
    parts = date_part_nodes(g, "seconds", DATE_PARTS)
    outputs = [
        onnx.helper.make_tensor_value_info(parts[p], onnx.TensorProto.INT64, ["n"])
        for p in DATE_PARTS
    ]
    inputs = [onnx.helper.make_tensor_value_info("seconds", onnx.TensorProto.DOUBLE, ["n"])]

    def graph(outputs: list[Any]) -> Any:
        return onnx.helper.make_graph(g.nodes, "dates", inputs, outputs, initializer=g.initializers)

    got = np.array(_run(graph, outputs, {"seconds": seconds}, {"": OPSET}), dtype=np.float64)
    expected = date_parts(seconds, DATE_PARTS)
    present = ~np.isnan(seconds)
    assert np.array_equal(got[:, present], expected[:, present])


def test_what_the_graph_cannot_express_is_named() -> None:
    stage = Preprocessor.fit(_table(np.random.default_rng(1), 50), COLUMNS)
    stage.derived = [DerivedFeature("tan(size)", (Factor("size", 1, "tan"),))]
    stage.derived_scales = [NumberScale()]
    with pytest.raises(Conflict, match="'tan'") as unsupported:
        stage_graph(onnx, stage, np.dtype("float64"))
    assert unsupported.value.code == "onnx_preprocessing_unsupported"
    for name in ["values", "stage/x", ""]:
        named = Preprocessor.fit({name: np.array([1.0, 2.0])}, [(name, "numeric")])
        with pytest.raises(Conflict, match=repr(name)) as conflict:
            stage_graph(onnx, named, np.dtype("float64"))
        assert conflict.value.code == "onnx_column_name_conflict"


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    impute=st.sampled_from(["median", "mean", "constant"]),
    scaling=st.sampled_from(["standard", "minmax", "none"]),
    max_categories=st.none() | st.integers(1, 4),
    indicators=st.booleans(),
    derived=st.lists(st.sampled_from(DERIVED), max_size=3, unique=True),
)
def test_random_stages_encode_alike(
    seed: int,
    impute: str,
    scaling: str,
    max_categories: int | None,
    indicators: bool,
    derived: list[str],
) -> None:
    rng = np.random.default_rng(seed)
    options = EncodingOptions(impute, 0.5, scaling, max_categories, indicators)
    stage = Preprocessor.fit(_table(rng, 40), COLUMNS, options, derived=derived)
    table = _table(rng, 30)
    expected, _ = stage.transform(table)
    got = _stage_features(stage, _feeds(table), "float64")
    np.testing.assert_allclose(got, expected.T, rtol=1e-12, atol=1e-12)
