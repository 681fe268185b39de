"""API-key authentication: ``Authorization: Bearer <key>``, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request

from app.api.http.errors import Unauthenticated


def key_matches(presented: str, keys: tuple[bytes, ...]) -> bool:
    """Whether ``presented`` equals one of ``keys``; every key is compared, whatever matches, so
    the time taken does not reveal which key (or how much of one) was right."""
    candidate = presented.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate, key)
    return found


def check_api_key(request: Request, keys: tuple[bytes, ...]) -> None:
    """Refuse ``request`` with 401 unless it carries one of ``keys`` (no keys: open)."""
    if not keys:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <api key>'", code="missing_api_key")
    if not key_matches(token.strip(), keys):
        raise Unauthenticated("the API key is not valid", code="invalid_api_key")
