"""Models through HTTP: create (from sizes or a dataset), read, list, rename, delete, parameters."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from app.settings import Settings
from app.storage.tables import JobRow
from core.network import ANN
from core.serialization import model_from_bytes
from tests.app.helpers import CIRCLE, assert_problem, stored_files

NOTES_MODEL = {
    "name": "notes",
    "task": "binary",
    "n_inputs": 2,
    "hidden_layers": [{"units": 4, "activation": "tanh"}],
    "init": "glorot",
}


def _create(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/models", json={**NOTES_MODEL, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_matches_the_notes_constructor(client: TestClient) -> None:
    body = _create(client)
    assert body["output_activation"] == "sigmoid"
    assert (body["n_inputs"], body["n_outputs"], body["classes"]) == (2, 1, [0, 1])
    assert body["n_parameters"] == 4 * 2 + 4 + 4 + 1
    assert (body["current_version"], body["status"], body["seed"]) == (0, "ready", 2)
    assert body["architecture"]["n_h"] == [4]
    params = client.get(f"/v1/models/{body['id']}/parameters").json()
    assert params["version"] == 0
    expected = ANN(2, 4, 1, init="glorot", seed=2).parameters
    got = {p["name"]: np.array(p["values"]) for p in params["parameters"]}
    assert list(got) == ["W1", "b1", "W2", "b2"]
    for name, array in expected.items():
        assert got[name].shape == array.shape
        assert np.array_equal(got[name], array)


def test_npz_download_is_the_stored_version(client: TestClient) -> None:
    body = _create(client, dtype="float32", seed=7, distribution="uniform", init="he")
    response = client.get(
        f"/v1/models/{body['id']}/parameters", headers={"accept": "application/x-npz"}
    )
    assert response.headers["content-type"] == "application/x-npz"
    ann = model_from_bytes(response.content)
    reference = ANN(2, 4, 1, init="he", distribution="uniform", seed=7, dtype="float32")
    for name, array in reference.parameters.items():
        assert ann.parameters[name].dtype == np.float32
        assert np.array_equal(ann.parameters[name], array)
    with np.load(io.BytesIO(response.content), allow_pickle=False) as npz:
        assert {"W1", "b1", "W2", "b2"} <= set(npz.files)


def test_create_from_dataset(client: TestClient) -> None:
    spiral = client.post(
        "/v1/datasets/generate", json={"kind": "spiral", "n_samples": 90, "n_classes": 3}
    ).json()
    body = _create(
        client,
        task=None,
        n_inputs=None,
        dataset_id=spiral["id"],
        hidden_layers=[{"units": 8, "activation": "relu"}, {"units": 6, "activation": "tanh"}],
    )
    assert body["task"] == "multiclass"
    assert body["output_activation"] == "softmax"
    assert (body["n_inputs"], body["n_outputs"], body["classes"]) == (2, 3, [0, 1, 2])
    assert body["dataset_id"] == spiral["id"]
    assert body["hidden_layers"] == [
        {"units": 8, "activation": "relu"},
        {"units": 6, "activation": "tanh"},
    ]
    listed = client.get("/v1/models", params={"dataset_id": spiral["id"]}).json()
    assert [m["id"] for m in listed["items"]] == [body["id"]]


def test_regression_and_string_classes(client: TestClient) -> None:
    regression = _create(client, task="regression", n_outputs=2, output_activation="relu")
    assert (regression["n_outputs"], regression["classes"]) == (2, None)
    named = _create(client, task="multiclass", classes=["r", "g", "b"], hidden_layers=[])
    assert (named["n_outputs"], named["classes"]) == (3, ["r", "g", "b"])
    assert named["n_parameters"] == 3 * 2 + 3


def test_list_filter_patch_versions(client: TestClient) -> None:
    first = _create(client, name="a")
    _create(client, name="b", task="regression")
    page = client.get("/v1/models", params={"task": "binary"}).json()
    assert page["total"] == 1
    assert client.get("/v1/models", params={"name": "b"}).json()["items"][0]["name"] == "b"
    assert client.get("/v1/models", params={"limit": 1}).json()["total"] == 2
    patched = client.patch(
        f"/v1/models/{first['id']}", json={"name": "renamed", "description": "d"}
    )
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["description"]) == ("renamed", "d")
    assert patched.json()["updated_at"] >= first["updated_at"]
    versions = client.get(f"/v1/models/{first['id']}/versions").json()
    assert [(v["version"], v["current"], v["note"]) for v in versions] == [(0, True, "initialized")]
    missing = client.get(f"/v1/models/{first['id']}/parameters", params={"version": 3})
    assert_problem(missing, 404, "version_not_found")


def test_delete_removes_files_and_409_while_training(
    client: TestClient, settings: Settings
) -> None:
    dataset = client.post("/v1/datasets/generate", json=CIRCLE).json()
    model = _create(client, dataset_id=dataset["id"], n_inputs=None)
    db = client.app.state.db  # type: ignore[attr-defined]
    with db.session() as session:
        session.add(
            JobRow(
                id="job_00000000000000aa", model_id=model["id"], dataset_id=dataset["id"], params={}
            )
        )
    assert_problem(client.delete(f"/v1/models/{model['id']}"), 409, "model_in_use")
    assert_problem(client.delete(f"/v1/datasets/{dataset['id']}"), 409, "dataset_in_use")
    with db.session() as session:
        job = session.get(JobRow, "job_00000000000000aa")
        job.status = "succeeded"
    assert client.delete(f"/v1/models/{model['id']}").status_code == 204
    assert not (settings.data_dir / "models" / model["id"]).exists()
    assert_problem(client.get(f"/v1/models/{model['id']}"), 404, "model_not_found")
    assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 204
    assert stored_files(settings) == []


def test_bad_models(client: TestClient, settings: Settings) -> None:
    dataset = client.post("/v1/datasets/generate", json=CIRCLE).json()
    files_before = stored_files(settings)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"hidden_layers": [{"units": 4, "activation": "swish"}]}, 422, "validation_error"),
        ({"hidden_layers": [{"units": 0, "activation": "tanh"}]}, 422, "validation_error"),
        ({"hidden_layers": [{"units": -3, "activation": "tanh"}]}, 422, "validation_error"),
        ({"init": "xavier"}, 422, "validation_error"),
        ({"distribution": "cauchy"}, 422, "validation_error"),
        ({"output_activation": "softmax"}, 422, "incompatible_output_activation"),
        (
            {"task": "regression", "output_activation": "sigmoid"},
            422,
            "incompatible_output_activation",
        ),
        ({"task": "multiclass"}, 422, "classes_required"),
        ({"task": "multiclass", "classes": [0, 1]}, 422, "labels_do_not_fit_task"),
        ({"task": "binary", "classes": ["a", "b", "c"]}, 422, "labels_do_not_fit_task"),
        ({"task": "binary", "n_outputs": 2}, 422, "n_outputs_mismatch"),
        ({"task": "regression", "classes": [0, 1]}, 422, "classes_not_allowed"),
        ({"task": None}, 422, "task_required"),
        ({"n_inputs": None}, 422, "n_inputs_required"),
        ({"dataset_id": "ds_0123456789abcdef"}, 422, "unknown_dataset"),
        ({"dataset_id": "nope"}, 422, "validation_error"),
        ({"dataset_id": dataset["id"], "n_inputs": 3}, 422, "feature_count_mismatch"),
        ({"dataset_id": dataset["id"], "task": "regression"}, 422, "task_mismatch"),
        ({"hidden_layers": [{"units": 4, "activation": "tanh"}] * 11}, 422, "too_many_layers"),
        ({"hidden_layers": [{"units": 5000, "activation": "tanh"}]}, 422, "too_many_units"),
        (
            {"n_inputs": 1000, "hidden_layers": [{"units": 1024, "activation": "relu"}] * 3},
            422,
            "too_many_parameters",
        ),
        ({"seed": -1}, 422, "validation_error"),
        ({"dtype": "float16"}, 422, "validation_error"),
    ]
    for changes, status, code in cases:
        response = client.post("/v1/models", json={**NOTES_MODEL, **changes})
        assert_problem(response, status, code)
    assert client.get("/v1/models").json()["total"] == 0
    assert stored_files(settings) == files_before


def test_model_ids_that_are_not_ids(client: TestClient) -> None:
    for bad in ["mdl_1", "ds_0123456789abcdef", "mdl_0123456789abcdeg"]:
        for method, suffix in [
            ("GET", ""),
            ("DELETE", ""),
            ("GET", "/parameters"),
            ("GET", "/versions"),
        ]:
            assert_problem(client.request(method, f"/v1/models/{bad}{suffix}"), 404, "invalid_id")
        assert_problem(client.patch(f"/v1/models/{bad}", json={"name": "x"}), 404, "invalid_id")
