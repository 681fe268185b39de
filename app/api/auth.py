"""API-key authentication: ``Authorization: Bearer <key>``, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request

from app.api.errors import TooManyAttempts, Unauthenticated
from app.api.throttle import FailedAuthThrottle


def key_matches(presented: str, keys: tuple[bytes, ...]) -> bool:
    """Whether ``presented`` equals one of ``keys``; every key is compared, whatever matches, so
    the time taken does not reveal which key (or how much of one) was right."""
    candidate = presented.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate, key)
    return found


async def require_api_key(request: Request) -> None:
    """Refuse the request with 401 unless it carries a configured key (no keys: open).

    A coroutine, so FastAPI runs it on the event loop instead of a worker thread.
    """
    check_api_key(request)


def check_api_key(request: Request) -> None:
    """:func:`require_api_key` as a plain call, for routes that take no dependencies.

    Failures are throttled per client address (:mod:`app.api.throttle`): 429 once an address
    has used up its budget.
    """
    keys: tuple[bytes, ...] = request.app.state.api_keys
    if not keys:
        return
    throttle: FailedAuthThrottle = request.app.state.auth_throttle
    if throttle.blocked:
        wait = throttle.retry_after(_address(request))
        if wait is not None:
            raise TooManyAttempts(wait)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        _failed(throttle, request)
        raise Unauthenticated("send 'Authorization: Bearer <api key>'", code="missing_api_key")
    if not key_matches(token.strip(), keys):
        _failed(throttle, request)
        raise Unauthenticated("the API key is not valid", code="invalid_api_key")


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _failed(throttle: FailedAuthThrottle, request: Request) -> None:
    wait = throttle.failed(_address(request))
    if wait is not None:
        raise TooManyAttempts(wait)
