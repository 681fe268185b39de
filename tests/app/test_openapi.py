"""The OpenAPI document: examples for every request body, problem responses, names from core."""

from __future__ import annotations

from typing import Any, get_args

from fastapi.testclient import TestClient

from app.api.schemas import common
from core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from core.architecture import DTYPES
from core.datasets import GENERATORS, TASKS
from core.initializers import DISTRIBUTIONS, INITS


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def test_every_request_body_has_an_example(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    bodies = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                bodies += 1
                schema = _resolve(document, content["schema"])
                has_example = "examples" in content or "example" in content or "examples" in schema
                if media == "multipart/form-data":
                    properties = schema.get("properties", {})
                    has_example = has_example or all(
                        "examples" in p
                        or "default" in p
                        or p.get("format") == "binary"
                        or p.get("contentMediaType") is not None
                        or "description" in p
                        for p in properties.values()
                    )
                assert has_example, f"{method.upper()} {path} ({media}) has no example"
    assert bodies >= 5


def test_error_responses_are_problem_json(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/datasets/{dataset_id}"]["get"]
    assert "application/problem+json" in operation["responses"]["404"]["content"]
    assert "application/json" not in operation["responses"]["404"]["content"]
    assert "Problem" in document["components"]["schemas"]


def test_api_names_mirror_core_tables() -> None:
    assert set(get_args(common.HiddenActivation)) == set(HIDDEN_ACTIVATIONS)
    assert set(get_args(common.OutputActivation)) == set(OUTPUT_ACTIVATIONS)
    assert set(get_args(common.Init)) == set(INITS)
    assert set(get_args(common.Distribution)) == set(DISTRIBUTIONS)
    assert set(get_args(common.Dtype)) == set(DTYPES)
    assert set(get_args(common.GeneratorKind)) == set(GENERATORS)
    assert set(get_args(common.Task)) == set(TASKS)


def test_activation_enums_are_core_tables(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    layers = schemas["ModelCreate"]["properties"]["hidden_layers"]["items"]
    layer = _resolve({"components": {"schemas": schemas}}, layers)
    assert tuple(layer["properties"]["activation"]["enum"]) == HIDDEN_ACTIVATIONS
    output = schemas["ModelCreate"]["properties"]["output_activation"]["anyOf"]
    assert [tuple(s["enum"]) for s in output if "enum" in s] == [OUTPUT_ACTIVATIONS]


def test_docs_page(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
