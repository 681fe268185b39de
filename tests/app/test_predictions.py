"""The serving forward pass agrees with the engine's for every activation, output and dtype."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.services.errors import InvalidInput, LimitExceeded
from app.services.layout import rows_to_columns
from app.services.model_cache import LoadedModel, ServedModel, network_layers
from app.services.predictions import check_features, csv_table, forward, number_rows, predict
from core.activations import HIDDEN_ACTIVATIONS
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
    )
    return LoadedModel(model, 1, ann, network_layers(ann))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("hidden", "output"), list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUTS)))
def test_forward_matches_the_engine(hidden: str, output: str, dtype: str) -> None:
    ann = ANN(
        3,
        [5, 4],
        OUTPUTS[output],
        hidden_activation=hidden,
        output_activation=output,
        seed=7,
        dtype=dtype,
    )
    rows = np.random.default_rng(0).normal(scale=3.0, size=(50, 3))
    with np.errstate(over="ignore"):
        served = forward(_loaded(ann, None), rows_to_columns(rows))
    reference = ann.forward_propagation(rows.T)[f"A{ann.n_layers}"]
    assert served.dtype == reference.dtype and served.shape == reference.shape
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(served, reference, rtol=tolerance, atol=tolerance * 1e-2)


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
