"""Bodies of the Open Inference Protocol (KServe v2 REST), as the protocol names them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ServerMetadata(BaseModel):
    """``GET /v2``."""

    name: str
    version: str
    extensions: list[str]


class LiveResponse(BaseModel):
    """``GET /v2/health/live``."""

    live: bool


class ReadyResponse(BaseModel):
    """``GET /v2/health/ready``."""

    ready: bool


class ModelReadyResponse(BaseModel):
    """``GET /v2/models/{name}[/versions/{v}]/ready``."""

    name: str
    ready: bool


class TensorMetadata(BaseModel):
    """One input or output: its name, datatype and shape (-1 for the batch dimension)."""

    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    """``GET /v2/models/{name}[/versions/{v}]``: a numeric model's one input ``[-1, n_inputs]``,
    or a table model's one input per raw column (FP64, BOOL or BYTES, shape ``[-1]``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "pets",
                    "versions": ["0", "1"],
                    "platform": "annserve_numpy",
                    "inputs": [
                        {"name": "size", "datatype": "FP64", "shape": [-1]},
                        {"name": "colour", "datatype": "BYTES", "shape": [-1]},
                        {"name": "flag", "datatype": "BOOL", "shape": [-1]},
                        {"name": "when", "datatype": "BYTES", "shape": [-1]},
                    ],
                    "outputs": [
                        {"name": "predictions", "datatype": "BYTES", "shape": [-1]},
                        {"name": "probabilities", "datatype": "FP64", "shape": [-1, 2]},
                    ],
                }
            ]
        }
    )

    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class RequestInput(BaseModel):
    """One input tensor: ``data`` is row-major, flat or nested, of ``prod(shape)`` numbers (a
    table model's per-column inputs: numbers, booleans or texts, null for missing).

    With binary tensor data, ``parameters.binary_data_size`` gives the length of the tensor's
    raw bytes after the JSON header instead, and ``data`` is left out.
    """

    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class RequestOutput(BaseModel):
    """An output the client asks for (all outputs when the request names none);
    ``parameters.binary_data`` asks for it as binary tensor data."""

    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    """``POST .../infer`` (JSON; see the binary tensor data extension for the binary form).

    ``parameters.binary_data_output`` asks for every output as binary tensor data.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "inputs": [
                        {
                            "name": "input",
                            "shape": [2, 2],
                            "datatype": "FP64",
                            "data": [0.5, -1.0, 1.2, 0.3],
                        }
                    ],
                },
                {
                    "id": "table-model",
                    "inputs": [
                        {"name": "size", "shape": [2], "datatype": "FP64", "data": [3.5, None]},
                        {"name": "colour", "shape": [2], "datatype": "BYTES", "data": ["red", ""]},
                        {"name": "flag", "shape": [2], "datatype": "BOOL", "data": [True, None]},
                        {
                            "name": "when",
                            "shape": [2],
                            "datatype": "BYTES",
                            "data": ["2021-03-04", "2021-03-05T10:30:00"],
                        },
                    ],
                },
            ]
        }
    )

    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = None


class ResponseOutput(BaseModel):
    """One output tensor, data flat in row-major order (left out for binary tensor data, whose
    length is ``parameters.binary_data_size``)."""

    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class InferenceResponse(BaseModel):
    """The answer to ``infer``."""

    model_name: str
    model_version: str
    id: str | None = None
    parameters: dict[str, Any] | None = None
    outputs: list[ResponseOutput]


class ErrorResponse(BaseModel):
    """Every v2 error: ``{"error": "..."}``."""

    error: str


# --- the OpenAPI of the infer routes, which read their bodies themselves ----------------
def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` references replaced by the definitions (for a request
    body documented outside FastAPI's own body handling)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


INFER_DOCS = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": inlined(InferenceRequest.model_json_schema())}},
    }
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad request"},
    401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
    404: {"model": ErrorResponse, "description": "Unknown model or version"},
}
INFER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    200: {
        "content": {
            "application/json": {},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "The outputs; with binary tensor data, a JSON header of "
        "Inference-Header-Content-Length bytes followed by the outputs' bytes.",
    },
    413: {"model": ErrorResponse, "description": "Body over the size limit"},
    415: {"model": ErrorResponse, "description": "Unsupported Content-Encoding"},
}
