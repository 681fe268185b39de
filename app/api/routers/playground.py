"""The browser playground: ``/`` serves the page, ``/static`` its CSS and JavaScript modules.

Both stay open without an API key (the page asks for the key itself and sends it only to
``/v1``). The page is plain HTML, CSS and JavaScript modules from ``app/static``: no build step.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

# Browsers refuse module scripts not served as JavaScript, and the system's MIME table (read by
# ``mimetypes``) is not always present or right, so the types the page relies on are fixed here.
MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# The page loads only its own files; images it shows are blob: URLs of fetched API responses
# (fetched with the key in a header, which an <img src> could not send).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page and its modules change with each release and are small: always revalidate.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


class PlaygroundFiles(StaticFiles):
    """Static files with fixed media types and the page's security and caching headers."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = MEDIA_TYPES.get(Path(full_path).suffix.lower())
        if media_type is not None and response.status_code == 200:
            response.headers["content-type"] = media_type
        response.headers.update(PAGE_HEADERS)
        return response


@router.get("/", response_class=FileResponse)
def playground_page() -> FileResponse:
    """The playground's HTML page."""
    return FileResponse(
        STATIC_DIR / "index.html", media_type=MEDIA_TYPES[".html"], headers=PAGE_HEADERS
    )


def install_playground(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets under ``/static`` (both outside ``/v1``)."""
    app.include_router(router)
    app.mount("/static", PlaygroundFiles(directory=STATIC_DIR), name="static")
