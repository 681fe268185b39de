"""Serving predictions: rows checked field by field, labels, CSV, and either backend answering."""

from __future__ import annotations

import numpy as np
import pytest

from app.errors import InvalidInput, LimitExceeded
from app.services.loaded_model import LoadedModel, ServedModel
from app.services.predictions import (
    PlainPrediction,
    Prediction,
    check_features,
    csv_table,
    number_rows,
    predict,
    predict_rows,
)
from core.network import ANN
from core.preprocessing import LabelCodec

OUTPUTS = {"sigmoid": 1, "softmax": 3, "linear": 2, "relu": 2}


def _loaded(ann: ANN, classes: tuple[int | str, ...] | None) -> LoadedModel:
    model = ServedModel(
        id="mdl_0123456789abcdef",
        name="unit",
        task="regression" if classes is None else "binary",
        classes=classes,
        n_inputs=ann.n_x,
        n_outputs=ann.n_y,
        dtype=ann.dtype.name,
        current_version=1,
        dataset_id=None,
        init="auto",
        distribution="normal",
        codec=LabelCodec(classes) if classes is not None else None,
        tenant="default",
    )
    return LoadedModel.of(model, 1, ann)


def test_predict_labels_and_probabilities() -> None:
    binary = ANN(2, 3, 1, seed=1)
    rows = np.random.default_rng(1).normal(size=(20, 2))
    prediction = predict(_loaded(binary, ("no", "yes")), rows)
    p = binary.predict_proba(rows.T)[0]
    assert prediction.probabilities is not None and prediction.labels is not None
    np.testing.assert_allclose(prediction.probabilities, np.stack([1 - p, p], axis=1), rtol=1e-12)
    assert prediction.labels == ["yes" if v > 0.5 else "no" for v in p]
    assert prediction.trained


def test_check_features_names_the_problem() -> None:
    assert check_features([[1, 2]], 2, 5).dtype == np.float64
    for rows, code in [
        ([[1, 2, 3]], "feature_count_mismatch"),
        ([[float("nan"), 1]], "not_finite"),
        ([["1", 2]], "invalid_inputs"),
        ([[1], [1, 2]], "invalid_inputs"),
        ([], "invalid_inputs"),
        ("rows", "invalid_inputs"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            check_features(rows, 2, 5)
        assert caught.value.code == code
    with pytest.raises(LimitExceeded):
        check_features([[1, 2]] * 6, 2, 5)


def test_number_rows_and_csv_round_trip() -> None:
    values = np.random.default_rng(2).normal(size=(7, 3))
    rows = number_rows(values)
    assert [[float(v) for v in row.split(",")] for row in rows] == values.tolist()
    assert number_rows(values[:, :1]) == [repr(v) for v in values[:, 0].tolist()]
    ann = ANN(2, 3, 3, output_activation="softmax", seed=3)
    prediction = predict(_loaded(ann, ("a,b", 'say "c"', "d")), values[:, :2])
    lines = csv_table(prediction).splitlines()
    assert lines[0] == 'prediction,"p_a,b","p_say ""c""",p_d'
    assert len(lines) == 8


@pytest.mark.parametrize(
    ("output", "classes"),
    [
        ("sigmoid", ("no", "yes")),
        ("softmax", ("a", "b", "c")),
        ("linear", None),
        ("relu", None),
    ],
)
def test_either_backend_answers_the_same_body(output: str, classes: tuple[str, ...] | None) -> None:
    n_y = len(classes) if output == "softmax" and classes else OUTPUTS[output]
    loaded = _loaded(ANN(3, [4, 3], n_y, output_activation=output, seed=4), classes)
    rows = np.random.default_rng(5).normal(scale=2.0, size=(3, 3))
    plain = predict_rows(loaded, rows.tolist(), 100)
    reference = predict(loaded, rows)
    assert isinstance(plain, PlainPrediction) and isinstance(reference, Prediction)
    np.testing.assert_allclose(plain.outputs, reference.outputs, rtol=1e-12, atol=0)
    assert plain.labels == reference.labels
    assert csv_table(plain).splitlines()[0] == csv_table(reference).splitlines()[0]


def test_rows_the_plain_backend_leaves_are_checked_field_by_field() -> None:
    loaded = _loaded(ANN(2, 3, 1, seed=1), ("no", "yes"))
    for rows, code in [
        ([["1", 2.0]], "invalid_inputs"),
        ([[float("nan"), 1.0]], "not_finite"),
        ([[1.0, 2.0, 3.0]], "feature_count_mismatch"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            predict_rows(loaded, rows, 5)
        assert caught.value.code == code
    with pytest.raises(LimitExceeded):
        predict_rows(loaded, [[1.0, 2.0]] * 6, 5)


def test_an_overflowing_output_is_422() -> None:
    ann = ANN(2, [], 1, output_activation="linear", seed=1)
    ann.W1 = np.array([[10.0, 10.0]])
    loaded = _loaded(ann, None)
    for rows in ([[1e308, 1e308]], np.array([[1e308, 1e308]])):
        with pytest.raises(InvalidInput) as caught:
            predict_rows(loaded, rows, 5)
        assert caught.value.code == "output_not_finite"
