"""``POST /v2/models/{name}[/versions/{version}]/infer``, the protocol's hot path.

Like ``/v1`` predict (:mod:`app.api.predict_route`), the routes sit first on the app and take no
FastAPI parameters or dependencies, whose resolution would cost more than a small prediction:
the endpoint reads its path parameters and the raw body itself (the body in any of the forms of
:mod:`app.api.http.v2_wire`) and checks the API key by the rule of every API route. Errors are the
protocol's ``{"error"}`` (:class:`app.api.http.v2_errors.V2DirectRoute`). Large bodies are decoded
and encoded in the thread pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import app_api_keys, app_auth_throttle, app_dataplane, app_settings
from app.api.http import v2_wire as wire
from app.api.http.auth import check_api_key
from app.api.http.v2_errors import V2DirectRoute
from app.api.schemas.v2 import INFER_DOCS, INFER_RESPONSES, InferenceResponse
from app.errors import InvalidInput
from app.services.inference_dataplane import version_number

BIG_BODY_BYTES = 256 * 1024
MAX_REF_LENGTH = 200
PATHS = ("/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}/infer")


def _path_docs(path: str) -> dict[str, Any]:
    parameters = [
        {
            "name": "name",
            "in": "path",
            "required": True,
            "description": "Model id or name.",
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_REF_LENGTH},
        }
    ]
    if "{version}" in path:
        parameters.append(
            {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    return {"parameters": parameters, **INFER_DOCS}


def infer_endpoint(app: FastAPI) -> Callable[[Request], Awaitable[Response]]:
    """The infer endpoint bound to ``app``'s data plane, settings and API keys."""
    plane = app_dataplane(app)
    settings = app_settings(app)
    limit = settings.max_body_bytes
    api_keys = app_api_keys(app)
    throttle = app_auth_throttle(app)
    open_access = not api_keys

    async def infer(request: Request) -> Response:
        """Run the model's current version (or the one in the path) on the input tensor.

        The body is the protocol's JSON (documented here) or its binary tensor data form.
        """
        if not open_access:
            check_api_key(request, api_keys, throttle)
        params = request.scope["path_params"]
        ref: str = params["name"]
        if len(ref) > MAX_REF_LENGTH:
            raise InvalidInput(f"invalid request: name: at most {MAX_REF_LENGTH} characters")
        version = version_number(params.get("version"))
        body = await request.body()
        big = len(body) > BIG_BODY_BYTES
        headers = request.headers
        if big:
            parsed = await run_in_threadpool(wire.read_request, body, headers, limit)
        else:
            parsed = wire.read_request(body, headers, limit)
        result = await plane.infer(ref, version, parsed.inputs, parsed.requested)
        accept = headers.get("accept-encoding", "")
        if big:
            answer = await run_in_threadpool(wire.write_response, result, parsed, accept)
        else:
            answer = wire.write_response(result, parsed, accept)
        payload, response_headers = answer
        return Response(payload, headers=response_headers)

    return infer


def install_v2_infer_routes(app: FastAPI) -> None:
    """Mount both infer routes first on the app, ahead of every router's routes."""
    endpoint = infer_endpoint(app)
    for path in PATHS:
        app.router.add_api_route(
            path,
            endpoint,
            route_class_override=V2DirectRoute,
            methods=["POST"],
            tags=["open inference protocol (v2)"],
            name="infer_version" if "{version}" in path else "infer",
            response_model=InferenceResponse,
            responses=INFER_RESPONSES,
            openapi_extra=_path_docs(path),
        )
        routes = app.router.routes
        routes.insert(0, routes.pop())
