"""Entity tags and conditional GETs: the one rule every image and export answers by.

``If-None-Match`` uses the weak comparison (RFC 9110, 13.1.2): ``W/"x"`` matches ``"x"``, a
list matches when any member does, and ``*`` matches any current representation. A 304 carries
the same ``ETag``, ``Cache-Control`` and ``Vary`` as the 200 it stands for, and no body; the body
is produced only when it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from fastapi import Response

from app.services.images import ImagePlan

_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison) or is ``*``."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in _ENTITY_TAG.findall(if_none_match))


def conditional_response(
    *,
    etag: str,
    if_none_match: str | None,
    cache_control: str,
    media_type: str,
    body: Callable[[], bytes],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """304 when the client holds ``etag``, else 200 with ``body()``; both with the headers."""
    sent = {"ETag": etag, "Cache-Control": cache_control, **(headers or {})}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=sent)
    return Response(body(), media_type=media_type, headers=sent)


def plan_response(
    plan: ImagePlan, if_none_match: str | None, cache_control: str = "private, no-cache"
) -> Response:
    """:func:`conditional_response` for an image plan: 304, or the image drawn now."""
    return conditional_response(
        etag=plan.etag,
        if_none_match=if_none_match,
        cache_control=cache_control,
        media_type=plan.media_type,
        body=plan.render,
    )
