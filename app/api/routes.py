"""Which routers the app serves; the API routers sit behind the API-key check, the health
endpoints (``/healthz``, ``/readyz``, ``/metrics``, ``/v2/health/*``) do not.

Each API router carries its full prefix (``/v1/...``), so route templates in metrics and logs are
the paths clients call.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from app.api.deps import Authenticated
from app.api.routers import (
    activations,
    compare,
    datasets,
    evaluation,
    export,
    health,
    images,
    job_control,
    jobs,
    models,
    neuron_maps,
    predict,
    searches,
    uploads,
    v2,
    v2_infer,
)

API_ROUTERS: tuple[APIRouter, ...] = (
    uploads.router,
    datasets.router,
    compare.router,  # before models: /v1/models/compare is not a model id
    models.router,
    evaluation.router,
    jobs.router,
    job_control.router,
    neuron_maps.router,
    v2.router,
    activations.router,
    images.router,
    export.router,
    searches.router,
)


def include_routers(app: FastAPI) -> None:
    """Mount the open operational routes and the authenticated API."""
    app.include_router(health.router)
    app.include_router(v2.health_router)
    for router in API_ROUTERS:
        app.include_router(router, dependencies=[Authenticated])
    v2_infer.install_v2_infer_routes(app)  # first routes, check the API key themselves
    predict.install_predict_route(app)  # first route, checks the API key itself (see there)
