"""Neuron maps through HTTP: the binary form (the safetensors layout, read here by hand) next
to JSON, its negotiation and errors, and maps of models with derived input features, whose
grid is over the two raw inputs and goes through the model's preprocessing."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from app.services.neuron_map_files import METADATA_KEY
from tests.app.helpers import assert_problem
from tests.app.jobs_support import make_dataset, make_model, start_job

Client = TestClient
DERIVED = ["x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
FORMS = ("json", "binary")
GRID = {"resolution": 6, "x1_min": -3, "x1_max": 2, "x2_min": -1, "x2_max": 4}


def read_maps_file(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray[Any, Any]]]:
    """An independent reader of the documented layout: header length, JSON header, float32."""
    (length,) = struct.unpack("<Q", data[:8])
    assert (8 + length) % 8 == 0  # the tensors start aligned, so a Float32Array can view them
    header = json.loads(data[8 : 8 + length])
    metadata = json.loads(header.pop("__metadata__")[METADATA_KEY])
    start = 8 + length
    tensors = {}
    ends = []
    for name, entry in header.items():
        assert entry["dtype"] == "F32"
        begin, end = entry["data_offsets"]
        ends.append(end)
        values = np.frombuffer(data[start + begin : start + end], dtype="<f4")
        tensors[name] = values.reshape(entry["shape"])
    assert start + max(ends) == len(data)
    return metadata, tensors


def _model(client: Client, **overrides: Any) -> dict[str, Any]:
    dataset = make_dataset(client, n_samples=80)
    hidden = [{"units": 3, "activation": "tanh"}, {"units": 2, "activation": "relu"}]
    return make_model(client, dataset["id"], hidden_layers=hidden, **overrides)


def test_the_binary_form_holds_the_json_grids_as_float32(client: Client) -> None:
    model = _model(client)
    url = f"/v1/models/{model['id']}/neuron-maps"
    as_json = client.get(url, params=GRID)
    assert as_json.headers["content-type"] == "application/json"
    body = as_json.json()
    binary = client.get(url, params={**GRID, "format": "binary"})
    assert binary.status_code == 200, binary.text
    assert binary.headers["content-type"] == "application/octet-stream"
    assert "accept" in binary.headers["vary"].lower()
    head, tensors = read_maps_file(binary.content)
    assert head["model_id"] == model["id"] and head["version"] == 0
    assert head["resolution"] == 6 and head["extent"] == [-3, 2, -1, 4]
    assert head["input_names"] == body["input_names"] == ["x1", "x2"]
    assert sorted(tensors) == ["A1", "A2", "A3", "W1", "W2", "W3", "b1", "b2", "b3", "inputs"]
    # Without a stage the inputs are the grid itself: x1 along a row, x2 up the rows.
    np.testing.assert_allclose(tensors["inputs"][0, 0], np.linspace(-3, 2, 6), rtol=1e-6)
    np.testing.assert_allclose(tensors["inputs"][1, :, 0], np.linspace(-1, 4, 6), rtol=1e-6)
    np.testing.assert_allclose(tensors["inputs"].reshape(2, -1), body["inputs"], atol=1e-4)
    for index, layer in enumerate(body["layers"], 1):
        assert head["layers"][index - 1] == {
            key: layer[key] for key in ("layer", "activation", "units", "min", "max")
        }
        grids = tensors[f"A{index}"]
        assert grids.shape == (layer["units"], 6, 6)
        np.testing.assert_allclose(grids.reshape(layer["units"], -1), layer["values"], atol=1e-4)
        np.testing.assert_allclose(tensors[f"W{index}"], layer["W"], rtol=1e-6)
        np.testing.assert_allclose(tensors[f"b{index}"], layer["b"], rtol=1e-6)
    # Compact at the page's resolution: the point of the form.
    sizes = [len(client.get(url, params={"resolution": 24, "format": f}).content) for f in FORMS]
    assert sizes[1] < sizes[0] / 1.5, sizes


def test_accept_chooses_the_form_and_refusals_are_problems(client: Client) -> None:
    model = _model(client)
    url = f"/v1/models/{model['id']}/neuron-maps"
    octets = client.get(url, headers={"Accept": "application/octet-stream"})
    assert octets.headers["content-type"] == "application/octet-stream"
    assert read_maps_file(octets.content)[0]["resolution"] == 20
    preferred = client.get(
        url, headers={"Accept": "application/json;q=0.5, application/octet-stream"}
    )
    assert preferred.headers["content-type"] == "application/octet-stream"
    assert client.get(url, headers={"Accept": "*/*"}).headers["content-type"] == "application/json"
    # The query wins over Accept.
    octet_stream = {"Accept": "application/octet-stream"}
    forced = client.get(url, params={"format": "json"}, headers=octet_stream)
    assert forced.headers["content-type"] == "application/json"
    assert_problem(client.get(url, headers={"Accept": "image/png"}), 406)
    assert_problem(client.get(url, params={"format": "xml"}), 422)
    # Errors stay problem+json whatever form was asked for.
    for params in ({"format": "binary", "resolution": 1}, {"format": "binary", "x1_max": -9}):
        assert_problem(client.get(url, params=params), 422)
    missing = "/v1/models/mdl_0000000000000000/neuron-maps?format=binary"
    assert_problem(client.get(missing), 404)
    assert_problem(client.get("/v1/jobs/job_0000000000000000/neuron-maps?format=binary"), 404)


def _affine_in(values: Any, reference: Any) -> bool:
    """Whether ``values`` is ``a * reference + c`` (a != 0): a scaled column."""
    A = np.column_stack([reference, np.ones_like(reference)])
    coefficients, *_ = np.linalg.lstsq(A, values, rcond=None)
    fitted = A @ coefficients
    return bool(abs(coefficients[0]) > 1e-6 and np.allclose(fitted, values, atol=1e-3))


def test_a_model_with_derived_features_has_maps_over_its_raw_inputs(client: Client) -> None:
    model = _model(client, derived_features=DERIVED)
    assert model["n_inputs"] == 7
    url = f"/v1/models/{model['id']}/neuron-maps"
    body = client.get(url, params=GRID).json()
    assert body["input_names"] == ["x1", "x2", *DERIVED]
    G1, G2 = np.meshgrid(np.linspace(-3, 2, 6), np.linspace(-1, 4, 6))
    x1, x2 = G1.ravel(), G2.ravel()
    raw = [x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)]
    inputs = np.asarray(body["inputs"])
    assert inputs.shape == (7, 36)
    for feature, reference in zip(inputs, raw, strict=True):
        assert _affine_in(feature, reference)  # each feature, scaled as the stage fitted it
    W1, b1 = np.asarray(body["layers"][0]["W"]), np.asarray(body["layers"][0]["b"])
    assert W1.shape == (3, 7)
    np.testing.assert_allclose(
        body["layers"][0]["values"], np.tanh(W1 @ inputs + b1[:, None]), atol=2e-4
    )
    # The output map is the model's prediction for the raw rows, preprocessing included.
    rows = np.column_stack([x1, x2]).tolist()
    predicted = client.post(f"/v1/models/{model['id']}/predict", json={"inputs": rows})
    assert predicted.status_code == 200, predicted.text
    outputs = np.asarray(predicted.json()["probabilities"])[:, 1]
    np.testing.assert_allclose(body["layers"][-1]["values"][0], outputs, atol=1e-4)

    head, tensors = read_maps_file(client.get(url, params={**GRID, "format": "binary"}).content)
    assert head["input_names"] == body["input_names"] and tensors["inputs"].shape == (7, 6, 6)
    np.testing.assert_allclose(tensors["inputs"].reshape(7, -1), inputs, atol=1e-4)


def test_a_job_of_a_derived_model_has_maps_before_its_first_snapshot(client: Client) -> None:
    dataset = make_dataset(client, n_samples=60)
    model = make_model(client, dataset["id"], derived_features=["x1*x2", "sin(x2)"])
    job = start_job(client, model["id"], dataset["id"], n_iter=50)  # no worker: stays queued
    url = f"/v1/jobs/{job['id']}/neuron-maps"
    head, tensors = read_maps_file(client.get(url, params={**GRID, "format": "binary"}).content)
    assert head["job_id"] == job["id"] and head["iteration"] == 0
    assert head["input_names"] == ["x1", "x2", "x1*x2", "sin(x2)"]
    assert tensors["W1"].shape == (4, 4)
    model_maps = client.get(f"/v1/models/{model['id']}/neuron-maps", params=GRID).json()
    np.testing.assert_allclose(
        tensors["A2"].reshape(1, -1), model_maps["layers"][-1]["values"], atol=1e-4
    )


def test_only_two_numeric_raw_inputs_have_maps(client: Client) -> None:
    rows = [[float(i), "red" if i % 2 else "blue"] for i in range(20)]
    table = client.post(
        "/v1/datasets",
        json={"name": "mixed", "features": rows, "targets": [i % 2 for i in range(20)]},
    )
    assert table.status_code == 201, table.text
    mixed = make_model(client, table.json()["id"])
    body = assert_problem(client.get(f"/v1/models/{mixed['id']}/neuron-maps"), 422)
    assert body["code"] == "not_two_inputs" and "not all numeric" in body["detail"]


def test_the_openapi_document_describes_both_forms(client: Client) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/models/{model_id}/neuron-maps"]["get"]
    content = operation["responses"]["200"]["content"]
    assert content["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
    assert content["application/json"]["schema"]["$ref"].endswith("/NeuronMapsRead")
    assert "safetensors" in operation["responses"]["200"]["description"]
    assert "406" in operation["responses"]
    formats = [p for p in operation["parameters"] if p["name"] == "format"]
    assert formats and "binary" in json.dumps(formats[0]["schema"])


def test_neuron_maps_of_a_model_are_its_layers_on_the_grid(client: Client) -> None:
    dataset = make_dataset(client, n_samples=60)
    model = make_model(
        client,
        dataset["id"],
        hidden_layers=[{"units": 3, "activation": "relu"}, {"units": 2, "activation": "tanh"}],
    )
    params = {"resolution": 5, "x1_min": -2, "x1_max": 2, "x2_min": -1, "x2_max": 3}
    response = client.get(f"/v1/models/{model['id']}/neuron-maps", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 0 and body["resolution"] == 5 and body["extent"] == [-2, 2, -1, 3]
    assert [layer["units"] for layer in body["layers"]] == [3, 2, 1]
    assert [layer["activation"] for layer in body["layers"]] == ["relu", "tanh", "sigmoid"]
    # Grid point k: x1 = column k % 5, x2 = row k // 5 (bottom to top).
    G1, G2 = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 3, 5))
    rows = np.column_stack([G1.ravel(), G2.ravel()])
    # An independent reference: the notes' forward pass from the returned W and b.
    A = rows.T
    for layer, g in zip(body["layers"], (relu, np.tanh, sigmoid), strict=True):
        W, b = np.asarray(layer["W"]), np.asarray(layer["b"])[:, None]
        A = g(W @ A + b)
        np.testing.assert_allclose(layer["values"], A, atol=1e-4)
        assert layer["min"] <= np.min(A) + 1e-4 and layer["max"] >= np.max(A) - 1e-4
    predicted = client.post(f"/v1/models/{model['id']}/predict", json={"inputs": rows.tolist()})
    assert predicted.status_code == 200, predicted.text
    outputs = np.asarray(predicted.json()["probabilities"])[:, 1]
    np.testing.assert_allclose(body["layers"][-1]["values"][0], outputs, atol=1e-4)


def relu(Z: Any) -> Any:
    return np.maximum(Z, 0.0)


def sigmoid(Z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-Z))


def test_neuron_maps_errors(client: Client) -> None:
    dataset = make_dataset(client, n_samples=60)
    model = make_model(client, dataset["id"])
    url = f"/v1/models/{model['id']}/neuron-maps"
    for bad in ({"resolution": 1}, {"resolution": 65}, {"x1_min": "left"}):
        assert_problem(client.get(url, params=bad), 422)
    empty = assert_problem(client.get(url, params={"x2_min": 1, "x2_max": 1}), 422)
    assert empty["code"] == "empty_extent" and empty["errors"][0]["field"] == "x2_min"
    assert_problem(client.get(url, params={"version": 9}), 404)
    assert_problem(client.get("/v1/models/mdl_0000000000000000/neuron-maps"), 404)
    assert_problem(client.get("/v1/jobs/job_0000000000000000/neuron-maps"), 404)
    features = [[float(i), 1.0, 2.0] for i in range(20)]
    targets = [float(i) for i in range(20)]
    three = client.post(
        "/v1/datasets", json={"name": "three", "features": features, "targets": targets}
    )
    assert three.status_code == 201, three.text
    wide = make_model(client, three.json()["id"], output_activation="linear")
    body = assert_problem(client.get(f"/v1/models/{wide['id']}/neuron-maps"), 422)
    assert body["code"] == "not_two_inputs"
