"""The preprocessing stage: encoders per type, layout kept on refit, JSON round trip, and
Inference applying it (regression outputs mapped back to the targets' units)."""

from __future__ import annotations

import numpy as np
import pytest

from core.encoders import EncodingOptions
from core.inference import Inference
from core.network import ANN
from core.pipeline import Pipeline, Preprocessor, pipeline_from_bytes, pipeline_to_bytes
from core.table_values import coerce, date_parts

COLUMNS = [("a", "numeric"), ("c", "categorical"), ("d", "datetime"), ("b", "boolean")]


def table() -> dict[str, np.ndarray]:
    return {
        "a": np.array([1.0, np.nan, 3.0, 10.0]),
        "c": np.array(["r", "g", None, "r"], dtype=object),
        "d": coerce(["2020-01-01", "2021-06-05 10:30", None, "2022-02-02"], "datetime")[0],
        "b": coerce([True, "no", None, 1], "boolean")[0],
    }


def test_encoding_and_round_trip() -> None:
    options = EncodingOptions(missing_indicators=True)
    stage = Preprocessor.fit(table(), COLUMNS, options, derived=["a^2", "sin(a)*a"])
    X, warnings = stage.transform(table())
    assert X.shape == (stage.n_x, 4) and np.isfinite(X).all() and warnings == []
    assert stage.feature_names()[:5] == ["a", "a_missing", "c=g", "c=r", "c=<other>"]
    assert X[0].mean() == pytest.approx(0.0)  # standardized after the median fill
    again = Preprocessor.from_dict(stage.to_dict())
    assert np.array_equal(again.transform(table())[0], X)


def test_unseen_categories_go_to_the_bucket() -> None:
    stage = Preprocessor.fit(table(), COLUMNS)
    new = stage.table_from_columns({"a": [2], "c": ["blue"], "d": [None], "b": [None]})
    X, warnings = stage.transform(new)
    names = stage.feature_names()
    assert X[names.index("c=<other>"), 0] == 1.0
    assert "blue" in warnings[0]


def test_refit_keeps_the_layout() -> None:
    stage = Preprocessor.fit(table(), COLUMNS)
    rows = {k: v[:2] for k, v in table().items()}
    refitted = stage.refit(rows)
    assert refitted.feature_names() == stage.feature_names()
    assert refitted.encoders[0].to_dict()["scale"][0] == 1.0  # the median of the rows given


def test_date_parts() -> None:
    seconds = coerce(["2024-03-04 05:06"], "datetime")[0]  # a Monday
    parts = date_parts(seconds, ["year", "month", "day_of_week", "day_of_year", "hour", "minute"])
    assert parts[:, 0].tolist() == [2024, 3, 0, 64, 5, 6]


def test_inference_maps_regression_outputs_back() -> None:
    targets = np.array([100.0, 200.0, 300.0, 400.0])
    stage = Preprocessor.fit(table(), COLUMNS, targets=targets)
    ann = ANN(stage.n_x, [3], 1, output_activation="linear", seed=0)
    pipeline = pipeline_from_bytes(pipeline_to_bytes(Pipeline(stage, ann)))
    assert pipeline.preprocessor is not None
    inference = Inference(pipeline.ann, None, pipeline.preprocessor)
    prediction, _ = inference.predict_table(table())
    X, _ = stage.transform(table())
    expected = ann.forward_propagation(X)["A2"]
    scale = stage.target
    assert scale is not None
    np.testing.assert_allclose(
        np.asarray(prediction.outputs)[:, 0], expected[0] * scale.scale + scale.center
    )
