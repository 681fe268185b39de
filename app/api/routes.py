"""Which routers the app serves; the API routers sit behind the API-key check, the health
endpoints (``/healthz``, ``/readyz``, ``/metrics``, ``/v2/health/*``) do not.

Each API router carries its full prefix (``/v1/...``), so route templates in metrics and logs are
the paths clients call.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from app.api import datasets, export, health, images, jobs, models, predict, predict_route, v2
from app.api.deps import Authenticated

API_ROUTERS: tuple[APIRouter, ...] = (
    datasets.router,
    models.router,
    predict.router,
    jobs.router,
    v2.router,
    images.router,
    export.router,
)


def include_routers(app: FastAPI) -> None:
    """Mount the open operational routes and the authenticated API."""
    app.include_router(health.router)
    app.include_router(v2.health_router)
    for router in API_ROUTERS:
        app.include_router(router, dependencies=[Authenticated])
    predict_route.install_predict_route(app)  # first route, checks the API key itself (see there)
