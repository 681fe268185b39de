"""The FastAPI application: ``create_app(settings)``, and ``app`` for ``uvicorn app.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.formparsers import MultiPartParser
from starlette.middleware.cors import CORSMiddleware

from app.api.http.errors import install_error_handlers
from app.api.http.heavy import HeavyRequestMiddleware, HeavyRequests
from app.api.http.metrics import ServiceMetrics
from app.api.http.middleware import (
    BodyLimitMiddleware,
    HeadMiddleware,
    RequestContextMiddleware,
)
from app.api.http.openapi import install_openapi, operation_id
from app.api.http.spool import UPLOAD_PATHS
from app.api.http.throttle import FailedAuthThrottle
from app.api.http.unexpected import UnexpectedErrorMiddleware
from app.api.http.v2_errors import install_v2_errors
from app.api.routers.playground import install_playground
from app.api.routes import include_routers
from app.keys import KeyRing
from app.services.datasets import DatasetService
from app.services.images import ImageService
from app.services.inference_dataplane import DataPlane
from app.services.model_cache import ModelCache
from app.services.models import ModelService
from app.settings import Settings, get_settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.migrate import run_migrations


def create_app(settings: Settings | None = None) -> FastAPI:
    """A configured app; migrations run at start-up unless ``migrate_on_start`` is off."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            run_migrations(settings.database_url)
        yield
        app.state.db.dispose()

    # Process-wide, as Starlette keeps it: the heavy-request bound caps the memory it can take.
    MultiPartParser.spool_max_size = settings.upload_memory_bytes
    app = FastAPI(
        title="annserve",
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.db = Database(settings.database_url)
    app.state.arrays = ArrayStore(settings.data_dir)
    app.state.model_cache = ModelCache(
        app.state.db,
        app.state.arrays,
        capacity=settings.model_cache_size,
        ttl_seconds=settings.model_cache_ttl_seconds,
    )
    app.state.image_service = ImageService(
        app.state.model_cache, DatasetService(app.state.db, app.state.arrays, settings)
    )
    app.state.dataplane = DataPlane(
        app.state.model_cache, ModelService(app.state.db, app.state.arrays, settings), settings
    )
    app.state.api_keys = KeyRing.parse(settings.api_keys)
    app.state.metrics = ServiceMetrics(app.state.db)
    app.state.heavy_requests = HeavyRequests(settings.max_heavy_requests)
    app.state.auth_throttle = FailedAuthThrottle(
        settings.auth_failure_budget, settings.auth_failure_window
    )
    install_error_handlers(app)
    install_v2_errors(app)
    include_routers(app)
    install_openapi(app)
    install_playground(app)

    def body_limit(path: str) -> int:
        return settings.max_upload_bytes if path in UPLOAD_PATHS else settings.max_body_bytes

    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(HeavyRequestMiddleware, heavy=app.state.heavy_requests)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "ETag",
                "Content-Disposition",
                "Location",
                "X-Request-ID",
                "Link",
                "X-Total-Count",
            ],
        )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app


def __getattr__(name: str) -> FastAPI:
    # Built on first use, so importing this module never reads the environment by itself.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
