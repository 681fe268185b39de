"""The inference entry point: both backends agree with the engine's reference forward pass for
every activation, output and dtype; the class rule; which backend answers which rows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.activations import HIDDEN_ACTIVATIONS
from core.decision import class_index, class_indices
from core.errors import CoreError
from core.inference import Inference, OutputNotFiniteError, columns_to_rows, rows_to_columns
from core.network import ANN
from core.pipeline import Preprocessor

OUTPUTS = {"sigmoid": 1, "softmax": 3, "linear": 2, "relu": 2}
CLASSES = {"sigmoid": ("no", "yes"), "softmax": ("a", "b", "c"), "linear": None, "relu": None}


def _reference(ann: ANN, rows: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return ann.forward_propagation(rows.T)[f"A{ann.n_layers}"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("hidden", "output"), list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUTS)))
def test_numpy_backend_matches_the_engine(hidden: str, output: str, dtype: str) -> None:
    ann = ANN(3, [5, 4], OUTPUTS[output], hidden_activation=hidden, output_activation=output,
              seed=7, dtype=dtype)  # fmt: skip
    rows = np.random.default_rng(0).normal(scale=3.0, size=(50, 3))
    served = Inference(ann).outputs(rows_to_columns(rows))
    reference = _reference(ann, rows)
    assert served.dtype == reference.dtype and served.shape == reference.shape
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(served, reference, rtol=tolerance, atol=tolerance * 1e-2)


@pytest.mark.parametrize(("hidden", "output"), list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUTS)))
def test_both_backends_answer_alike(hidden: str, output: str) -> None:
    ann = ANN(3, [4, 3], OUTPUTS[output], hidden_activation=hidden, output_activation=output,
              seed=4)  # fmt: skip
    inference = Inference(ann, CLASSES[output])
    rows = np.random.default_rng(5).normal(scale=2.0, size=(3, 3))
    plain = inference.predict(rows.tolist())
    numpy = inference.predict(rows)
    assert isinstance(plain.outputs, list) and isinstance(numpy.outputs, np.ndarray)
    np.testing.assert_allclose(plain.outputs, numpy.outputs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(numpy.outputs, _reference(ann, rows).T, rtol=1e-12, atol=0)
    assert plain.labels == numpy.labels
    if numpy.probabilities is None:
        assert plain.probabilities is None and plain.indices is None
    else:
        np.testing.assert_allclose(plain.probabilities, numpy.probabilities, rtol=1e-12, atol=0)
        assert list(plain.indices or []) == np.asarray(numpy.indices).tolist()


def test_labels_and_probabilities_follow_the_class_rule() -> None:
    binary = ANN(2, 3, 1, seed=1)
    rows = np.random.default_rng(1).normal(size=(20, 2))
    prediction = Inference(binary, ("no", "yes")).predict(rows)
    p = binary.predict_proba(rows.T)[0]
    np.testing.assert_allclose(prediction.probabilities, np.stack([1 - p, p], axis=1), rtol=1e-12)
    assert prediction.labels == ["yes" if v > 0.5 else "no" for v in p]


def test_the_class_rule_in_numpy_and_in_plain_python() -> None:
    A = np.array([[0.2, 0.5, 0.7, 0.5000001]])
    assert class_indices(A).tolist() == [0, 0, 1, 1]
    assert [class_index([a]) for a in A[0]] == [0, 0, 1, 1]
    S = np.array([[0.1, 0.4, 0.3], [0.6, 0.4, 0.3], [0.3, 0.2, 0.4]])
    assert class_indices(S).tolist() == [1, 0, 2]  # ties go to the first
    assert [class_index(list(S[:, j])) for j in range(3)] == [1, 0, 2]


def test_the_plain_backend_leaves_anything_unusual_to_the_numpy_checks() -> None:
    inference = Inference(ANN(2, 3, 1, seed=1), ("no", "yes"))
    assert isinstance(inference.predict([[1, 2]]).outputs, list)  # JSON integers are numbers
    assert inference.predict([[1, -2]]).outputs == inference.predict([[1.0, -2.0]]).outputs
    for rows in (
        [[True, 1.0]],
        [[2**60, 1.0]],
        [[1.0, 2.0]] * 6,  # over max_rows: left to the check, which refuses them
    ):
        answer = inference.predict(rows, max_rows=5, check=lambda r: np.asarray(r, float)[:, :2])
        assert isinstance(answer.outputs, np.ndarray), rows
    for rows in ([["1", 2.0]], [[None, 1.0]], [[float("nan"), 1.0]], [[1.0, 2.0, 3.0]], [1.0]):
        with pytest.raises(CoreError):
            inference.predict(rows)
    assert inference.scalar is not None
    many = [[0.5, 0.5]] * (inference.scalar.max_samples + 1)
    assert isinstance(inference.predict(many).outputs, np.ndarray)
    float32 = Inference(ANN(2, 3, 1, seed=1, dtype="float32"))
    assert float32.scalar is None and isinstance(float32.predict([[1.0, 2.0]]).outputs, np.ndarray)


def test_an_overflowing_output_is_an_error_of_its_own() -> None:
    ann = ANN(2, [], 1, output_activation="linear", seed=1)
    ann.W1 = np.array([[10.0, 10.0]])
    with pytest.raises(OutputNotFiniteError):
        Inference(ann).predict([[1e308, 1e308]])


def test_rows_and_columns_round_trip_contiguously() -> None:
    rows = np.arange(12.0).reshape(4, 3)
    X = rows_to_columns(rows)
    assert X.shape == (3, 4) and X.flags.c_contiguous
    back = columns_to_rows(X)
    assert back.flags.c_contiguous and np.array_equal(back, rows)


def test_network_inputs_encode_raw_columns_through_the_stage() -> None:
    rng = np.random.default_rng(3)
    table = {"x1": rng.normal(2.0, 3.0, 40), "x2": rng.normal(-1.0, 0.5, 40)}
    stage = Preprocessor.fit(
        table, [("x1", "numeric"), ("x2", "numeric")], derived=["x1*x2", "sin(x1)"]
    )
    ann = ANN(4, [3], 1, seed=2)
    inference = Inference(ann, ("no", "yes"), stage)
    assert (inference.n_columns, inference.n_inputs) == (2, 4)
    X = np.array([[0.0, 1.0, -2.0], [3.0, 0.5, 1.0]])
    encoded = inference.network_inputs(X)
    np.testing.assert_array_equal(encoded, stage.transform({"x1": X[0], "x2": X[1]})[0])
    assert encoded.shape == (4, 3)
    np.testing.assert_allclose(inference.column_outputs(X), inference.outputs(encoded))
    outputs = inference.predict(X.T.tolist()).outputs
    np.testing.assert_allclose(inference.layer_outputs(encoded)[-1].T, outputs)
    plain = Inference(ANN(2, [3], 1, seed=2))
    assert plain.n_columns == 2 and plain.network_inputs(X) is X
