"""Tests for core.metrics, each checked against scikit-learn on random data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from core.errors import CoreError, ShapeError
from core.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_f1,
    r2_score,
    regression_report,
)

labels_pairs = st.integers(2, 5).flatmap(
    lambda k: st.integers(1, 40).flatmap(
        lambda m: st.tuples(
            st.just(k),
            st.lists(st.integers(0, k - 1), min_size=m, max_size=m),
            st.lists(st.integers(0, k - 1), min_size=m, max_size=m),
        )
    )
)


@settings(max_examples=80, deadline=None)
@given(labels_pairs)
def test_classification_metrics_match_sklearn(case):
    k, y_true, y_pred = case
    a, b = np.array(y_true), np.array(y_pred)
    assert accuracy(a, b) == pytest.approx(skm.accuracy_score(a, b))
    C = confusion_matrix(a, b, n_classes=k)
    np.testing.assert_array_equal(C, skm.confusion_matrix(a, b, labels=list(range(k))))
    precision, recall, f1 = precision_recall_f1(C)
    p_ref, r_ref, f_ref, _ = skm.precision_recall_fscore_support(
        a, b, labels=list(range(k)), zero_division=0
    )
    np.testing.assert_allclose(precision, p_ref)
    np.testing.assert_allclose(recall, r_ref)
    np.testing.assert_allclose(f1, f_ref)


def test_precision_recall_f1_undefined_scores_are_zero_without_warnings():
    C = np.array([[3, 0, 0], [1, 0, 0], [0, 0, 0]])  # class 1 never predicted, class 2 absent
    with np.errstate(all="raise"):
        precision, recall, f1 = precision_recall_f1(C)
    np.testing.assert_allclose(precision, [0.75, 0.0, 0.0])
    np.testing.assert_allclose(recall, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(f1, [2 * 0.75 / 1.75, 0.0, 0.0])


def test_accuracy_on_one_hot_columns():
    Y = np.array([[1, 0, 0], [0, 1, 1]])
    P = np.array([[1, 1, 0], [0, 1, 1]])
    # The second column differs in one row only, but the whole sample is wrong.
    assert accuracy(Y, P) == pytest.approx(2 / 3)
    assert accuracy(np.array([[1, 0, 1, 1]]), np.array([[1, 1, 1, 1]])) == 0.75


def test_confusion_matrix_with_string_labels_in_given_order():
    y_true = ["b", "a", "a", "c"]
    y_pred = ["a", "a", "c", "c"]
    C = confusion_matrix(y_true, y_pred, labels=["c", "b", "a"])
    np.testing.assert_array_equal(C, skm.confusion_matrix(y_true, y_pred, labels=["c", "b", "a"]))
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )
    with pytest.raises(CoreError, match="'d'"):
        confusion_matrix(["d"], ["a"], labels=["a", "b"])


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 50), seed=st.integers(0, 2**16))
def test_binary_log_loss_matches_sklearn(m, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, m)
    p = rng.uniform(0.01, 0.99, m)
    ours = log_loss(y[np.newaxis, :].astype(float), p[np.newaxis, :])
    assert ours == pytest.approx(skm.log_loss(y, p, labels=[0, 1]))


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 50), k=st.integers(3, 6), seed=st.integers(0, 2**16))
def test_one_hot_log_loss_matches_sklearn(m, k, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, m)
    P = rng.dirichlet(np.ones(k), m).T  # (k, m), columns sum to 1
    Y = np.eye(k)[y].T
    assert log_loss(Y, P) == pytest.approx(skm.log_loss(y, P.T, labels=list(range(k))))


def test_log_loss_is_finite_at_certain_wrong_predictions():
    value = log_loss(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert np.isfinite(value)
    # 1 - (1 - 1e-15) is not exactly 1e-15 in float64, hence the loose tolerance.
    assert value == pytest.approx(-np.log(1e-15), rel=1e-4)


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(2, 60),
    n_y=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    two_d=st.booleans(),
)
def test_regression_metrics_match_sklearn(m, n_y, seed, two_d):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n_y, m))
    y_hat = y + rng.normal(scale=0.5, size=(n_y, m))
    if not two_d:
        y, y_hat = y[0], y_hat[0]
    # sklearn wants samples by outputs: transpose the column convention.
    y_ref, y_hat_ref = (y.T, y_hat.T) if two_d else (y, y_hat)
    assert mean_squared_error(y, y_hat) == pytest.approx(skm.mean_squared_error(y_ref, y_hat_ref))
    assert mean_absolute_error(y, y_hat) == pytest.approx(skm.mean_absolute_error(y_ref, y_hat_ref))
    assert r2_score(y, y_hat) == pytest.approx(skm.r2_score(y_ref, y_hat_ref))


def test_r2_of_constant_target_is_finite():
    y = np.full(5, 2.0)
    assert r2_score(y, y) == 1.0
    assert r2_score(y, y + 1.0) == 0.0
    assert r2_score(y, y + 1.0) == skm.r2_score(y, y + 1.0)


def test_shape_errors():
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        accuracy(np.zeros(3), np.zeros(4))
    with pytest.raises(ShapeError):
        log_loss(np.zeros(3), np.zeros(3))
    with pytest.raises(ShapeError):
        precision_recall_f1(np.zeros((2, 3)))
    with pytest.raises(CoreError, match="at least one sample"):
        mean_squared_error(np.zeros(0), np.zeros(0))


def test_classification_report_binary():
    y_true = np.array([0, 0, 1, 1, 1])
    P = np.array([[0.1, 0.6, 0.8, 0.4, 0.9]])
    y_pred = (P[0] > 0.5).astype(np.int64)
    report = classification_report(y_true, y_pred, ("neg", "pos"), probabilities=P)
    assert json.loads(json.dumps(report)) == report
    assert report["n_samples"] == 5
    assert report["accuracy"] == pytest.approx(0.6)
    assert report["log_loss"] == pytest.approx(skm.log_loss(y_true, P[0]))
    assert report["classes"] == ["neg", "pos"]
    assert report["confusion_matrix"] == [[1, 1], [1, 2]]
    ref = skm.classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    for row, c in zip(report["per_class"], ["0", "1"], strict=True):
        assert row["precision"] == pytest.approx(ref[c]["precision"])
        assert row["recall"] == pytest.approx(ref[c]["recall"])
        assert row["f1"] == pytest.approx(ref[c]["f1-score"])
        assert row["support"] == ref[c]["support"]
    assert report["per_class"][1]["label"] == "pos"
    assert report["macro_avg"]["f1"] == pytest.approx(ref["macro avg"]["f1-score"])
    assert report["weighted_avg"]["recall"] == pytest.approx(ref["weighted avg"]["recall"])


def test_classification_report_multiclass_with_numpy_labels():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), 30).T
    y_true = rng.integers(0, 3, 30)
    y_pred = P.argmax(axis=0)
    report = classification_report(y_true, y_pred, np.array([10, 20, 30]), probabilities=P)
    assert report["classes"] == [10, 20, 30]
    assert json.dumps(report)
    assert report["log_loss"] == pytest.approx(skm.log_loss(y_true, P.T, labels=[0, 1, 2]))
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert classification_report(y_true, y_pred, (0, 1, 2))["log_loss"] is None


def test_regression_report():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    y_hat = np.array([1.5, 2.0, 2.0, 4.5])
    report = regression_report(y, y_hat)
    assert json.loads(json.dumps(report)) == report
    assert report["n_samples"] == 4
    assert report["mse"] == pytest.approx(skm.mean_squared_error(y, y_hat))
    assert report["rmse"] == pytest.approx(np.sqrt(report["mse"]))
    assert report["mae"] == pytest.approx(skm.mean_absolute_error(y, y_hat))
    assert report["r2"] == pytest.approx(skm.r2_score(y, y_hat))
    with pytest.raises(CoreError, match="y_pred"):
        regression_report(y, np.array([1.0, np.nan, 0.0, 0.0]))
