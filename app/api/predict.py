"""``/v1/models/{id}/accuracy`` and ``/evaluate``, and the model cache the serving routes share.

``/predict``, the hot path, is mounted by :mod:`app.api.predict_route`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from app.api.deps import DatasetServiceDep, JsonBody
from app.api.params import PROBLEMS, Version
from app.api.schemas.predict import (
    AccuracyRead,
    EvaluateRequest,
    EvaluationRead,
    Split,
)
from app.services.errors import InvalidInput
from app.services.evaluation import EvaluationService
from app.services.loaded_model import LoadedModel
from app.services.model_cache import ModelCache
from app.services.numbers import check_float64_ints

router = APIRouter(prefix="/v1/models", tags=["predictions"])


async def _cache_dependency(request: Request) -> ModelCache:
    # async, so FastAPI does not hop to a worker thread just to read app state.
    return app_model_cache(request.app)


ModelCacheDep = Annotated[ModelCache, Depends(_cache_dependency)]


async def load_model(cache: ModelCache, model_id: str, version: int | None) -> LoadedModel:
    """The network, from memory when nothing changed, else read in a worker thread."""
    loaded = cache.peek(model_id, version)
    if loaded is None:
        loaded = await run_in_threadpool(cache.get, model_id, version)
    return loaded


def app_model_cache(app: FastAPI) -> ModelCache:
    """``app``'s cache of loaded networks (made by ``app.main.create_app``)."""
    cache: ModelCache = app.state.model_cache
    return cache


async def evaluation_service(
    request: Request, cache: ModelCacheDep, datasets: DatasetServiceDep
) -> EvaluationService:
    """Evaluation use cases bound to this app's cache and datasets."""
    return EvaluationService(cache, datasets, request.app.state.settings)


EvaluationDep = Annotated[EvaluationService, Depends(evaluation_service)]


@router.get("/{model_id}/accuracy", responses=PROBLEMS)
def get_accuracy(
    model_id: str,
    service: EvaluationDep,
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
    dependencies=[JsonBody],
    responses=PROBLEMS,
    response_model_exclude_none=True,
)
def evaluate(model_id: str, body: EvaluateRequest, service: EvaluationDep) -> EvaluationRead:
    """Score a version on a dataset split or on inline rows and targets.

    Classifiers: accuracy, log loss, confusion matrix with class labels, per-class precision,
    recall and F1. Regressors: MSE, RMSE, MAE and R².
    """
    inline = body.inputs is not None or body.targets is not None
    if inline and body.dataset_id is not None:
        raise InvalidInput(
            "give dataset_id or inputs and targets, not both", code="ambiguous_source"
        )
    if inline and (body.inputs is None or body.targets is None):
        raise InvalidInput(
            "inline evaluation needs both inputs and targets", code="targets_required"
        )
    if body.targets is not None:
        check_float64_ints(body.targets, "targets")
    loaded = service.cache.get(model_id, body.version)
    if body.inputs is not None and body.targets is not None:
        samples = service.inline_samples(loaded.model, body.inputs, body.targets)
    else:
        samples = service.dataset_samples(loaded.model, body.dataset_id, body.split)
    return EvaluationRead(**service.evaluate(loaded, samples))
