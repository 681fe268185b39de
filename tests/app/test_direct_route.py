"""DirectRoute: only async endpoints taking the request alone; the predict route is one, and it
keeps what an APIRoute gives (its OpenAPI operation, the app's error handling)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from app.api.http.direct_route import DirectRoute


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="text/plain")


def sync_echo(request: Request) -> Response:
    return Response(b"")


async def with_parameter(request: Request, name: str) -> Response:
    return Response(name.encode())


def test_the_request_reaches_the_endpoint_as_sent() -> None:
    app = FastAPI()
    app.router.add_api_route("/echo", echo, methods=["POST"], route_class_override=DirectRoute)
    with TestClient(app) as client:
        response = client.post("/echo", content=b"raw body")
    assert (response.status_code, response.content) == (200, b"raw body")


@pytest.mark.parametrize("endpoint", [sync_echo, with_parameter])
def test_endpoints_that_need_fastapis_handler_are_refused(endpoint: object) -> None:
    app = FastAPI()
    with pytest.raises(TypeError, match="takes only the Request"):
        app.router.add_api_route(
            "/x",
            endpoint,  # type: ignore[arg-type]
            methods=["POST"],
            route_class_override=DirectRoute,
        )


def test_predict_is_a_direct_route_documented_in_openapi(client: TestClient) -> None:
    routes = [r for r in client.app.routes if getattr(r, "path", "").endswith("/predict")]  # type: ignore[attr-defined]
    assert [type(r) for r in routes if "/v1/" in r.path] == [DirectRoute]  # type: ignore[attr-defined]
    operation = client.get("/openapi.json").json()["paths"]["/v1/models/{model_id}/predict"]
    assert set(operation["post"]["requestBody"]["content"]) == {"application/json", "text/csv"}
    missing = client.post("/v1/models/mdl_0000000000000000/predict", json={"inputs": [[1.0]]})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "model_not_found"
