"""The one table from domain errors to HTTP statuses, and the problem+json handlers.

Every error response is ``application/problem+json`` (RFC 9457) with ``type``, ``title``,
``status``, ``detail``, a stable ``code`` and, for validation failures, ``errors`` (one entry per
bad field). Nothing internal (stack traces, file paths) ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import (
    Conflict,
    FieldError,
    InsufficientStorage,
    InvalidInput,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
    StorageUnavailable,
    UnsupportedMediaType,
)
from app.logs import request_id_var
from app.storage.faults import describe, storage_fault
from core.errors import ConfigurationError, CoreError, DivergenceError, ShapeError

logger = logging.getLogger("annserve.errors")

PROBLEM_JSON = "application/problem+json"


class Unauthenticated(ServiceError):  # noqa: N818 (HTTP-style name)
    """No valid API key was presented."""

    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(ServiceError):  # noqa: N818 (HTTP-style name)
    """The key is valid but its role does not allow the request."""

    code = "forbidden"
    title = "Forbidden"


class TooManyAttempts(ServiceError):  # noqa: N818 (HTTP-style name)
    """This client address failed authentication too often; it must wait ``retry_after`` s."""

    code = "too_many_failed_attempts"
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed authentication attempts; retry in {retry_after} s")
        self.retry_after = retry_after


# THE table: an error class maps to its status; subclasses inherit it unless listed themselves.
STATUS_BY_ERROR: Mapping[type[Exception], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    TooManyAttempts: 429,
    NotFound: 404,
    NotAcceptable: 406,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    InvalidInput: 422,
    InsufficientStorage: 507,
    ServiceUnavailable: 503,
    ServiceError: 400,
    CoreError: 422,
}
CORE_CODES: Mapping[type[Exception], str] = {
    DivergenceError: "diverged",
    ShapeError: "shape_error",
    ConfigurationError: "invalid_configuration",
    CoreError: "invalid_input",
}
CODE_BY_STATUS: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    404: "route_not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def status_for(error: Exception) -> int:
    """The HTTP status of a domain error (the nearest class in the table)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"urn:annserve:problem:{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    request_id = request_id_var.get()
    if request_id is not None:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def handle_service_error(request: Request, error: Exception) -> JSONResponse:
    """Domain errors from ``app.services`` and ``core``."""
    status = status_for(error)
    headers = None
    if isinstance(error, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="annserve"'}
    elif isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    elif isinstance(error, ServiceUnavailable | InsufficientStorage):
        headers = {"Retry-After": "5"}
    if isinstance(error, ServiceError):
        return problem(
            status,
            error.code,
            error.detail,
            title=error.title,
            errors=error.errors,
            headers=headers,
        )
    code = next(CORE_CODES[c] for c in type(error).__mro__ if c in CORE_CODES)
    return problem(status, code, str(error))


async def handle_validation_error(request: Request, error: Exception) -> JSONResponse:
    """Bad request bodies, query strings and headers: 422 listing each field (400 for bad JSON)."""
    assert isinstance(error, RequestValidationError)
    raw = error.errors()
    if any(item.get("type") == "json_invalid" for item in raw):
        return problem(400, "malformed_json", "the request body is not valid JSON")
    errors = [
        FieldError(field=_field_name(tuple(item["loc"])), message=item["msg"], code=item["type"])
        for item in raw[:50]
    ]
    detail = f"{len(raw)} invalid field(s): " + ", ".join(e["field"] for e in errors[:5])
    return problem(422, "validation_error", detail, title="Validation failed", errors=errors)


async def handle_http_exception(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method, body too large...)."""
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = CODE_BY_STATUS.get(status, "http_error")
    detail = {
        404: "no such route",
        405: "method not allowed on this route",
        413: "the request body is over the size limit",
    }.get(status, str(error.detail))
    headers = dict(error.headers or {})
    if status == 405:
        # Starlette lists the methods of the first matching route only; list them all.
        from app.api.http.openapi import allowed_methods

        methods = allowed_methods(request.app, request.url.path)
        if methods:
            headers["Allow"] = ", ".join(methods)
    return problem(status, code, detail, headers=headers)


async def handle_unexpected(request: Request, error: Exception) -> JSONResponse:
    """A full or read-only disk is 507 or 503; anything else is our bug: log it in full, tell
    the client nothing internal."""
    fault = storage_fault(error)
    if fault is not None:
        logger.warning("storage fault", extra={"fault": fault, "error": str(error)[:200]})
        domain: ServiceError = (
            InsufficientStorage(f"{describe(fault)}; nothing was stored, retry later")
            if fault == "full"
            else StorageUnavailable(f"{describe(fault)}; nothing was stored, retry later")
        )
        return await handle_service_error(request, domain)
    logger.error("unhandled error", exc_info=error)
    return problem(500, "internal_error", "an internal error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(ServiceError, handle_service_error)
    app.add_exception_handler(CoreError, handle_service_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(Exception, handle_unexpected)
