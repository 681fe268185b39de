"""The Open Inference Protocol over gRPC: the real ``tritonclient.grpc`` against a real server.

Answers must equal ``/v1/models/{id}/predict`` for the same rows; the messages of tritonclient's
own copy of the protocol (package ``inference``) are understood as they are.
"""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import numpy as np
import pytest

from tests.conftest import LiveServer, StartServer, free_port, stop_process

tritongrpc = pytest.importorskip("tritonclient.grpc")
from tritonclient.grpc import service_pb2, service_pb2_grpc  # noqa: E402
from tritonclient.utils import InferenceServerException  # noqa: E402

pytestmark = pytest.mark.slow

ROWS = np.random.default_rng(11).uniform(-1, 1, size=(4, 2))
KEY = "grpc-test-key-" + "k" * 16


def _start(live_server: StartServer, **env: str) -> tuple[LiveServer, str]:
    port = free_port()
    server = live_server(env={"ANNSERVE_GRPC_PORT": str(port), **env})
    return server, f"127.0.0.1:{port}"


def _model(server: LiveServer, headers: dict[str, str] | None = None, **body: Any) -> str:
    payload = {"name": "grpc-net", "task": "multiclass", "n_inputs": 2, "classes": [3, 5, 7]}
    response = httpx.post(
        f"{server.base_url}/v1/models", json=payload | body, headers=headers, timeout=10
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _predict(server: LiveServer, model_id: str, rows: np.ndarray, **kwargs: Any) -> Any:
    url = f"{server.base_url}/v1/models/{model_id}/predict"
    response = httpx.post(url, json={"inputs": rows.tolist()}, timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def _input(rows: np.ndarray, datatype: str) -> Any:
    tensor = tritongrpc.InferInput("input", list(rows.shape), datatype)
    tensor.set_data_from_numpy(rows.astype(np.float32 if datatype == "FP32" else np.float64))
    return tensor


def test_health_metadata_and_infer(live_server: StartServer) -> None:
    server, address = _start(live_server)
    model_id = _model(server)
    client = tritongrpc.InferenceServerClient(address)
    try:
        assert client.is_server_live() and client.is_server_ready()
        metadata = client.get_server_metadata(as_json=True)
        assert metadata["name"] == "annserve" and metadata["extensions"] == ["binary_tensor_data"]
        assert client.is_model_ready(model_id) and client.is_model_ready("grpc-net", "0")
        assert not client.is_model_ready("no-such-model")
        meta = client.get_model_metadata("grpc-net", as_json=True)
        assert meta["platform"] == "annserve_numpy" and meta["versions"] == ["0"]
        assert meta["inputs"] == [{"name": "input", "datatype": "FP64", "shape": ["-1", "2"]}]
        for datatype in ("FP32", "FP64"):
            sent = ROWS.astype(np.float32).astype(np.float64) if datatype == "FP32" else ROWS
            expected = _predict(server, model_id, sent)
            result = client.infer(model_id, [_input(ROWS, datatype)], request_id="g1")
            assert result.as_numpy("predictions").tolist() == expected["predictions"]
            np.testing.assert_allclose(
                result.as_numpy("probabilities"), expected["probabilities"], rtol=1e-12
            )
            response = result.get_response(as_json=True)
            assert response["id"] == "g1" and response["model_version"] == "0"
            assert response["parameters"]["trained"] == {"bool_param": False}
        only = client.infer(
            "grpc-net",
            [_input(ROWS, "FP64")],
            outputs=[tritongrpc.InferRequestedOutput("probabilities")],
        )
        assert [o["name"] for o in only.get_response(as_json=True)["outputs"]] == ["probabilities"]
        with pytest.raises(InferenceServerException, match="shape") as caught:
            client.infer(model_id, [_input(ROWS.reshape(2, 4), "FP64")])
        assert caught.value.status() == "StatusCode.INVALID_ARGUMENT"
        with pytest.raises(InferenceServerException) as caught:
            client.infer("no-such-model", [_input(ROWS, "FP64")])
        assert caught.value.status() == "StatusCode.NOT_FOUND"
    finally:
        client.close()
    stop_process(server.process)  # SIGTERM stops HTTP and gRPC gracefully
    assert server.process.returncode == 0, server.log()


def test_typed_contents_and_a_float32_regressor(live_server: StartServer) -> None:
    server, address = _start(live_server)
    model_id = _model(server, name="reg32", task="regression", classes=None, dtype="float32")
    expected = np.asarray(_predict(server, model_id, ROWS)["predictions"])
    with grpc.insecure_channel(address) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        request = service_pb2.ModelInferRequest(model_name="reg32", model_version="0")
        tensor = request.inputs.add(name="input", datatype="FP64", shape=[4, 2])
        tensor.contents.fp64_contents.extend(ROWS.ravel().tolist())
        response = stub.ModelInfer(request)
        (output,) = response.outputs
        assert (output.name, output.datatype, list(output.shape)) == ("predictions", "FP32", [4, 1])
        values = np.frombuffer(response.raw_output_contents[0], dtype="<f4")
        np.testing.assert_allclose(values, expected, rtol=1e-6)
        ints = service_pb2.ModelInferRequest(model_name=model_id)
        tensor = ints.inputs.add(name="input", datatype="INT32", shape=[2, 2])
        tensor.contents.int_contents.extend([1, -2, 3, 0])
        answer = stub.ModelInfer(ints)
        by_rest = _predict(server, model_id, np.array([[1.0, -2.0], [3.0, 0.0]]))["predictions"]
        got = np.frombuffer(answer.raw_output_contents[0], dtype="<f4")
        np.testing.assert_allclose(got, by_rest, rtol=1e-6)


def test_the_api_key_rule(live_server: StartServer) -> None:
    server, address = _start(live_server, ANNSERVE_API_KEYS=KEY)
    auth = {"authorization": f"Bearer {KEY}"}
    model_id = _model(server, headers=auth)
    client = tritongrpc.InferenceServerClient(address)
    try:
        for headers in (None, {"authorization": "Bearer wrong-key"}, {"authorization": KEY}):
            with pytest.raises(InferenceServerException) as caught:
                client.is_server_live(headers=headers)
            assert caught.value.status() == "StatusCode.UNAUTHENTICATED"
            with pytest.raises(InferenceServerException) as caught:
                client.infer(model_id, [_input(ROWS, "FP64")], headers=headers)
            assert caught.value.status() == "StatusCode.UNAUTHENTICATED"
        assert client.is_server_live(headers=auth)
        result = client.infer(model_id, [_input(ROWS, "FP64")], headers=auth)
        expected = _predict(server, model_id, ROWS, headers=auth)
        assert result.as_numpy("predictions").tolist() == expected["predictions"]
    finally:
        client.close()


def test_a_taken_grpc_port_stops_serve(live_server: StartServer) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(RuntimeError, match="gRPC cannot listen"):
            live_server(env={"ANNSERVE_GRPC_PORT": str(port)})
