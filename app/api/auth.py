"""API-key authentication: ``Authorization: Bearer <key>``, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request

from app.api.errors import Unauthenticated


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
    """:func:`require_api_key` as a plain call, for routes that take no dependencies."""
    keys: tuple[bytes, ...] = request.app.state.api_keys
    if not keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <api key>'", code="missing_api_key")
    if not key_matches(token.strip(), keys):
        raise Unauthenticated("the API key is not valid", code="invalid_api_key")
