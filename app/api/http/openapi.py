"""The OpenAPI document, shaped for generated clients.

FastAPI's document is finished here in one pass, so every route gets the same treatment:

* error responses are ``application/problem+json``, and only the statuses an operation can
  answer are listed (no 415 without a body, no 401 on open routes, no 404 without an id, 406
  where ``Accept`` is negotiated, 304 where ``If-None-Match`` is honoured);
* binary answers (images, ``.npz``, ONNX) and uploaded files are ``format: binary`` strings,
  text answers strings;
* operation ids are the endpoints' names in camelCase, request bodies are named after them;
* OpenAPI links lead from a created resource to the operations on it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_JSON = "application/problem+json"
BEARER = "bearer"
"""The security scheme's name (its definition comes from ``app.api.deps``)."""

BINARY_MEDIA_TYPES = frozenset(
    {
        "image/png",
        "image/svg+xml",
        "application/x-npz",
        "application/onnx",
        "application/octet-stream",
    }
)
TEXT_MEDIA_TYPES = frozenset({"text/csv", "text/plain", "text/event-stream"})
BODY_STATUSES = ("400", "413", "415")
"""Statuses that only a request body can cause (malformed, too large, wrong type)."""

READ_ONLY_KEY: dict[str, Any] = {
    "description": "The API key may only read and score (role read)",
    "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}},
}
NOT_MODIFIED: dict[str, Any] = {
    "description": "The client's copy (If-None-Match) is current; no body",
    "headers": {
        "ETag": {"schema": {"type": "string"}},
        "Cache-Control": {"schema": {"type": "string"}},
    },
}
PAGE_LINKS: dict[str, Any] = {
    "description": 'The neighbouring pages (RFC 8288): rel="next" and rel="prev"',
    "schema": {"type": "string"},
}
NOT_ACCEPTABLE: dict[str, Any] = {
    "description": "None of the representations is acceptable (Accept)",
    "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
}


def _link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


_DATASET_LINKS = {
    "getDataset": _link("getDataset", dataset_id="$response.body#/id"),
    "getDatasetData": _link("getDatasetData", dataset_id="$response.body#/id"),
    "deleteDataset": _link("deleteDataset", dataset_id="$response.body#/id"),
}
_MODEL = "$response.body#/id"
LINKS: dict[tuple[str, str], dict[str, Any]] = {
    ("createDataset", "201"): _DATASET_LINKS,
    ("uploadDataset", "201"): _DATASET_LINKS,
    ("generateDataset", "201"): _DATASET_LINKS,
    ("createModel", "201"): {
        "getModel": _link("getModel", model_id=_MODEL),
        "trainModel": _link("trainModel", model_id=_MODEL),
        "predict": _link("predict", model_id=_MODEL),
        "evaluateModel": _link("evaluateModel", model_id=_MODEL),
        "listModelVersions": _link("listModelVersions", model_id=_MODEL),
        "exportModel": _link("exportModel", model_id=_MODEL),
    },
    ("trainModel", "202"): {
        "getJob": _link("getJob", job_id="$response.body#/id"),
        "getJobHistory": _link("getJobHistory", job_id="$response.body#/id"),
        "cancelJob": _link("cancelJob", job_id="$response.body#/id"),
    },
}
"""Where a created resource leads: (operation, status) to named links."""


def operation_id(route: APIRoute) -> str:
    """A route's operation id: its endpoint's name in camelCase (``create_dataset`` gives
    ``createDataset``) unless the route names one itself."""
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def _is_problem(response: dict[str, Any]) -> bool:
    for media in ("application/json", PROBLEM_JSON):
        if response.get("content", {}).get(media, {}).get("schema", {}).get("$ref") == PROBLEM_REF:
            return True
    return False


def _problem_media_types(responses: dict[str, Any]) -> None:
    for response in responses.values():
        content = response.get("content", {})
        if content.get("application/json", {}).get("schema", {}).get("$ref") == PROBLEM_REF:
            content[PROBLEM_JSON] = content.pop("application/json")


def _media_schemas(responses: dict[str, Any]) -> None:
    for response in responses.values():
        for media, content in response.get("content", {}).items():
            if media in BINARY_MEDIA_TYPES:
                content["schema"] = {"type": "string", "format": "binary"}
            elif media in TEXT_MEDIA_TYPES:
                content["schema"] = {"type": "string"}


def _schema_fields(document: dict[str, Any], schema: dict[str, Any], depth: int = 3) -> set[str]:
    """The property names of ``schema``, and of the objects and lists of objects it holds."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    fields: set[str] = set()
    for name, inner in schema.get("properties", {}).items():
        fields.add(name)
        if depth > 1:
            fields |= _schema_fields(document, inner.get("items", inner), depth - 1)
    return fields


def _body_fields(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    fields: set[str] = set()
    for content in operation.get("requestBody", {}).get("content", {}).values():
        fields |= _schema_fields(document, content.get("schema", {}))
    return fields


def _can_fail_with(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, bool]:
    """Which generic problem statuses the operation can answer, from its parameters and body:
    404 needs an id (in the path, the query or the body), 401 a security requirement."""
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    names = {p["name"] for p in parameters if p["in"] != "path"} | _body_fields(document, operation)
    has_id = any(p["in"] == "path" for p in parameters) or any(
        n.endswith(("_id", "ids")) for n in names
    )
    return {
        **dict.fromkeys(BODY_STATUSES, body),
        "401": "security" in operation,
        "404": has_id,
        "422": bool(parameters) or body,
    }


def _statuses(document: dict[str, Any], operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation["responses"]
    for status, possible in _can_fail_with(document, operation).items():
        if not possible and status in responses and _is_problem(responses[status]):
            del responses[status]
    headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
    if "accept" in headers:
        responses.setdefault("406", NOT_ACCEPTABLE)
    if "if-none-match" in headers:
        responses["304"] = NOT_MODIFIED
    queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    if {"limit", "offset"} <= queries and "200" in responses:
        responses["200"].setdefault("headers", {})["Link"] = PAGE_LINKS


def _file_fields(document: dict[str, Any]) -> None:
    """Uploaded files are ``format: binary`` too (OpenAPI 3.0's way, which generators read)."""
    for schema in document.get("components", {}).get("schemas", {}).values():
        for field in schema.get("properties", {}).values():
            if field.get("type") == "string" and "contentMediaType" in field:
                field["format"] = "binary"


def _named_bodies(document: dict[str, Any]) -> None:
    """``Body_uploadDataset`` becomes ``UploadDatasetBody``, references included, and a body
    schema written inline (a direct route's) becomes a component named by its title."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for operations in document["paths"].values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                schema = content.get("schema", {})
                title = schema.get("title")
                if schema.get("type") == "object" and title and "$defs" not in schema:
                    schemas.setdefault(title, schema)
                    content["schema"] = {"$ref": f"#/components/schemas/{title}"}
    renames = {
        name: name.removeprefix("Body_")[:1].upper() + name.removeprefix("Body_")[1:] + "Body"
        for name in schemas
        if name.startswith("Body_")
    }
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    refs = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()
    }

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("$ref") in refs:
                node["$ref"] = refs[node["$ref"]]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if refs:
        walk(document["paths"])


def _reads(method: str, path: str) -> bool:
    """Whether a ``read`` key may call the operation (app.api.http.auth's rule)."""
    return method.upper() in ("GET", "HEAD", "OPTIONS") or (
        method.upper() == "POST" and path.endswith(("/predict", "/infer", "/evaluate"))
    )


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """Apply this module's rules to a document FastAPI generated."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            if "security" in operation and not _reads(method, path):
                responses.setdefault("403", READ_ONLY_KEY)
            _problem_media_types(responses)
            _media_schemas(responses)
            _statuses(document, operation)
            for status, links in LINKS.items():
                if operation.get("operationId") == status[0] and status[1] in responses:
                    responses[status[1]]["links"] = links
    _file_fields(document)
    _named_bodies(document)
    return document


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, finished by :func:`finish_document`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = finish_document(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _path_patterns(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    # Built per call: only 405 answers need it, and the document itself is cached.
    patterns: list[tuple[re.Pattern[str], list[str]]] = []
    for template, operations in app.openapi().get("paths", {}).items():
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        methods = {m.upper() for m in operations}
        if "GET" in methods:
            methods.add("HEAD")  # served wherever GET is (app.api.http.middleware)
        patterns.append((re.compile(regex), sorted(methods)))
    return patterns


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The documented methods at ``path``: those of a literal template equal to it, else of every
    template with parameters that matches it (``/v1/datasets/generate`` is not a dataset id)."""
    matches = [(p, allowed) for p, allowed in _path_patterns(app) if p.fullmatch(path)]
    literal = [allowed for p, allowed in matches if p.pattern == re.escape(path)]
    chosen = literal or [allowed for _, allowed in matches]
    return sorted({method for allowed in chosen for method in allowed})
