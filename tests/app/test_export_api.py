"""``/v1/models/{id}/export``: npz and JSON round trips, ONNX parity with ``/predict``."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from app.services.export import network_from_json
from core.serialization import model_from_bytes
from tests.app.helpers import assert_problem
from tests.app.serving_support import create_model, stored_network, train_and_publish

HIDDEN = [{"units": 5, "activation": "relu"}, {"units": 3, "activation": "tanh"}]
TASKS: list[tuple[str, dict[str, Any]]] = [
    ("binary", {}),
    ("multiclass", {"classes": ["a", "b", "c"]}),
    ("regression", {"n_outputs": 2}),
]


def _export(client: TestClient, model_id: str, fmt: str, **query: Any) -> Any:
    response = client.get(f"/v1/models/{model_id}/export", params={"format": fmt, **query})
    assert response.status_code == 200, response.text
    return response


def test_npz_is_the_stored_version(client: TestClient) -> None:
    model = create_model(client)
    X = np.random.default_rng(0).uniform(-1, 1, size=(2, 40))
    ann, version = train_and_publish(client, model["id"], X, (X[0] > 0)[np.newaxis] * 1.0)
    response = _export(client, model["id"], "npz")
    assert response.headers["content-type"] == "application/x-npz"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{model["id"]}-v{version}.npz"'
    )
    loaded = model_from_bytes(response.content)
    for name, value in ann.parameters.items():
        assert np.array_equal(loaded.parameters[name], value)
    old = model_from_bytes(_export(client, model["id"], "npz", version=0).content)
    v0 = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    assert np.array_equal(old.flat_parameters, v0.flat_parameters)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_json_holds_architecture_and_parameters(client: TestClient, dtype: str) -> None:
    model = create_model(client, task="multiclass", classes=["x", "y", "z"], dtype=dtype)
    document = _export(client, model["id"], "json").json()
    assert document["format"] == "annserve.model" and document["version"] == 0
    assert document["classes"] == ["x", "y", "z"] and document["trained"] is False
    assert document["architecture"]["dtype"] == dtype
    assert document["architecture"]["n_h"] == [4]
    rebuilt = network_from_json(document)
    original = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    assert rebuilt.dtype == np.dtype(dtype)
    for name, value in original.parameters.items():
        assert np.array_equal(rebuilt.parameters[name], value)  # bit for bit


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("task", "extra"), TASKS)
def test_onnx_runs_in_onnxruntime_like_predict(
    client: TestClient, dtype: str, task: str, extra: dict[str, Any]
) -> None:
    model = create_model(client, task=task, dtype=dtype, hidden_layers=HIDDEN, seed=3, **extra)
    X = np.random.default_rng(1).normal(size=(2, 60))
    Y = np.vstack([X[0] * X[1], X[0] - X[1]])
    if task == "binary":
        Y = (Y[:1] > 0) * 1.0
    elif task == "multiclass":
        Y = np.eye(3)[np.argmax(np.vstack([X, -X.sum(axis=0, keepdims=True)]), axis=0)].T
    train_and_publish(client, model["id"], X, Y, n_iter=100, lambd=0.1)
    session = ort.InferenceSession(
        _export(client, model["id"], "onnx").content, providers=["CPUExecutionProvider"]
    )
    assert [i.name for i in session.get_inputs()] == ["input"]
    rows = np.random.default_rng(2).normal(size=(25, 2))
    outputs = dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, {"input": rows.astype(dtype)}),
            strict=True,
        )
    )
    answer = client.post(f"/v1/models/{model['id']}/predict", json={"inputs": rows.tolist()})
    body = answer.json()
    if task == "regression":
        assert set(outputs) == {"values"}
        assert np.max(np.abs(outputs["values"] - np.array(body["predictions"]))) <= 1e-6
        return
    assert set(outputs) == {"probabilities", "class_index"}
    assert outputs["probabilities"].dtype == np.dtype(dtype)
    assert np.max(np.abs(outputs["probabilities"] - np.array(body["probabilities"]))) <= 1e-6
    classes = body["classes"]
    assert [classes[i] for i in outputs["class_index"]] == body["predictions"]


def test_onnx_needs_the_extra(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    model = create_model(client)
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes ``import onnx`` fail
    response = client.get(f"/v1/models/{model['id']}/export", params={"format": "onnx"})
    problem = assert_problem(response, 406, "onnx_unavailable")
    assert "annserve[onnx]" in problem["detail"]


def test_export_errors(client: TestClient) -> None:
    model = create_model(client)
    url = f"/v1/models/{model['id']}/export"
    assert_problem(client.get(url, params={"format": "pickle"}), 422, "validation_error")
    assert_problem(client.get(url, params={"version": 2}), 404, "version_not_found")
    assert_problem(client.get("/v1/models/mdl_0000000000000000/export"), 404)
