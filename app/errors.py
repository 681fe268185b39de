"""Domain errors of the service.

Each class carries a stable machine-readable ``code`` (clients branch on it) and a human ``detail``.
No HTTP status codes live here: ``app.api.http.errors`` holds the one table that maps these classes
to responses.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np
from numpy.typing import NDArray

MAX_REPORTED_ERRORS = 20  # field errors listed in one response at most


class FieldError(TypedDict):
    """One bad field of a request: where it is, what is wrong, and a stable code."""

    field: str
    message: str
    code: str


class ServiceError(Exception):
    """Base class of every error a use case raises on purpose."""

    code: str = "service_error"
    title: str = "Service error"

    def __init__(
        self, detail: str, *, code: str | None = None, errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors


class NotFound(ServiceError):  # noqa: N818 (HTTP-style names)
    """The resource does not exist."""

    code = "not_found"
    title = "Not found"


class InvalidId(NotFound):
    """The id is not even well formed, so it cannot name a resource (answered like ``NotFound``)."""

    code = "invalid_id"
    title = "Not found"


class Conflict(ServiceError):  # noqa: N818 (HTTP-style names)
    """The request is valid but clashes with the current state (e.g. deleting a dataset in use)."""

    code = "conflict"
    title = "Conflict"


class InvalidInput(ServiceError):  # noqa: N818 (HTTP-style names)
    """The request is well formed but its content cannot be used (NaN, ragged rows...)."""

    code = "invalid_input"
    title = "Unprocessable content"


class LimitExceeded(InvalidInput):
    """The request asks for more than the configured limits allow (samples, layers, units...)."""

    code = "limit_exceeded"
    title = "Limit exceeded"


class PayloadTooLarge(ServiceError):  # noqa: N818 (HTTP-style names)
    """The request body or an uploaded file is over the configured size limit."""

    code = "payload_too_large"
    title = "Payload too large"


class UnsupportedMediaType(ServiceError):  # noqa: N818 (HTTP-style names)
    """The request body has a content type the endpoint does not accept."""

    code = "unsupported_media_type"
    title = "Unsupported media type"


class NotAcceptable(ServiceError):  # noqa: N818 (HTTP-style names)
    """None of the representations named in ``Accept`` can be produced."""

    code = "not_acceptable"
    title = "Not acceptable"


class ServiceUnavailable(ServiceError):  # noqa: N818 (HTTP-style names)
    """A backing service (the job broker) cannot be reached; nothing was changed, retry later."""

    code = "service_unavailable"
    title = "Service unavailable"


class InsufficientStorage(ServiceError):  # noqa: N818 (HTTP-style names)
    """The data volume is full: nothing was stored; retry once space has been freed."""

    code = "insufficient_storage"
    title = "Insufficient storage"


class StorageUnavailable(ServiceUnavailable):
    """The data volume or database is read-only: nothing was stored; retry later."""

    code = "storage_unavailable"
    title = "Storage unavailable"


def model_not_found(model_id: str) -> NotFound:
    """The error for an unknown model id."""
    return NotFound(f"no model with id {model_id}", code="model_not_found")


def version_not_found(model_id: str, version: int) -> NotFound:
    """The error for an unknown version of a known model."""
    return NotFound(f"model {model_id} has no version {version}", code="version_not_found")


def dataset_not_found(dataset_id: str) -> NotFound:
    """The error for an unknown dataset id."""
    return NotFound(f"no dataset with id {dataset_id}", code="dataset_not_found")


def not_finite(values: NDArray[Any], field: str, what: str) -> InvalidInput:
    """The error for NaN or infinite entries of ``values`` ``(m, n)``, naming the first few
    as ``{field}.{i}.{j}``; ``what`` names the values in the detail ("feature", "input")."""
    bad = np.argwhere(~np.isfinite(values))
    errors = [
        FieldError(field=f"{field}.{i}.{j}", message="is NaN or infinite", code="not_finite")
        for i, j in bad[:MAX_REPORTED_ERRORS]
    ]
    return InvalidInput(
        f"{len(bad)} {what} value(s) are NaN or infinite", code="not_finite", errors=errors
    )
