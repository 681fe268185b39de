"""``Link`` headers (RFC 8288) of paginated lists: ``next`` and ``prev`` pages.

The targets are the request's own path and query with ``offset`` moved by ``limit``, so filters
carry over; a first page has no ``prev``, a last one no ``next``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response


def _page(request: Request, limit: int, offset: int) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    query += [("limit", str(limit)), ("offset", str(offset))]
    return f"<{request.url.path}?{urlencode(query)}>"


def page_links(request: Request, total: int, limit: int, offset: int) -> str | None:
    """The ``Link`` value of the page at ``offset``, or None when it has no neighbour."""
    links = []
    if offset + limit < total:
        links.append(f'{_page(request, limit, offset + limit)}; rel="next"')
    if offset > 0:
        links.append(f'{_page(request, limit, max(offset - limit, 0))}; rel="prev"')
    return ", ".join(links) or None


def link_pages(request: Request, response: Response, total: int, limit: int, offset: int) -> None:
    """Set ``Link`` on ``response`` for this page of ``total`` items."""
    links = page_links(request, total, limit, offset)
    if links is not None:
        response.headers["Link"] = links
