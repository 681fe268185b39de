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
                if not media.startswith("text/") and schema.get("format") == "binary":
                    has_example = has_example or "description" in schema  # bytes: no JSON example
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


OPEN_PATHS = {"/healthz", "/readyz", "/metrics"}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_bearer_scheme_on_every_protected_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for _, path, operation in _operations(document):
        if path in OPEN_PATHS:
            assert "security" not in operation and "401" not in operation["responses"], path
        elif path.startswith("/v1"):
            assert operation["security"] == [{"bearer": []}], path
            assert "401" in operation["responses"], path


def test_operation_ids_and_body_names(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    ids = {f"{m.upper()} {p}": op["operationId"] for m, p, op in _operations(document)}
    assert len(set(ids.values())) == len(ids)
    assert ids["POST /v1/datasets"] == "createDataset"
    assert ids["POST /v1/datasets/upload"] == "uploadDataset"
    assert ids["POST /v1/datasets/generate"] == "generateDataset"
    assert ids["GET /v1/datasets"] == "listDatasets"
    assert ids["GET /v1/datasets/{dataset_id}"] == "getDataset"
    assert ids["POST /v1/models/{model_id}/train"] == "trainModel"
    assert ids["POST /v1/models/{model_id}/predict"] == "predict"
    assert ids["POST /v1/models/{model_id}/evaluate"] == "evaluateModel"
    assert all(op.isidentifier() and "_" not in op for op in ids.values()), ids
    schemas = document["components"]["schemas"]
    assert not [name for name in schemas if name.startswith("Body_")]
    upload = document["paths"]["/v1/datasets/upload"]["post"]["requestBody"]
    ref = upload["content"]["multipart/form-data"]["schema"]["$ref"]
    assert ref == "#/components/schemas/UploadDatasetBody"


def test_binary_answers_have_their_media_types(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    binary = {"type": "string", "format": "binary"}
    images = [
        "/v1/datasets/{dataset_id}/plot.png",
        "/v1/models/{model_id}/decision-boundary.png",
        "/v1/models/{model_id}/weights.png",
        "/v1/activations/{name}.png",
        "/v1/jobs/{job_id}/cost-curve.png",
        "/v1/models/{model_id}/cost-curve.png",
    ]
    for path in images:
        responses = paths[path]["get"]["responses"]
        assert responses["200"]["content"] == {
            "image/png": {"schema": binary},
            "image/svg+xml": {"schema": binary},
        }, path
        assert set(responses["304"]["headers"]) == {"ETag", "Cache-Control"}, path
        assert "content" not in responses["304"]
    export = paths["/v1/models/{model_id}/export"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["application/x-npz", "application/onnx", "application/json"]
    assert export["application/onnx"]["schema"] == binary
    parameters = paths["/v1/models/{model_id}/parameters"]["get"]["responses"]
    assert parameters["200"]["content"]["application/x-npz"]["schema"] == binary
    data = paths["/v1/datasets/{dataset_id}/data"]["get"]["responses"]["200"]["content"]
    assert data["text/csv"]["schema"] == {"type": "string"}
    assert data["application/json"]["schema"]["$ref"].endswith("/DatasetData")


def test_declared_statuses_are_the_possible_ones(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    def statuses(path: str, method: str = "get") -> set[str]:
        return set(paths[path][method]["responses"])

    assert statuses("/v1/datasets") == {"200", "401", "422", "500"}
    assert statuses("/v1/activations") == {"200", "401", "500"}
    writes = {"201", "400", "401", "403", "413", "415", "422", "500"}
    assert statuses("/v1/datasets", "post") == writes
    assert "403" not in statuses("/v1/models/{model_id}/predict", "post")  # a read key scores
    assert {"404", "409", "503"} <= statuses("/v1/models/{model_id}/train", "post")
    assert "409" in statuses("/v1/models/{model_id}", "delete")
    assert "409" not in statuses("/v1/models/{model_id}")
    assert "406" in statuses("/v1/models/{model_id}/decision-boundary.png")
    assert "406" in statuses("/v1/jobs/{job_id}/history")
    assert "406" in statuses("/v1/models/{model_id}/predict", "post")
    assert "304" not in statuses("/v1/models/{model_id}")
    for path in ("/healthz", "/readyz"):
        assert paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def test_links_from_created_resources(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    model_links = paths["/v1/models"]["post"]["responses"]["201"]["links"]
    assert {"getModel", "trainModel", "predict"} <= set(model_links)
    assert model_links["predict"]["parameters"] == {"model_id": "$response.body#/id"}
    dataset_links = paths["/v1/datasets/generate"]["post"]["responses"]["201"]["links"]
    assert dataset_links["getDataset"]["operationId"] == "getDataset"
    job_links = paths["/v1/models/{model_id}/train"]["post"]["responses"]["202"]["links"]
    assert job_links["getJob"]["parameters"] == {"job_id": "$response.body#/id"}


def test_lists_document_their_link_header(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/datasets", "/v1/models", "/v1/jobs", "/v1/models/{model_id}/versions"):
        assert "Link" in paths[path]["get"]["responses"]["200"]["headers"], path
