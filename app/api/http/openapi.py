"""The OpenAPI document: error responses are declared as ``application/problem+json``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_REF = "#/components/schemas/Problem"


def _problem_media_types(document: dict[str, Any]) -> None:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if schema.get("$ref") == PROBLEM_REF:
                    content["application/problem+json"] = content.pop("application/json")


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with problem responses under their real media type."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _problem_media_types(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _path_patterns(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    # Built per call: only 405 answers need it, and the document itself is cached.
    patterns: list[tuple[re.Pattern[str], list[str]]] = []
    for template, operations in app.openapi().get("paths", {}).items():
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        methods = sorted(m.upper() for m in operations)
        patterns.append((re.compile(regex), methods))
    return patterns


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The documented methods at ``path``: those of a literal template equal to it, else of every
    template with parameters that matches it (``/v1/datasets/generate`` is not a dataset id)."""
    matches = [(p, allowed) for p, allowed in _path_patterns(app) if p.fullmatch(path)]
    literal = [allowed for p, allowed in matches if p.pattern == re.escape(path)]
    chosen = literal or [allowed for _, allowed in matches]
    return sorted({method for allowed in chosen for method in allowed})
