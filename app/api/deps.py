"""Typed dependencies for the routers: settings, services, auth and content-type checks.

Every dependency here only reads app state or request headers, so each is a coroutine: FastAPI
runs a plain ``def`` dependency in its thread pool, and a route with a service dependency would
otherwise make a dozen thread hand-offs per request (about 3 ms, more than the work itself).
"""

from __future__ import annotations

from email.message import Message
from typing import Annotated

from fastapi import Depends, Request

from app.api.auth import require_api_key
from app.services.datasets import DatasetService
from app.services.errors import UnsupportedMediaType
from app.services.models import ModelService
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


async def get_array_store(request: Request) -> ArrayStore:
    """The app's array files."""
    arrays: ArrayStore = request.app.state.arrays
    return arrays


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ArrayStoreDep = Annotated[ArrayStore, Depends(get_array_store)]


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


def _media_type(request: Request) -> tuple[str, str]:
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_maintype(), message.get_content_subtype()


async def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (``application/json`` or ``+json``)."""
    main, sub = _media_type(request)
    if (
        "content-type" not in request.headers
        or main != "application"
        or not (sub == "json" or sub.endswith("+json"))
    ):
        raise UnsupportedMediaType("send the body as application/json")


async def require_multipart(request: Request) -> None:
    """415 unless the body is ``multipart/form-data``."""
    if _media_type(request) != ("multipart", "form-data"):
        raise UnsupportedMediaType("send the file as multipart/form-data")


Authenticated = Depends(require_api_key)
JsonBody = Depends(require_json)
MultipartBody = Depends(require_multipart)
