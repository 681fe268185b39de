"""Every dependency of the routers: the app's state, services, auth and content-type checks.

This module and ``app.main`` are the only readers of ``app.state``. The providers are coroutines
because they only read state or headers: FastAPI would run a plain ``def`` dependency in its
thread pool, and those hand-offs cost more than the work they wrap.
"""

from __future__ import annotations

from email.message import Message
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.api.http.auth import check_api_key
from app.api.http.heavy import HeavyRequests
from app.api.http.metrics import ServiceMetrics
from app.api.http.openapi import BEARER
from app.api.http.throttle import FailedAuthThrottle
from app.errors import UnsupportedMediaType
from app.jobs.executor import Executor, make_executor
from app.keys import KeyRing
from app.services.datasets import DatasetService
from app.services.evaluation import EvaluationService
from app.services.export import ExportService
from app.services.images import ImageService
from app.services.inference_dataplane import DataPlane
from app.services.jobs import JobService
from app.services.loaded_model import LoadedModel
from app.services.model_cache import ModelCache
from app.services.models import ModelService
from app.services.run_comparison import RunComparison
from app.services.searches import SearchService
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database

# --- the app's state (set by app.main.create_app) ------------------------------------------


def app_settings(app: FastAPI) -> Settings:
    """``app``'s settings."""
    settings: Settings = app.state.settings
    return settings


def app_api_keys(app: FastAPI) -> KeyRing:
    """The API keys ``app`` accepts (empty: the API is open)."""
    keys: KeyRing = app.state.api_keys
    return keys


def app_metrics(app: FastAPI) -> ServiceMetrics:
    """``app``'s metrics (made by ``app.main.create_app``)."""
    metrics: ServiceMetrics = app.state.metrics
    return metrics


def app_heavy_requests(app: FastAPI) -> HeavyRequests:
    """``app``'s count of heavy requests being served."""
    heavy: HeavyRequests = app.state.heavy_requests
    return heavy


def app_dataplane(app: FastAPI) -> DataPlane:
    """``app``'s Open Inference Protocol data plane."""
    plane: DataPlane = app.state.dataplane
    return plane


def app_auth_throttle(app: FastAPI) -> FailedAuthThrottle:
    """``app``'s throttle of failed authentication."""
    throttle: FailedAuthThrottle = app.state.auth_throttle
    return throttle


def app_model_cache(app: FastAPI) -> ModelCache:
    """``app``'s cache of loaded networks."""
    cache: ModelCache = app.state.model_cache
    return cache


# --- storage and settings -------------------------------------------------------------------


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return app_settings(request.app)


async def get_database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


async def get_array_store(request: Request) -> ArrayStore:
    """The app's array files."""
    arrays: ArrayStore = request.app.state.arrays
    return arrays


async def get_model_cache(request: Request) -> ModelCache:
    """The app's cache of loaded networks, shared by every serving route."""
    return app_model_cache(request.app)


async def get_service_metrics(request: Request) -> ServiceMetrics:
    """The app's metrics."""
    return app_metrics(request.app)


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ArrayStoreDep = Annotated[ArrayStore, Depends(get_array_store)]
ModelCacheDep = Annotated[ModelCache, Depends(get_model_cache)]
ServiceMetricsDep = Annotated[ServiceMetrics, Depends(get_service_metrics)]


async def cached_network(cache: ModelCache, model_id: str, version: int | None) -> LoadedModel:
    """The network, from memory when nothing changed, else read in a worker thread."""
    loaded = cache.peek(model_id, version)
    if loaded is None:
        loaded = await run_in_threadpool(cache.get, model_id, version)
    return loaded


# --- services -------------------------------------------------------------------------------


async def get_dataset_service(
    db: DatabaseDep, arrays: ArrayStoreDep, settings: SettingsDep
) -> DatasetService:
    """Dataset use cases bound to this app's storage."""
    return DatasetService(db, arrays, settings)


async def get_model_service(
    db: DatabaseDep, arrays: ArrayStoreDep, settings: SettingsDep
) -> ModelService:
    """Model use cases bound to this app's storage."""
    return ModelService(db, arrays, settings)


DatasetServiceDep = Annotated[DatasetService, Depends(get_dataset_service)]
ModelServiceDep = Annotated[ModelService, Depends(get_model_service)]


async def get_evaluation_service(
    cache: ModelCacheDep, datasets: DatasetServiceDep, settings: SettingsDep
) -> EvaluationService:
    """Evaluation use cases bound to this app's cache and datasets."""
    return EvaluationService(cache, datasets, settings)


async def get_export_service(cache: ModelCacheDep) -> ExportService:
    """Export use cases on this app's model cache."""
    return ExportService(cache)


async def get_image_service(request: Request) -> ImageService:
    """The app's image service (one per app, so its recent images are shared)."""
    service: ImageService = request.app.state.image_service
    return service


async def get_executor(request: Request, settings: SettingsDep) -> Executor:
    """The app's executor (built on first use: the API process only submits through it)."""
    executor: Executor | None = getattr(request.app.state, "job_executor", None)
    if executor is None:
        executor = make_executor(settings)
        request.app.state.job_executor = executor
    return executor


ExecutorDep = Annotated[Executor, Depends(get_executor)]


async def get_job_service(
    db: DatabaseDep, arrays: ArrayStoreDep, settings: SettingsDep, executor: ExecutorDep
) -> JobService:
    """Job use cases bound to this app's storage and executor."""
    return JobService(db, arrays, settings, executor)


async def get_search_service(db: DatabaseDep, settings: SettingsDep) -> SearchService:
    """Search use cases bound to this app's storage (the scheduler runs next to the executor)."""
    return SearchService(db, settings)


async def get_run_comparison(db: DatabaseDep) -> RunComparison:
    """Runs side by side, read from this app's storage."""
    return RunComparison(db)


EvaluationServiceDep = Annotated[EvaluationService, Depends(get_evaluation_service)]


async def get_dataplane(request: Request) -> DataPlane:
    """The app's Open Inference Protocol data plane."""
    return app_dataplane(request.app)


DataPlaneDep = Annotated[DataPlane, Depends(get_dataplane)]
ExportServiceDep = Annotated[ExportService, Depends(get_export_service)]
ImageServiceDep = Annotated[ImageService, Depends(get_image_service)]
JobServiceDep = Annotated[JobService, Depends(get_job_service)]
SearchServiceDep = Annotated[SearchService, Depends(get_search_service)]
RunComparisonDep = Annotated[RunComparison, Depends(get_run_comparison)]

# --- request checks -------------------------------------------------------------------------


# Declares the scheme in OpenAPI (the docs' Authorize button, generated clients' bearer
# token); the key itself is checked by check_api_key, with the API's own 401 answers.
bearer_scheme = HTTPBearer(
    scheme_name=BEARER,
    description="An API key from ANNSERVE_API_KEYS (not needed when the server has none).",
    auto_error=False,
)


async def require_api_key(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """Refuse the request with 401 unless it carries a configured key (no keys: open)."""
    check_api_key(request, app_api_keys(request.app), app_auth_throttle(request.app))


def media_type(request: Request) -> tuple[str, str]:
    """The request's Content-Type as (main type, subtype), parameters left out; a request
    without one reads as text/plain."""
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_maintype(), message.get_content_subtype()


async def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (``application/json`` or ``+json``)."""
    main, sub = media_type(request)
    if (
        "content-type" not in request.headers
        or main != "application"
        or not (sub == "json" or sub.endswith("+json"))
    ):
        raise UnsupportedMediaType("send the body as application/json")


async def require_multipart(request: Request) -> None:
    """415 unless the body is ``multipart/form-data``."""
    if media_type(request) != ("multipart", "form-data"):
        raise UnsupportedMediaType("send the file as multipart/form-data")


Authenticated = Depends(require_api_key)
JsonBody = Depends(require_json)
MultipartBody = Depends(require_multipart)
