r"""Evaluation metrics and the JSON-able reports the service returns.

Classification metrics take class indices ``(m,)`` (or equal-shape target arrays); probability
metrics take the network output ``P`` in the column convention: ``(1, m)`` for a sigmoid output,
``(k, m)`` for softmax. Regression metrics take equal-shape arrays, ``(m,)`` or ``(n_y, m)``.

.. math::
    \mathrm{logloss} = -\frac{1}{m}\sum_i \big(y^{(i)}\log p^{(i)} + (1-y^{(i)})\log(1-p^{(i)})\big)
    \quad\text{(binary)}, \qquad -\frac{1}{m}\sum_i \sum_c Y_{c}^{(i)} \log P_{c}^{(i)}
    \quad\text{(one-hot)}

    R^2 = 1 - \frac{\sum (y - \hat y)^2}{\sum (y - \bar y)^2}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import CoreError, ShapeError
from core.preprocessing import check_finite, one_hot

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Label = int | str


def _same_shape(a: ArrayLike, b: ArrayLike, names: tuple[str, str]) -> tuple[NDArray[Any], ...]:
    A, B = np.asarray(a), np.asarray(b)
    if A.shape != B.shape:
        raise ShapeError(f"{names[0]} {A.shape} and {names[1]} {B.shape} must have the same shape.")
    if A.ndim not in (1, 2):
        raise ShapeError(f"{names[0]} must be 1-D (m,) or 2-D (n, m), got shape {A.shape}.")
    if A.shape[-1] == 0:
        raise CoreError("metrics need at least one sample, got none.")
    return A, B


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of samples predicted exactly right.

    1-D inputs are label vectors ``(m,)``; 2-D inputs ``(n, m)`` count a sample as right when its
    whole column matches (a one-hot or 0/1 target against a thresholded prediction).
    """
    A, B = _same_shape(y_true, y_pred, ("y_true", "y_pred"))
    right = A == B if A.ndim == 1 else np.all(A == B, axis=0)
    return float(np.mean(right))


def confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    n_classes: int | None = None,
    *,
    labels: Sequence[Any] | None = None,
) -> IntArray:
    """Confusion matrix ``(k, k)``: entry ``[i, j]`` counts samples of true class ``i``
    predicted as class ``j``.

    With ``n_classes`` the inputs are class indices ``0..k-1``; with ``labels`` they are labels
    and the rows follow the order of ``labels``; with neither, the sorted union of both inputs.
    """
    A, B = _same_shape(y_true, y_pred, ("y_true", "y_pred"))
    if A.ndim != 1:
        raise ShapeError(f"confusion_matrix takes 1-D labels, got shape {A.shape}.")
    if n_classes is not None and labels is not None:
        raise CoreError("give n_classes or labels, not both.")
    if n_classes is not None:
        labels = list(range(n_classes))
    elif labels is None:
        labels = np.union1d(A, B).tolist()
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({repr(v) for v in [*A.tolist(), *B.tolist()] if v not in index})
    if unknown:
        raise CoreError(f"label(s) {', '.join(unknown[:10])} not among {list(labels)}.")
    k = len(labels)
    rows = np.array([index[v] for v in A.tolist()], dtype=np.int64)
    cols = np.array([index[v] for v in B.tolist()], dtype=np.int64)
    return np.bincount(rows * k + cols, minlength=k * k).reshape(k, k).astype(np.int64)


def _safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Element-wise ratio that is 0 where the denominator is 0 (undefined scores), no warning."""
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def precision_recall_f1(confusion: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-class precision, recall and F1, each ``(k,)``, from a ``(k, k)`` confusion matrix.

    A score whose denominator is zero (a class never predicted, or never present) is 0.
    """
    C = np.asarray(confusion, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ShapeError(f"confusion must be a square (k, k) matrix, got shape {C.shape}.")
    true_positive = np.diag(C)
    precision = _safe_divide(true_positive, C.sum(axis=0))
    recall = _safe_divide(true_positive, C.sum(axis=1))
    f1 = _safe_divide(2.0 * precision * recall, precision + recall)
    return precision, recall, f1


def log_loss(Y: ArrayLike, P: ArrayLike, eps: float = 1e-15) -> float:
    """Mean cross-entropy of targets ``Y`` against probabilities ``P``, both ``(1, m)`` (binary)
    or ``(k, m)`` (one-hot); ``P`` is clipped to ``[eps, 1 - eps]`` so the loss stays finite."""
    T, Q = _same_shape(Y, P, ("Y", "P"))
    if T.ndim != 2:
        raise ShapeError(f"Y must be 2-D (1, m) or (k, m), got shape {T.shape}.")
    Q = np.clip(Q.astype(np.float64), eps, 1.0 - eps)
    # A single row is a sigmoid output: its second class is the complement 1 - p.
    losses = T * np.log(Q)
    if T.shape[0] == 1:
        losses += (1.0 - T) * np.log(1.0 - Q)
    return float(-losses.sum() / T.shape[1])


def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean of the squared errors over every entry."""
    A, B = _same_shape(y_true, y_pred, ("y_true", "y_pred"))
    return float(np.mean((A - B) ** 2))


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean of the absolute errors over every entry."""
    A, B = _same_shape(y_true, y_pred, ("y_true", "y_pred"))
    return float(np.mean(np.abs(A - B)))


def r2_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination; for ``(n_y, m)`` the plain average over the outputs (rows).

    A constant target scores 1 when predicted exactly and 0 otherwise (as scikit-learn does),
    so the result is always finite.
    """
    A, B = _same_shape(y_true, y_pred, ("y_true", "y_pred"))
    A2 = np.atleast_2d(A).astype(np.float64)
    B2 = np.atleast_2d(B).astype(np.float64)
    residual = np.sum((A2 - B2) ** 2, axis=1)
    total = np.sum((A2 - A2.mean(axis=1, keepdims=True)) ** 2, axis=1)
    exact = np.where(residual == 0, 1.0, 0.0)
    scores = np.where(total != 0, 1.0 - _safe_divide(residual, total), exact)
    return float(np.mean(scores))


def _json_label(label: Any) -> Label:
    if isinstance(label, np.generic):
        label = label.item()
    return label if isinstance(label, int | str) else str(label)


def classification_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    classes: Sequence[Any] | NDArray[Any],
    *,
    probabilities: ArrayLike | None = None,
) -> dict[str, Any]:
    """Everything the API shows for a classifier, as JSON-able Python values.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (m,)
        True and predicted class indices ``0..k-1``.
    classes : sequence of labels, length k
        The label of each class index.
    probabilities : array_like, shape (1, m) or (k, m), optional
        The network output; adds ``log_loss`` (otherwise ``None``).

    Returns
    -------
    dict
        ``n_samples``, ``accuracy``, ``log_loss``, ``classes``, ``confusion_matrix`` (rows true,
        columns predicted, in the order of ``classes``), ``per_class`` (label, precision, recall,
        f1, support), ``macro_avg`` and ``weighted_avg``.
    """
    k = len(classes)
    confusion = confusion_matrix(y_true, y_pred, n_classes=k)
    precision, recall, f1 = precision_recall_f1(confusion)
    support = confusion.sum(axis=1)
    m = int(support.sum())
    log_loss_value = None
    if probabilities is not None:
        P = np.asarray(probabilities, dtype=np.float64)
        if P.ndim != 2:
            raise ShapeError(f"probabilities must be (1, m) or (k, m), got shape {P.shape}.")
        check_finite(P, "probabilities")
        indices = np.asarray(y_true, dtype=np.int64)
        Y = indices[np.newaxis, :].astype(np.float64) if P.shape[0] == 1 else one_hot(indices, k)
        log_loss_value = log_loss(Y, P)
    labels = [_json_label(c) for c in classes]
    weights = support / m
    return {
        "n_samples": m,
        "accuracy": float(np.trace(confusion) / m),
        "log_loss": log_loss_value,
        "classes": labels,
        "confusion_matrix": confusion.tolist(),
        "per_class": [
            {
                "label": labels[c],
                "precision": float(precision[c]),
                "recall": float(recall[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
            }
            for c in range(k)
        ],
        "macro_avg": {
            "precision": float(precision.mean()),
            "recall": float(recall.mean()),
            "f1": float(f1.mean()),
        },
        "weighted_avg": {
            "precision": float(precision @ weights),
            "recall": float(recall @ weights),
            "f1": float(f1 @ weights),
        },
    }


def regression_report(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, Any]:
    """MSE, RMSE, MAE and R2 of a regressor as JSON-able floats (``y`` ``(m,)`` or ``(n_y, m)``)."""
    check_finite(y_true, "y_true")
    check_finite(y_pred, "y_pred")
    mse = mean_squared_error(y_true, y_pred)
    return {
        "n_samples": int(np.asarray(y_true).shape[-1]),
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": mean_absolute_error(y_true, y_pred),
        "r2": r2_score(y_true, y_pred),
    }
