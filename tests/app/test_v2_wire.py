"""``/v2`` over HTTP as clients send it: no Content-Type, binary data, compression, errors."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.services.binary_tensors import DATATYPES
from tests.app.serving_support import create_model

ROWS = np.array([[0.5, -1.0], [1.2, 0.3], [-0.7, 0.8]])


def _predict(client: TestClient, model_id: str, rows: Any) -> dict[str, Any]:
    response = client.post(f"/v1/models/{model_id}/predict", json={"inputs": rows.tolist()})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _binary_body(rows: np.ndarray, datatype: str, **document: Any) -> tuple[bytes, dict[str, str]]:
    raw = rows.astype(DATATYPES[datatype]).tobytes()
    tensor = {
        "name": "input",
        "shape": list(rows.shape),
        "datatype": datatype,
        "parameters": {"binary_data_size": len(raw)},
    }
    header = json.dumps({"inputs": [tensor], **document}).encode()
    return header + raw, {"Inference-Header-Content-Length": str(len(header))}


def _split(response: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The JSON header of a binary response and each binary output's bytes."""
    length = int(response.headers["inference-header-content-length"])
    header = json.loads(response.content[:length])
    blobs, offset = {}, length
    for output in header["outputs"]:
        size = output.get("parameters", {}).get("binary_data_size")
        if size is not None:
            blobs[output["name"]] = response.content[offset : offset + size]
            offset += size
    assert offset == len(response.content)
    return header, blobs


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    return str(body["error"])


def test_json_without_a_content_type_is_accepted(client: TestClient) -> None:
    model = create_model(client)
    body = {
        "inputs": [
            {"name": "input", "shape": [3, 2], "datatype": "FP64", "data": ROWS.ravel().tolist()}
        ]
    }
    for headers in (
        {},
        {"content-type": "text/plain"},
        {"content-type": "application/octet-stream"},
    ):
        response = client.post(
            f"/v2/models/{model['id']}/infer", content=json.dumps(body).encode(), headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert "inference-header-content-length" not in response.headers
        outputs = {o["name"]: o for o in response.json()["outputs"]}
        expected = _predict(client, model["id"], ROWS)
        assert outputs["predictions"]["data"] == expected["predictions"]
        np.testing.assert_allclose(
            outputs["probabilities"]["data"], np.ravel(expected["probabilities"]), rtol=1e-12
        )


@pytest.mark.parametrize(
    "datatype",
    ["FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT64", "BOOL"],
)
def test_binary_inputs_of_every_numeric_datatype(client: TestClient, datatype: str) -> None:
    model = create_model(client)
    rows = np.array([[1, 0], [0, 1], [1, 1]]) if datatype[0] in "IUB" else ROWS
    body, headers = _binary_body(rows, datatype)
    response = client.post(f"/v2/models/{model['id']}/infer", content=body, headers=headers)
    assert response.status_code == 200, response.text
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    sent = rows.astype(DATATYPES[datatype]).astype(np.float64)
    expected = _predict(client, model["id"], sent)
    assert outputs["predictions"]["data"] == expected["predictions"]
    np.testing.assert_allclose(
        outputs["probabilities"]["data"], np.ravel(expected["probabilities"]), rtol=1e-12
    )


def test_binary_outputs_all_or_per_output(client: TestClient) -> None:
    model = create_model(
        client, task="multiclass", classes=["red", "green", "blue"], dtype="float32"
    )
    expected = _predict(client, model["id"], ROWS)
    url = f"/v2/models/{model['id']}/infer"
    body, headers = _binary_body(ROWS, "FP32", parameters={"binary_data_output": True}, id="b1")
    response = client.post(url, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    header, blobs = _split(response)
    assert header["id"] == "b1" and header["model_version"] == "0"
    outputs = {o["name"]: o for o in header["outputs"]}
    assert "data" not in outputs["probabilities"] and outputs["probabilities"]["datatype"] == "FP32"
    probabilities = np.frombuffer(blobs["probabilities"], dtype="<f4").reshape(3, 3)
    np.testing.assert_allclose(probabilities, expected["probabilities"], rtol=1e-6)
    labels, offset = [], 0
    raw = blobs["predictions"]
    while offset < len(raw):
        (size,) = struct.unpack_from("<I", raw, offset)
        labels.append(raw[offset + 4 : offset + 4 + size].decode())
        offset += 4 + size
    assert labels == expected["predictions"]
    # One output binary, the other JSON.
    body, headers = _binary_body(
        ROWS,
        "FP32",
        outputs=[
            {"name": "probabilities", "parameters": {"binary_data": True}},
            {"name": "predictions", "parameters": {"binary_data": False}},
        ],
    )
    header, blobs = _split(client.post(url, content=body, headers=headers))
    assert [o["name"] for o in header["outputs"]] == ["probabilities", "predictions"]
    assert header["outputs"][1]["data"] == expected["predictions"]
    assert set(blobs) == {"probabilities"}


def test_compressed_requests_and_responses(client: TestClient) -> None:
    model = create_model(client)
    rows = np.random.default_rng(0).normal(size=(200, 2))
    body, headers = _binary_body(rows, "FP64")
    url = f"/v2/models/{model['id']}/infer"
    plain = client.post(url, content=body, headers=headers)
    for coding, packed in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        response = client.post(
            url,
            content=packed,
            headers={**headers, "content-encoding": coding, "accept-encoding": coding},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-encoding"] == coding
        assert response.json() == plain.json()  # the test client decodes the answer
    refused = client.post(url, content=body, headers={**headers, "content-encoding": "br"})
    assert "br" in _error(refused, 415)
    broken = client.post(url, content=b"not gzip", headers={**headers, "content-encoding": "gzip"})
    assert "gzip" in _error(broken, 400)


def test_oversized_decompressed_bodies_are_refused(tmp_path: Any) -> None:
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "d", max_body_bytes=50_000))
    with TestClient(app) as client:
        model = create_model(client)
        body = json.dumps(
            {
                "inputs": [
                    {"name": "input", "shape": [1, 2], "datatype": "FP64", "data": [0.0, 0.0]}
                ],
                "id": " " * 60_000,
            }
        ).encode()
        response = client.post(
            f"/v2/models/{model['id']}/infer",
            content=gzip.compress(body),
            headers={"content-encoding": "gzip"},
        )
        assert "limit" in _error(response, 413)
        too_big = client.post(f"/v2/models/{model['id']}/infer", content=body)
        assert "limit" in _error(too_big, 413)
        assert client.post("/v1/datasets", content=body).status_code == 413


def test_bad_binary_requests_are_400s_naming_the_input(client: TestClient) -> None:
    model = create_model(client)
    url = f"/v2/models/{model['id']}/infer"
    body, headers = _binary_body(ROWS, "FP32")
    length = int(headers["Inference-Header-Content-Length"])
    cases = {
        "bytes": (body[:-4], headers),
        "belong to no input": (body + b"\x00" * 4, headers),
        "Inference-Header-Content-Length": (body, {"Inference-Header-Content-Length": "x"}),
        "JSON": (body, {"Inference-Header-Content-Length": str(length - 3)}),
        "neither data": (
            b'{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32"}]}',
            {},
        ),
    }
    for message, (content, request_headers) in cases.items():
        response = client.post(url, content=content, headers=request_headers)
        assert message in _error(response, 400), message
    named, headers = _binary_body(ROWS, "FP32")
    named = named.replace(b'"name": "input"', b'"name": "feats"')
    headers["Inference-Header-Content-Length"] = str(length)
    response = client.post(url, content=named, headers=headers)
    assert "'feats'" in _error(response, 400)
    body, headers = _binary_body(ROWS.reshape(2, 3), "FP64")
    assert "[2, 3]" in _error(client.post(url, content=body, headers=headers), 400)
    body, headers = _binary_body(np.array([[np.inf, 0.0]]), "FP16")
    assert "finite" in _error(client.post(url, content=body, headers=headers), 400)


def test_every_v2_error_is_the_protocol_body(client: TestClient) -> None:
    assert "route" in _error(client.get("/v2/nothing/here"), 404)
    assert "route" in _error(client.get("/v2/models/x/infer/more"), 404)
    assert "method" in _error(client.get("/v2/models/x/infer"), 405)
    assert "method" in _error(client.delete("/v2/health/live"), 405)
    # /v1 keeps problem+json.
    assert client.get("/v1/nothing").headers["content-type"] == "application/problem+json"
