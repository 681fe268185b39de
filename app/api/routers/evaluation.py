"""``/v1/models/{id}/accuracy`` and ``/evaluate``: scores of a model version.

``/predict``, the hot path, is mounted by :mod:`app.api.routers.predict`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import EvaluationServiceDep, JsonBody
from app.api.http.parameters import PROBLEMS, Version
from app.api.schemas.predict import (
    AccuracyRead,
    EvaluateRequest,
    EvaluationRead,
    Split,
)
from app.errors import InvalidInput
from app.services.numbers import check_float64_ints
from app.services.table_predictions import Records

router = APIRouter(prefix="/v1/models", tags=["predictions"])


@router.get("/{model_id}/accuracy", responses=PROBLEMS)
def get_accuracy(
    model_id: str,
    service: EvaluationServiceDep,
    dataset_id: Annotated[
        str | None, Query(description="Default: the dataset the model was created with.")
    ] = None,
    split: Split = "test",
    version: Version = None,
) -> AccuracyRead:
    """Accuracy of a classifier on a dataset's ``train``, ``test`` or ``all`` samples."""
    return AccuracyRead(**service.accuracy(model_id, dataset_id, split, version))


@router.post(
    "/{model_id}/evaluate",
    operation_id="evaluateModel",
    dependencies=[JsonBody],
    responses=PROBLEMS,
    response_model_exclude_none=True,
)
def evaluate(model_id: str, body: EvaluateRequest, service: EvaluationServiceDep) -> EvaluationRead:
    """Score a version on a dataset split or on inline rows and targets (a table model's rows
    as ``inputs`` in the upload's column order, or as ``records`` keyed by column).

    Classifiers: accuracy, log loss, confusion matrix with class labels, per-class precision,
    recall and F1. Regressors: MSE, RMSE, MAE and R².
    """
    rows = body.inputs if body.records is None else Records(body.records)
    inline = body.inputs is not None or body.records is not None or body.targets is not None
    if inline and body.dataset_id is not None:
        raise InvalidInput(
            "give dataset_id or inputs and targets, not both", code="ambiguous_source"
        )
    if body.inputs is not None and body.records is not None:
        raise InvalidInput("give inputs or records, not both", code="ambiguous_source")
    if inline and (rows is None or body.targets is None):
        raise InvalidInput(
            "inline evaluation needs both inputs (or records) and targets",
            code="targets_required",
        )
    if body.targets is not None:
        check_float64_ints(body.targets, "targets")
    loaded = service.cache.get(model_id, body.version)
    if rows is not None and body.targets is not None:
        samples = service.inline_samples(loaded, rows, body.targets)
    else:
        samples = service.dataset_samples(loaded.model, body.dataset_id, body.split)
    return EvaluationRead(**service.evaluate(loaded, samples))
