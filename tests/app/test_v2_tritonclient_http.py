"""The real ``tritonclient.http`` (sync, async_infer and aio) against a real server process.

Every answer must equal ``/v1/models/{id}/predict`` for the same rows: labels exactly,
probabilities to float rounding.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pytest

from tests.conftest import LiveServer, StartServer

tritonhttp = pytest.importorskip("tritonclient.http")
tritonaio = pytest.importorskip("tritonclient.http.aio")

pytestmark = pytest.mark.slow

ROWS = np.random.default_rng(7).uniform(-1, 1, size=(5, 2))


def _model(server: LiveServer, **body: Any) -> dict[str, Any]:
    payload = {"name": "triton-net", "task": "binary", "n_inputs": 2} | body
    response = httpx.post(f"{server.base_url}/v1/models", json=payload, timeout=10)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _predict(server: LiveServer, model_id: str, rows: np.ndarray) -> dict[str, Any]:
    url = f"{server.base_url}/v1/models/{model_id}/predict"
    response = httpx.post(url, json={"inputs": rows.tolist()}, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _input(rows: np.ndarray, datatype: str, binary: bool = True) -> Any:
    tensor = tritonhttp.InferInput("input", list(rows.shape), datatype)
    tensor.set_data_from_numpy(
        rows.astype(np.float32 if datatype == "FP32" else np.float64), binary
    )
    return tensor


def _assert_same(result: Any, expected: dict[str, Any], rtol: float) -> None:
    labels = result.as_numpy("predictions")
    probabilities = result.as_numpy("probabilities")
    assert labels.tolist() == expected["predictions"]
    np.testing.assert_allclose(probabilities, expected["probabilities"], rtol=rtol, atol=1e-7)


@pytest.fixture
def server(live_server: StartServer) -> LiveServer:
    return live_server()


def test_health_and_metadata(server: LiveServer) -> None:
    model = _model(server)
    client = tritonhttp.InferenceServerClient(server.base_url.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_server_ready()
        metadata = client.get_server_metadata()
        assert metadata["name"] == "annserve" and "binary_tensor_data" in metadata["extensions"]
        assert client.is_model_ready(model["id"]) and client.is_model_ready("triton-net")
        assert not client.is_model_ready("no-such-model")
        meta = client.get_model_metadata("triton-net")
        assert meta["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, 2]}]
        assert [o["name"] for o in meta["outputs"]] == ["predictions", "probabilities"]
        assert client.get_model_metadata(model["id"], model_version="0")["versions"] == ["0"]
    finally:
        client.close()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_infer_with_the_client_defaults_and_json(server: LiveServer, dtype: str) -> None:
    model = _model(server, dtype=dtype)
    client = tritonhttp.InferenceServerClient(server.base_url.removeprefix("http://"))
    try:
        for datatype in ("FP32", "FP64"):
            sent = ROWS.astype(np.float32).astype(np.float64) if datatype == "FP32" else ROWS
            expected = _predict(server, model["id"], sent)
            rtol = 1e-6 if dtype == "float32" else 1e-12
            # Defaults: binary input, every output binary.
            result = client.infer(model["id"], [_input(ROWS, datatype)])
            _assert_same(result, expected, rtol)
            assert result.get_response()["model_version"] == "0"
            # JSON input, outputs requested as binary and as JSON.
            for binary_out in (True, False):
                outputs = [
                    tritonhttp.InferRequestedOutput("predictions", binary_data=binary_out),
                    tritonhttp.InferRequestedOutput("probabilities", binary_data=binary_out),
                ]
                result = client.infer(
                    "triton-net", [_input(ROWS, datatype, binary=False)], outputs=outputs
                )
                _assert_same(result, expected, rtol)
                has_data = "data" in result.get_output("probabilities")
                assert has_data is not binary_out
    finally:
        client.close()


def test_compression_async_infer_and_errors(server: LiveServer) -> None:
    model = _model(server)
    rows = np.random.default_rng(3).normal(size=(300, 2))
    expected = _predict(server, model["id"], rows)
    client = tritonhttp.InferenceServerClient(
        server.base_url.removeprefix("http://"), concurrency=4
    )
    try:
        for coding in ("gzip", "deflate"):
            result = client.infer(
                model["id"],
                [_input(rows, "FP64")],
                request_compression_algorithm=coding,
                response_compression_algorithm=coding,
            )
            _assert_same(result, expected, 1e-12)
        pending = [client.async_infer(model["id"], [_input(rows, "FP64")]) for _ in range(4)]
        for request in pending:
            _assert_same(request.get_result(), expected, 1e-12)
        bad = tritonhttp.InferInput("features", [5, 2], "FP64")
        bad.set_data_from_numpy(ROWS)
        with pytest.raises(Exception, match="features"):
            client.infer(model["id"], [bad])
        with pytest.raises(Exception, match="shape"):
            client.infer(model["id"], [_input(ROWS.reshape(2, 5), "FP64")])
    finally:
        client.close()


def test_the_asyncio_client(server: LiveServer) -> None:
    model = _model(server)
    expected = _predict(server, model["id"], ROWS)

    async def run() -> None:
        client = tritonaio.InferenceServerClient(server.base_url.removeprefix("http://"))
        try:
            assert await client.is_server_live() and await client.is_model_ready(model["id"])
            assert (await client.get_model_metadata(model["id"]))["platform"] == "annserve_numpy"
            results = await asyncio.gather(
                *(client.infer(model["id"], [_input(ROWS, "FP64")]) for _ in range(3)),
                client.infer(model["id"], [_input(ROWS, "FP64", binary=False)]),
            )
            for result in results:
                _assert_same(result, expected, 1e-12)
        finally:
            await client.close()

    asyncio.run(run())
