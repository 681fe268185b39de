"""Content negotiation: pick a representation from the ``Accept`` header."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import NotAcceptable


def _parse(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    main = offer.split("/")[0]
    best, specificity = 0.0, -1
    for media, quality in ranges:
        if media == offer:
            level = 2
        elif media == f"{main}/*":
            level = 1
        elif media == "*/*":
            level = 0
        else:
            continue
        if level > specificity:
            best, specificity = quality, level
    return best


def choose(accept: str | None, offers: Sequence[str]) -> str:
    """The offer the client prefers (ties go to the first offer); ``NotAcceptable`` if none."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _parse(accept)
    if not ranges:
        return offers[0]
    scored = [(_quality(offer, ranges), -i, offer) for i, offer in enumerate(offers)]
    quality, _, offer = max(scored)
    if quality <= 0.0:
        raise NotAcceptable(f"this resource is available as {', '.join(offers)}")
    return offer
