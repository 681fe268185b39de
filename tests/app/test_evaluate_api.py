"""``/accuracy`` and ``/evaluate``: scores equal hand-computed values on a small fixed dataset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.app.helpers import assert_problem
from tests.app.serving_support import create_model, publish_version, stored_network

# Eight points; the published model says "yes" exactly when x1 > 0, which is right for six.
X1 = [-2.0, -1.0, -0.5, -0.1, 0.1, 0.5, 1.0, 2.0]
FEATURES = [[x, 0.25 * i] for i, x in enumerate(X1)]
TARGETS = ["no", "no", "no", "yes", "yes", "yes", "no", "yes"]


def _dataset(client: TestClient, **changes: Any) -> dict[str, Any]:
    body = {"name": "eight", "features": FEATURES, "targets": TARGETS, "test_fraction": 0.25}
    response = client.post("/v1/datasets", json=body | changes)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _publish(client: TestClient, model_id: str, **parameters: list[list[float]]) -> int:
    state = client.app.state  # type: ignore[attr-defined]
    ann = stored_network(state.arrays, model_id, 0)
    ann.set_parameters({name: np.array(value) for name, value in parameters.items()})
    return publish_version(state.db, state.arrays, model_id, ann)


@pytest.fixture
def sign_model(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dataset and a logistic-regression model on it with W = [10, 0], b = 0."""
    dataset = _dataset(client)
    model = create_model(client, name="sign", dataset_id=dataset["id"], hidden_layers=[])
    _publish(client, model["id"], W1=[[10.0, 0.0]], b1=[[0.0]])
    return dataset, model


def test_accuracy_is_the_hand_computed_value(
    client: TestClient, sign_model: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = sign_model
    url = f"/v1/models/{model['id']}/accuracy"
    response = client.get(url, params={"dataset_id": dataset["id"], "split": "all"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accuracy"], body["n_samples"]) == (0.75, 8)
    assert (body["model_version"], body["trained"], body["split"]) == (1, True, "all")
    # The model's own dataset is the default; train and test follow the stored split.
    arrays = client.app.state.arrays.load_dataset(dataset["id"])[0]  # type: ignore[attr-defined]
    right = np.array([(x > 0) == (t == "yes") for x, t in zip(X1, TARGETS, strict=True)])
    for split, index in (("train", arrays["train_idx"]), ("test", arrays["test_idx"])):
        part = client.get(url, params={"split": split}).json()
        assert part["n_samples"] == len(index)
        assert part["accuracy"] == pytest.approx(right[index].mean(), abs=0)


def test_evaluate_reports_confusion_and_per_class_scores(
    client: TestClient, sign_model: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = sign_model
    response = client.post(
        f"/v1/models/{model['id']}/evaluate", json={"dataset_id": dataset["id"], "split": "all"}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["task"] == "binary" and report["classes"] == ["no", "yes"]
    assert report["accuracy"] == 0.75
    assert report["confusion_matrix"] == [[3, 1], [1, 3]]
    for entry in report["per_class"]:
        assert (entry["precision"], entry["recall"], entry["f1"], entry["support"]) == (
            0.75,
            0.75,
            0.75,
            4,
        )
    p = 1.0 / (1.0 + np.exp(-10.0 * np.array(X1)))
    y = np.array([t == "yes" for t in TARGETS], dtype=float)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert report["log_loss"] == pytest.approx(expected, rel=1e-12)
    assert "mse" not in report


def test_evaluate_inline_multiclass_rows(client: TestClient) -> None:
    model = create_model(client, task="multiclass", classes=["a", "b", "c"], seed=4)
    ann = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    rows = np.random.default_rng(3).normal(size=(30, 2))
    targets = [["a", "b", "c"][i % 3] for i in range(30)]
    response = client.post(
        f"/v1/models/{model['id']}/evaluate", json={"inputs": rows.tolist(), "targets": targets}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    predicted = ann.predict(rows.T)
    truth = np.arange(30) % 3
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    assert report["confusion_matrix"] == confusion.tolist()
    assert report["accuracy"] == pytest.approx(np.mean(predicted == truth), abs=0)
    assert [c["label"] for c in report["per_class"]] == ["a", "b", "c"]
    assert "dataset_id" not in report and report["trained"] is False
    documented = client.get("/openapi.json").json()["components"]["schemas"]["EvaluationRead"]
    assert set(documented["required"]) <= set(report)


def test_evaluate_regression(client: TestClient) -> None:
    model = create_model(client, task="regression", hidden_layers=[])
    _publish(client, model["id"], W1=[[1.0, 2.0]], b1=[[0.5]])
    rows = [[0.0, 0.0], [1.0, 1.0], [2.0, -1.0], [-1.0, 3.0]]
    targets = [0.0, 4.0, 0.0, 5.0]
    response = client.post(
        f"/v1/models/{model['id']}/evaluate", json={"inputs": rows, "targets": targets}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    predicted = np.array([0.5, 3.5, 0.5, 5.5])
    error = predicted - np.array(targets)
    assert report["mse"] == pytest.approx(np.mean(error**2), rel=1e-12)
    assert report["mae"] == pytest.approx(np.mean(np.abs(error)), rel=1e-12)
    total = np.sum((np.array(targets) - np.mean(targets)) ** 2)
    assert report["r2"] == pytest.approx(1 - np.sum(error**2) / total, rel=1e-12)
    assert "accuracy" not in report and "confusion_matrix" not in report
    accuracy = client.get(f"/v1/models/{model['id']}/accuracy", params={"split": "all"})
    assert_problem(accuracy, 422, "not_a_classifier")


def test_evaluate_errors(
    client: TestClient, sign_model: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = sign_model
    url = f"/v1/models/{model['id']}/evaluate"
    both = {"dataset_id": dataset["id"], "inputs": [[0, 0]], "targets": ["no"]}
    assert_problem(client.post(url, json=both), 422, "ambiguous_source")
    assert_problem(client.post(url, json={"inputs": [[0, 0]]}), 422, "targets_required")
    short = {"inputs": [[0, 0], [1, 1]], "targets": ["no"]}
    assert_problem(client.post(url, json=short), 422, "target_count_mismatch")
    assert_problem(
        client.post(url, json={"inputs": [[0, 0]], "targets": ["maybe"]}), 422, "unknown_labels"
    )
    wide = _dataset(client, features=[[*row, 1.0] for row in FEATURES])
    assert_problem(client.post(url, json={"dataset_id": wide["id"]}), 422, "feature_count_mismatch")
    missing = {"dataset_id": "ds_0000000000000000"}
    assert_problem(client.post(url, json=missing), 404, "dataset_not_found")
    assert_problem(client.post(url, content="x", headers={"content-type": "text/plain"}), 415)
    assert_problem(client.post(url, json={"split": "validation"}), 422, "validation_error")
    assert_problem(client.post(url, json={"dataset_id": dataset["id"], "version": 9}), 404)
    assert_problem(client.post(url, json={"dataset_id": dataset["id"], "version": 2**40}), 422)
    orphan = create_model(client, name="no-data")
    assert_problem(client.get(f"/v1/models/{orphan['id']}/accuracy"), 422, "dataset_required")
    assert_problem(client.get("/v1/models/mdl_0000000000000000/accuracy"), 404)
