"""API-key authentication: ``Authorization: Bearer <key>``, its tenant and its role.

The key is matched against the configured digests in constant time (:class:`app.keys.KeyRing`);
its tenant becomes the request's (:data:`app.storage.tenancy.current_tenant`), so the request sees
that tenant's rows only, and a ``read`` key may only read and score.
"""

from __future__ import annotations

from fastapi import Request

from app.api.http.errors import Forbidden, TooManyAttempts, Unauthenticated
from app.api.http.throttle import FailedAuthThrottle
from app.keys import KeyRing, Principal
from app.storage.tenancy import current_tenant

# Scoring answers are computed, not stored: a read key may ask for them.
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SCORING_SUFFIXES = ("/predict", "/infer", "/evaluate")


def authenticate(
    request: Request, keys: KeyRing, throttle: FailedAuthThrottle | None = None
) -> Principal | None:
    """The principal of the request's key (None when the deployment is open), its tenant made
    the request's; 401 for a missing or unknown key, 403 for a write with a read key, 429 for
    an address that failed too often (:mod:`app.api.http.throttle`)."""
    if not keys:
        return None
    if throttle is not None and throttle.blocked:
        wait = throttle.retry_after(_address(request))
        if wait is not None:
            raise TooManyAttempts(wait)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _failed(throttle, request)
        raise Unauthenticated("send 'Authorization: Bearer <api key>'", code="missing_api_key")
    principal = keys.match(token.strip())
    if principal is None:
        _failed(throttle, request)
        raise Unauthenticated("the API key is not valid", code="invalid_api_key")
    current_tenant.set(principal.tenant)
    if not principal.may_write and not _reads(request):
        raise Forbidden("this API key may only read and score", code="read_only_key")
    return principal


def _reads(request: Request) -> bool:
    method = request.scope["method"]
    if method in _READ_ONLY_METHODS:
        return True
    return method == "POST" and request.scope["path"].endswith(_SCORING_SUFFIXES)


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _failed(throttle: FailedAuthThrottle | None, request: Request) -> None:
    if throttle is None:
        return
    wait = throttle.failed(_address(request))
    if wait is not None:
        raise TooManyAttempts(wait)


def check_api_key(
    request: Request, keys: KeyRing, throttle: FailedAuthThrottle | None = None
) -> None:
    """:func:`authenticate`, for callers that need only its verdict."""
    authenticate(request, keys, throttle)
