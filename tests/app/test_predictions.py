"""The serving forward pass agrees with the engine's for every activation, output and dtype."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from app.services.errors import InvalidInput, LimitExceeded
from app.services.layout import rows_to_columns
from app.services.loaded_model import LoadedModel, ServedModel, network_layers
from app.services.predictions import (
    check_features,
    csv_table,
    forward,
    number_rows,
    predict,
    predict_plain,
)
from core.activations import HIDDEN_ACTIVATIONS
from core.network import ANN
from core.preprocessing import LabelCodec
from core.scalar_network import ScalarNetwork

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


def _plain_loaded(ann: ANN, classes: tuple[int | str, ...] | None) -> LoadedModel:
    loaded = _loaded(ann, classes)
    return replace(loaded, scalar=ScalarNetwork.from_ann(ann))


@pytest.mark.parametrize(
    ("output", "classes"),
    [
        ("sigmoid", ("no", "yes")),
        ("softmax", ("a", "b", "c")),
        ("linear", None),
        ("relu", None),
    ],
)
def test_the_plain_path_answers_as_the_numpy_path(
    output: str, classes: tuple[str, ...] | None
) -> None:
    n_y = len(classes) if output == "softmax" and classes else OUTPUTS[output]
    ann = ANN(3, [4, 3], n_y, output_activation=output, seed=4)
    loaded = _plain_loaded(ann, classes)
    rows = np.random.default_rng(5).normal(scale=2.0, size=(3, 3))
    plain = predict_plain(loaded, rows.tolist(), 100)
    assert plain is not None
    reference = predict(loaded, rows)
    np.testing.assert_allclose(plain.outputs, reference.outputs, rtol=1e-12, atol=0)
    assert plain.labels == reference.labels
    if reference.probabilities is None:
        assert plain.probabilities is None
    else:
        got = np.array(plain.probabilities, dtype=np.float64)
        np.testing.assert_allclose(got, reference.probabilities, rtol=1e-12, atol=0)
    assert csv_table(plain).splitlines()[0] == csv_table(reference).splitlines()[0]


def test_the_plain_path_leaves_anything_unusual_to_the_numpy_checks() -> None:
    loaded = _plain_loaded(ANN(2, 3, 1, seed=1), ("no", "yes"))
    assert predict_plain(loaded, [[1, 2]], 5) is not None  # JSON integers are numbers
    ints = predict_plain(loaded, [[1, -2]], 5)
    floats = predict_plain(loaded, [[1.0, -2.0]], 5)
    assert ints is not None and floats is not None and ints.outputs == floats.outputs
    for rows in (
        [[True, 1.0]],
        [["1", 2.0]],
        [[None, 1.0]],
        [[float("nan"), 1.0]],
        [[float("inf"), 1.0]],
        [[2**60, 1.0]],
        [[1.0, 2.0, 3.0]],
        [[1.0]],
        [1.0, 2.0],
        [],
        [[1.0, 2.0]] * 6,  # over max_rows
        {"inputs": [[1.0, 2.0]]},
        "rows",
    ):
        assert predict_plain(loaded, rows, 5) is None, rows
    network = loaded.scalar
    assert network is not None
    too_many = [[0.5, 0.5]] * (network.max_samples + 1)
    assert predict_plain(loaded, too_many, 10**6) is None
    assert (
        predict_plain(_loaded(ANN(2, 3, 1, seed=1, dtype="float32"), None), [[1.0, 2.0]], 5) is None
    )


def test_an_overflowing_output_is_left_to_the_numpy_path() -> None:
    ann = ANN(2, [], 1, output_activation="linear", seed=1)
    ann.W1 = np.array([[10.0, 10.0]])
    loaded = _plain_loaded(ann, None)
    assert predict_plain(loaded, [[1e308, 1e308]], 5) is None
    with pytest.raises(InvalidInput) as caught:
        predict(loaded, np.array([[1e308, 1e308]]))
    assert caught.value.code == "output_not_finite"
