"""The Open Inference Protocol at ``/v2``: health, metadata, inference in FP32/FP64, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.serving_support import (
    assert_close,
    create_model,
    stored_network,
    train_and_publish,
)

ROWS = np.array([[0.5, -1.0], [1.2, 0.3], [-0.7, 0.8]])


def _tensor(
    data: Any, shape: list[int], datatype: str = "FP64", name: str = "input"
) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def _infer(client: TestClient, ref: str, *tensors: dict[str, Any], **extra: Any) -> Any:
    return client.post(f"/v2/models/{ref}/infer", json={"inputs": list(tensors), **extra})


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    return str(body["error"])


def _outputs(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in body["outputs"]}


def test_server_endpoints(client: TestClient) -> None:
    assert client.get("/v2").json() == {
        "name": "annserve",
        "version": "0.1.0",
        "extensions": ["binary_tensor_data"],
    }
    assert client.get("/v2/health/live").json() == {"live": True}
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 200 and ready.json() == {"ready": True}


def test_metadata_by_id_and_by_name(client: TestClient) -> None:
    model = create_model(client, name="circle-net")
    by_name = client.get("/v2/models/circle-net").json()
    by_id = client.get(f"/v2/models/{model['id']}").json()
    assert by_name["name"] == "circle-net" and by_id["name"] == model["id"]
    for meta in (by_name, by_id):
        assert meta["versions"] == ["0"] and meta["platform"] == "annserve_numpy"
        assert meta["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, 2]}]
        assert meta["outputs"] == [
            {"name": "predictions", "datatype": "INT64", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, 2]},
        ]
    regressor = create_model(client, name="reg", task="regression", n_outputs=2, dtype="float32")
    meta = client.get(f"/v2/models/{regressor['id']}/versions/0").json()
    assert meta["inputs"][0]["datatype"] == "FP32"
    assert meta["outputs"] == [{"name": "predictions", "datatype": "FP32", "shape": [-1, 2]}]
    labelled = create_model(client, name="abc", task="multiclass", classes=["a", "b", "c"])
    outputs = client.get(f"/v2/models/{labelled['id']}").json()["outputs"]
    assert outputs[0]["datatype"] == "BYTES" and outputs[1]["shape"] == [-1, 3]
    assert client.get("/v2/models/abc/ready").json() == {"name": "abc", "ready": True}
    assert client.get(f"/v2/models/{labelled['id']}/versions/0/ready").status_code == 200


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("datatype", ["FP64", "FP32"])
def test_infer_matches_the_forward_pass(client: TestClient, dtype: str, datatype: str) -> None:
    model = create_model(client, dtype=dtype)
    X = np.random.default_rng(0).uniform(-1, 1, size=(2, 80))
    ann, version = train_and_publish(client, model["id"], X, (X[0] > X[1])[np.newaxis] * 1.0)
    sent = ROWS.astype(np.float32) if datatype == "FP32" else ROWS
    response = _infer(client, model["id"], _tensor(sent.tolist(), [3, 2], datatype), id="req-7")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_name"], body["model_version"], body["id"]) == (model["id"], "1", "req-7")
    assert body["parameters"] == {"trained": True} and version == 1
    outputs = _outputs(body)
    p = ann.predict_proba(sent.astype(np.float64).T)[0]
    probabilities = outputs["probabilities"]
    expected_type = "FP32" if dtype == "float32" else "FP64"
    assert (probabilities["datatype"], probabilities["shape"]) == (expected_type, [3, 2])
    assert_close(probabilities["data"], np.stack([1 - p, p], axis=1).ravel())
    labels = outputs["predictions"]
    assert (labels["datatype"], labels["shape"]) == ("INT64", [3])
    assert labels["data"] == [int(v > 0.5) for v in p]


def test_infer_flat_integer_data_batches_and_pinned_versions(client: TestClient) -> None:
    model = create_model(client, name="pinned", task="regression")
    v0 = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    X = np.random.default_rng(1).normal(size=(2, 50))
    train_and_publish(client, model["id"], X, X[:1] - X[1:], n_iter=50, lambd=0.05)
    ints = [[1, 2], [3, -4], [0, 0], [5, 6]]
    for datatype in ("INT32", "INT64"):
        flat = [v for row in ints for v in row]
        response = client.post(
            "/v2/models/pinned/versions/0/infer",
            json={
                "inputs": [_tensor(flat, [4, 2], datatype)],
                "outputs": [{"name": "predictions"}],
            },
        )
        assert response.status_code == 200, response.text
        out = response.json()["outputs"]
        assert [o["name"] for o in out] == ["predictions"] and out[0]["shape"] == [4, 1]
        assert_close(out[0]["data"], v0.predict_proba(np.array(ints, dtype=float).T)[0])
        assert response.json()["model_version"] == "0"
        assert "id" not in response.json()


def test_string_labels_come_back_as_bytes(client: TestClient) -> None:
    model = create_model(client, task="multiclass", classes=["red", "green", "blue"])
    ann = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    body = _infer(client, model["id"], _tensor(ROWS.ravel().tolist(), [3, 2])).json()
    labels = _outputs(body)["predictions"]
    assert labels["datatype"] == "BYTES"
    assert labels["data"] == [["red", "green", "blue"][i] for i in ann.predict(ROWS.T)]


def test_protocol_errors(client: TestClient) -> None:
    model = create_model(client, name="strict")
    ref = model["id"]
    cases = [
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 3])),
        _infer(client, ref, _tensor(ROWS.tolist(), [2, 2])),
        _infer(client, ref, _tensor(ROWS.tolist(), [6])),
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 2], "BYTES")),
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 2], "FP16")),
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 2], "INT64")),
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 2], "BOOL")),
        _infer(client, ref, _tensor([[-1, 2]] * 3, [3, 2], "UINT8")),
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 2], name="features")),
        _infer(client, ref, _tensor([[1, "a"]], [1, 2])),
        _infer(client, ref, _tensor([[1, 2], [3]], [2, 2])),
        _infer(client, ref, _tensor([[2**40, 1]], [1, 2], "INT32")),
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 2]), _tensor(ROWS.tolist(), [3, 2])),
        _infer(client, ref, _tensor(ROWS.tolist(), [3, 2]), outputs=[{"name": "logits"}]),
        client.post(f"/v2/models/{ref}/infer", json={"inputs": []}),
        client.post(f"/v2/models/{ref}/infer", json={"inputs": [{"name": "input"}]}),
        client.post(
            f"/v2/models/{ref}/infer",
            content=b'{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP64", '
            b'"data": [NaN, 1.0]}]}',
            headers={"content-type": "application/json"},
        ),
        client.post(
            f"/v2/models/{ref}/infer",
            content=b"{not json",
            headers={"content-type": "application/json"},
        ),
        client.post(
            f"/v2/models/{ref}/infer",
            content=b"\xff\xfe[\x80",
            headers={"content-type": "application/json"},
        ),
    ]
    for response in cases:
        _error(response, 400)
    assert "shape" in _error(cases[0], 400) and "datatype" in _error(cases[3], 400)
    assert "'features'" in _error(cases[8], 400)
    create_model(client, name="twin")
    create_model(client, name="twin")
    assert "by its id" in _error(_infer(client, "twin", _tensor([[0, 0]], [1, 2])), 400)


def test_unknown_models_and_versions_are_404(client: TestClient) -> None:
    model = create_model(client)
    tensor = _tensor([[0.0, 0.0]], [1, 2])
    for response in (
        client.get("/v2/models/nothing-here"),
        client.get("/v2/models/mdl_0000000000000000/ready"),
        client.get(f"/v2/models/{model['id']}/versions/5"),
        client.get(f"/v2/models/{model['id']}/versions/latest/ready"),
        client.post("/v2/models/nothing-here/infer", json={"inputs": [tensor]}),
        client.post(f"/v2/models/{model['id']}/versions/3/infer", json={"inputs": [tensor]}),
    ):
        _error(response, 404)


def test_v2_follows_the_api_key_rule(tmp_path: Path) -> None:
    key = "v2-key-" + "x" * 20
    with TestClient(create_app(Settings(data_dir=tmp_path / "d", api_keys=[key]))) as client:
        auth = {"authorization": f"Bearer {key}"}
        created = client.post(
            "/v1/models", headers=auth, json={"name": "k", "task": "binary", "n_inputs": 2}
        ).json()
        body = {"inputs": [_tensor([[0.0, 0.0]], [1, 2])]}
        for path in ("/v2", f"/v2/models/{created['id']}"):
            _error(client.get(path), 401)
            assert client.get(path, headers=auth).status_code == 200
        for path in ("/v2/health/live", "/v2/health/ready"):  # open, like /healthz
            assert client.get(path).status_code == 200
        url = f"/v2/models/{created['id']}/infer"
        denied = client.post(url, json=body, headers={"authorization": "Bearer nope"})
        _error(denied, 401)
        assert denied.headers["www-authenticate"].startswith("Bearer")
        assert client.post(url, json=body, headers=auth).status_code == 200
