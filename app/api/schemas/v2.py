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
    """``GET /v2/models/{name}[/versions/{v}]``."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class RequestInput(BaseModel):
    """One input tensor: ``data`` is row-major, flat or nested, of ``prod(shape)`` numbers."""

    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any]


class RequestOutput(BaseModel):
    """An output the client asks for (all outputs when the request names none)."""

    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    """``POST .../infer``."""

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
                }
            ]
        }
    )

    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = None


class ResponseOutput(BaseModel):
    """One output tensor, data flat in row-major order."""

    name: str
    shape: list[int]
    datatype: str
    data: list[Any]


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
