"""Table models in the Open Inference Protocol: one input per raw column (FP64, BOOL, BYTES),
in REST JSON, REST binary tensor data and gRPC, answering as ``/v1`` predict answers the same
records; every error a 400 naming the input. The real tritonclient (HTTP and gRPC) runs against
a real server process."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.conftest import LiveServer, StartServer, free_port

LINES = ["size,colour,flag,when,y"] + [
    f"{'' if i % 7 == 0 else i * 12.5},{['red', 'blue', 'green'][i % 3]},"
    f"{'true' if i % 2 else 'false'},2021-{1 + i % 12:02d}-{1 + i % 28:02d},"
    f"{['no', 'yes'][(i // 3) % 2]}"
    for i in range(30)
]
RECORDS: list[dict[str, Any]] = [
    {"size": 100.0, "colour": "red", "flag": True, "when": "2021-03-04"},
    {"size": None, "colour": "purple", "flag": False, "when": "2022-12-31T10:30:00"},
    {"size": 7.5, "colour": None, "flag": None, "when": None},
]
SCHEMA = [
    {"name": "size", "datatype": "FP64", "shape": [-1]},
    {"name": "colour", "datatype": "BYTES", "shape": [-1]},
    {"name": "flag", "datatype": "BOOL", "shape": [-1]},
    {"name": "when", "datatype": "BYTES", "shape": [-1]},
]


def _columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [r[name] for r in records] for name in records[0]}


def _json_inputs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    datatypes = {s["name"]: s["datatype"] for s in SCHEMA}
    return [
        {"name": name, "datatype": datatypes[name], "shape": [len(values)], "data": values}
        for name, values in _columns(records).items()
    ]


def _upload(post: Any, lines: list[str], **form: str) -> str:
    files = {"file": ("t.csv", "\n".join(lines).encode())}
    response = post("/v1/datasets/upload", files=files, data=form)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _table_model(post: Any, lines: list[str] = LINES, **form: str) -> str:
    dataset_id = _upload(post, lines, **form)
    response = post("/v1/models", json={"name": "table", "dataset_id": dataset_id})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from app.main import create_app

    settings = Settings(data_dir=tmp_path / "data", max_concurrent_jobs=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def _error(response: Any) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["error"])


def test_metadata_and_json_infer_match_v1(client: TestClient) -> None:
    model_id = _table_model(client.post)
    meta = client.get(f"/v2/models/{model_id}").json()
    assert meta["inputs"] == SCHEMA
    assert [o["name"] for o in meta["outputs"]] == ["predictions", "probabilities"]
    expected = client.post(f"/v1/models/{model_id}/predict", json={"records": RECORDS}).json()
    inputs = _json_inputs(RECORDS)
    answer = client.post(f"/v2/models/{model_id}/infer", json={"inputs": inputs[::-1]})
    assert answer.status_code == 200, answer.text
    outputs = {o["name"]: o for o in answer.json()["outputs"]}
    assert outputs["predictions"]["data"] == expected["predictions"]
    assert answer.json()["parameters"]["warnings"] == expected["warnings"]
    assert any("purple" in w for w in expected["warnings"])
    assert outputs["probabilities"]["shape"] == [3, 2]
    np.testing.assert_allclose(
        np.reshape(outputs["probabilities"]["data"], (3, 2)), expected["probabilities"]
    )
    # [batch, 1] shapes, nested data, and empty text read as missing.
    nested = [
        {
            **t,
            "shape": [3, 1],
            "data": [[v if v is not None or t["datatype"] != "BYTES" else ""] for v in t["data"]],
        }
        for t in inputs
    ]
    again = client.post(f"/v2/models/{model_id}/infer", json={"inputs": nested}).json()
    assert {o["name"]: o for o in again["outputs"]}["predictions"]["data"] == expected[
        "predictions"
    ]


def test_regression_outputs_in_the_targets_units(client: TestClient) -> None:
    lines = ["a,kind,price"] + [f"{i * 0.5},{['x', 'y'][i % 2]},{300 + 7 * i}" for i in range(24)]
    model_id = _table_model(client.post, lines, task="regression")
    records = [{"a": 1.5, "kind": "x"}, {"a": None, "kind": "z"}]
    expected = client.post(f"/v1/models/{model_id}/predict", json={"records": records}).json()
    inputs = [
        {"name": "a", "datatype": "FP64", "shape": [2], "data": [1.5, None]},
        {"name": "kind", "datatype": "BYTES", "shape": [2], "data": ["x", "z"]},
    ]
    answer = client.post(f"/v2/models/{model_id}/infer", json={"inputs": inputs}).json()
    (output,) = answer["outputs"]
    assert output["shape"] == [2, 1]
    np.testing.assert_allclose(output["data"], np.ravel(expected["predictions"]))


def _binary_body(tensors: list[tuple[str, str, list[int], bytes]]) -> tuple[bytes, int]:
    header = json.dumps(
        {
            "inputs": [
                {"name": n, "datatype": d, "shape": s, "parameters": {"binary_data_size": len(b)}}
                for n, d, s, b in tensors
            ]
        }
    ).encode()
    return header + b"".join(b for *_, b in tensors), len(header)


def _texts(values: list[str]) -> bytes:
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def test_binary_tensor_data_with_bytes(client: TestClient) -> None:
    model_id = _table_model(client.post)
    records = [*RECORDS[:2], {**RECORDS[2], "flag": False}]
    expected = client.post(f"/v1/models/{model_id}/predict", json={"records": records}).json()
    tensors = [
        ("size", "FP64", [3], np.array([100.0, np.nan, 7.5]).tobytes()),
        ("colour", "BYTES", [3], _texts(["red", "purple", ""])),
        ("flag", "BOOL", [3], np.array([True, False, False]).tobytes()),
        ("when", "BYTES", [3], _texts(["2021-03-04", "2022-12-31T10:30:00", "NA"])),
    ]
    body, length = _binary_body(tensors)
    headers = {"inference-header-content-length": str(length)}
    answer = client.post(f"/v2/models/{model_id}/infer", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    outputs = {o["name"]: o for o in answer.json()["outputs"]}
    assert outputs["predictions"]["data"] == expected["predictions"]
    np.testing.assert_allclose(
        np.reshape(outputs["probabilities"]["data"], (3, 2)), expected["probabilities"]
    )
    broken = [*tensors[:1], ("colour", "BYTES", [3], _texts(["red", "blue"])), *tensors[2:]]
    body, length = _binary_body(broken)
    headers = {"inference-header-content-length": str(length)}
    response = client.post(f"/v2/models/{model_id}/infer", content=body, headers=headers)
    assert "'colour'" in _error(response)
    cut = [
        *tensors[:1],
        ("colour", "BYTES", [3], _texts(["red", "blue", "green"])[:-2]),
        *tensors[2:],
    ]
    body, length = _binary_body(cut)
    headers = {"inference-header-content-length": str(length)}
    response = client.post(f"/v2/models/{model_id}/infer", content=body, headers=headers)
    assert "'colour'" in _error(response)


def test_errors_name_the_input(client: TestClient) -> None:
    model_id = _table_model(client.post)
    url = f"/v2/models/{model_id}/infer"
    inputs = _json_inputs(RECORDS)

    def infer(tensors: list[dict[str, Any]]) -> str:
        return _error(client.post(url, json={"inputs": tensors}))

    message = infer([t for t in inputs if t["name"] != "flag"])
    assert "missing input(s) 'flag'" in message
    assert "'flag'" in infer([t for t in inputs if t["name"] not in ("flag", "when")])
    wrong_type = [{**t, "datatype": "FP64"} if t["name"] == "colour" else t for t in inputs]
    assert "'colour'" in infer(wrong_type) and "BYTES" in infer(wrong_type)
    bool_as_int = [{**t, "datatype": "INT64"} if t["name"] == "flag" else t for t in inputs]
    assert "'flag'" in infer(bool_as_int)
    # A numeric column reads any numeric datatype as numbers.
    whole = [
        {**t, "datatype": "INT64", "data": [100, None, 7]} if t["name"] == "size" else t
        for t in inputs
    ]
    as_int = client.post(url, json={"inputs": whole})
    assert as_int.status_code == 200, as_int.text
    records = [{**r, "size": s} for r, s in zip(RECORDS, [100, None, 7], strict=True)]
    expected = client.post(f"/v1/models/{model_id}/predict", json={"records": records}).json()
    outputs = {o["name"]: o for o in as_int.json()["outputs"]}
    assert outputs["predictions"]["data"] == expected["predictions"]
    text_in_numbers = [{**t, "data": ["1", 2, 3]} if t["name"] == "size" else t for t in inputs]
    assert "'size'" in infer(text_in_numbers)
    short = [
        {**t, "shape": [2], "data": t["data"][:2]} if t["name"] == "when" else t for t in inputs
    ]
    assert "same batch" in infer(short)
    assert "'when'" in infer([{**t, "shape": [4]} if t["name"] == "when" else t for t in inputs])
    bad_date = [{**t, "data": ["soon", None, None]} if t["name"] == "when" else t for t in inputs]
    assert "'when'" in infer(bad_date) and "rows 0" in infer(bad_date)
    assert "unknown input 'input'" in infer([*inputs, {**inputs[0], "name": "input"}])
    assert "more than once" in infer([*inputs, inputs[0]])
    assert "'size'" in infer([{**t, "shape": [1, 3]} if t["name"] == "size" else t for t in inputs])
    # The single-tensor form stays for numeric models only.
    numeric = client.post("/v1/models", json={"name": "n", "task": "binary", "n_inputs": 2}).json()
    texts = {"name": "input", "datatype": "BYTES", "shape": [1, 2], "data": ["a", "b"]}
    assert "BYTES" in _error(
        client.post(f"/v2/models/{numeric['id']}/infer", json={"inputs": [texts]})
    )


def _triton_arrays() -> dict[str, np.ndarray]:
    return {
        "size": np.array([100.0, np.nan, 7.5]),
        "colour": np.array([b"red", b"purple", b""], dtype=object),
        "flag": np.array([True, False, True]),
        "when": np.array([b"2021-03-04", b"2022-12-31T10:30:00", b""], dtype=object),
    }


TRITON_RECORDS = [
    {"size": 100.0, "colour": "red", "flag": True, "when": "2021-03-04"},
    {"size": None, "colour": "purple", "flag": False, "when": "2022-12-31T10:30:00"},
    {"size": 7.5, "colour": None, "flag": True, "when": None},
]


@pytest.mark.slow
def test_tritonclient_http_and_grpc(live_server: StartServer) -> None:
    tritonhttp = pytest.importorskip("tritonclient.http")
    tritongrpc = pytest.importorskip("tritonclient.grpc")
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    port = free_port()
    server: LiveServer = live_server(env={"ANNSERVE_GRPC_PORT": str(port)})
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        model_id = _table_model(http.post)
        expected = http.post(
            f"/v1/models/{model_id}/predict", json={"records": TRITON_RECORDS}
        ).json()
    arrays = _triton_arrays()
    datatypes = {s["name"]: s["datatype"] for s in SCHEMA}
    rest = tritonhttp.InferenceServerClient(server.base_url.removeprefix("http://"))
    try:
        meta = rest.get_model_metadata(model_id)
        assert meta["inputs"] == SCHEMA
        for binary in (True, False):
            inputs = []
            for name, values in arrays.items():
                tensor = tritonhttp.InferInput(name, [3], datatypes[name])
                tensor.set_data_from_numpy(values, binary_data=binary)
                inputs.append(tensor)
            result = rest.infer(model_id, inputs)
            assert result.as_numpy("predictions").tolist() == [
                label.encode() if isinstance(label, str) else label
                for label in expected["predictions"]
            ]
            np.testing.assert_allclose(result.as_numpy("probabilities"), expected["probabilities"])
        missing = [tensor for tensor in inputs if tensor.name() != "when"]
        with pytest.raises(Exception, match="'when'"):
            rest.infer(model_id, missing)
    finally:
        rest.close()
    remote = tritongrpc.InferenceServerClient(f"127.0.0.1:{port}")
    try:
        meta = remote.get_model_metadata(model_id, as_json=True)
        assert [(i["name"], i["datatype"], i["shape"]) for i in meta["inputs"]] == [
            (s["name"], s["datatype"], [str(d) for d in s["shape"]]) for s in SCHEMA
        ]
        inputs = []
        for name, values in arrays.items():
            tensor = tritongrpc.InferInput(name, [3], datatypes[name])
            tensor.set_data_from_numpy(values)
            inputs.append(tensor)
        result = remote.infer(model_id, inputs)
        labels = [v.decode() for v in result.as_numpy("predictions").tolist()]
        assert labels == expected["predictions"]
        np.testing.assert_allclose(result.as_numpy("probabilities"), expected["probabilities"])
        wrong = tritongrpc.InferInput("flag", [3], "INT64")
        wrong.set_data_from_numpy(np.array([1, 0, 1], dtype=np.int64))
        with pytest.raises(Exception, match="'flag'"):
            remote.infer(model_id, [*[t for t in inputs if t.name() != "flag"], wrong])
    finally:
        remote.close()
    # Typed contents: fp64, bytes and bool fields, per column.
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        request = service_pb2.ModelInferRequest(model_name=model_id)
        fields = {"FP64": "fp64_contents", "BYTES": "bytes_contents", "BOOL": "bool_contents"}
        for name, values in arrays.items():
            tensor = request.inputs.add(name=name, datatype=datatypes[name], shape=[3])
            getattr(tensor.contents, fields[datatypes[name]]).extend(values.tolist())
        response = stub.ModelInfer(request)
        assert "purple" in response.parameters["warnings"].string_param
        names = [output.name for output in response.outputs]
        raw = response.raw_output_contents[names.index("probabilities")]
        probabilities = np.frombuffer(raw, dtype="<f8").reshape(3, 2)
        np.testing.assert_allclose(probabilities, expected["probabilities"])
