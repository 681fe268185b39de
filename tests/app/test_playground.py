"""The playground page and its assets: served at ``/`` and ``/static`` with the right types."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.routers.playground import STATIC_DIR
from app.main import create_app
from app.settings import Settings

API_KEY = "playground-test-key-0123456789"
EXPECTED_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".html": "text/html",
}
ASSET_REFERENCE = re.compile(r'(?:src|href)="(/static/[^"]+)"')
MODULE_IMPORT = re.compile(r'^import [^"]+ from "\./([^"]+)";$', re.MULTILINE)


def media_type(response_content_type: str) -> str:
    return response_content_type.split(";", 1)[0].strip()


def referenced_assets() -> set[str]:
    """Every /static URL the page loads, directly or through JavaScript module imports."""
    html = (STATIC_DIR / "index.html").read_text()
    urls = set(ASSET_REFERENCE.findall(html))
    pending = [url for url in urls if url.endswith(".js")]
    while pending:
        url = pending.pop()
        module = STATIC_DIR / url.removeprefix("/static/")
        for name in MODULE_IMPORT.findall(module.read_text()):
            imported = f"{url.rsplit('/', 1)[0]}/{name}"
            if imported not in urls:
                urls.add(imported)
                pending.append(imported)
    return urls


@pytest.fixture
def keyed_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client on an app that requires an API key on /v1."""
    settings = Settings(data_dir=tmp_path / "data", api_keys=[API_KEY])
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_root_serves_the_page_as_html(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert media_type(response.headers["content-type"]) == "text/html"
    assert '<script type="module" src="/static/js/main.js"></script>' in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_page_references_modules_that_exist() -> None:
    assets = referenced_assets()
    # The page, its stylesheet and every panel module are reached from index.html.
    for expected in ("/static/playground.css", "/static/js/main.js", "/static/js/api.js"):
        assert expected in assets
    for url in assets:
        assert (STATIC_DIR / url.removeprefix("/static/")).is_file(), url


def test_every_asset_is_served_with_its_media_type(client: TestClient) -> None:
    for url in sorted(referenced_assets()):
        response = client.get(url)
        assert response.status_code == 200, url
        expected = EXPECTED_TYPES[Path(url).suffix]
        assert media_type(response.headers["content-type"]) == expected, url
        assert response.headers["cache-control"] == "no-cache", url
        assert response.content == (STATIC_DIR / url.removeprefix("/static/")).read_bytes()


def test_page_and_assets_are_open_while_the_api_needs_a_key(keyed_client: TestClient) -> None:
    assert keyed_client.get("/v1/models").status_code == 401
    assert keyed_client.get("/").status_code == 200
    for url in referenced_assets():
        assert keyed_client.get(url).status_code == 200, url
    authorized = {"Authorization": f"Bearer {API_KEY}"}
    assert keyed_client.get("/v1/models", headers=authorized).status_code == 200


def test_missing_asset_and_path_traversal_give_404(client: TestClient) -> None:
    assert client.get("/static/js/nope.js").status_code == 404
    assert client.get("/static/../api/playground.py").status_code == 404
    assert client.get("/static/%2e%2e/api/playground.py").status_code == 404


def test_playground_routes_stay_out_of_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)


def test_unchanged_asset_revalidates_with_304(client: TestClient) -> None:
    first = client.get("/static/js/main.js")
    again = client.get("/static/js/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
