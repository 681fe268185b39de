"""``POST /v1/models/{id}/predict``: answers equal the forward pass; every error is clear."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.helpers import assert_problem
from tests.app.serving_support import (
    assert_close,
    create_model,
    publish_version,
    stored_network,
    train_and_publish,
)

ROWS = [[0.5, -1.0], [1.2, 0.3], [-0.7, 0.8], [0.0, 0.0], [2.0, -2.0]]


def _xor_like(m: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(seed).uniform(-1, 1, size=(2, m))
    return X, (X[0] * X[1] > 0).astype(float)[np.newaxis, :]


def _predict(client: TestClient, model_id: str, rows: object, **query: object) -> dict[str, Any]:
    response = client.post(f"/v1/models/{model_id}/predict", params=query, json={"inputs": rows})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return dict(response.json())


def test_binary_predictions_equal_the_forward_pass(client: TestClient) -> None:
    model = create_model(client)
    ann, version = train_and_publish(client, model["id"], *_xor_like())
    body = _predict(client, model["id"], ROWS)
    A2 = ann.forward_propagation(np.array(ROWS).T)["A2"][0]
    assert body["model_version"] == version == 1 and body["trained"] is True
    assert body["classes"] == [0, 1]
    assert_close(body["probabilities"], np.stack([1 - A2, A2], axis=1))
    assert body["predictions"] == [int(p > 0.5) for p in A2]


def test_multiclass_labels_and_probabilities(client: TestClient) -> None:
    model = create_model(
        client, task="multiclass", classes=["red", "green", "blue"], n_inputs=3, seed=5
    )
    ann = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    rows = np.random.default_rng(1).normal(size=(6, 3))
    body = _predict(client, model["id"], rows.tolist())
    A = ann.forward_propagation(rows.T)[f"A{ann.n_layers}"]
    assert_close(body["probabilities"], A.T)
    assert body["predictions"] == [["red", "green", "blue"][i] for i in A.argmax(axis=0)]
    assert body["trained"] is False and body["model_version"] == 0


def test_regression_values(client: TestClient) -> None:
    one = create_model(client, task="regression", n_inputs=2)
    two = create_model(client, task="regression", n_inputs=2, n_outputs=2)
    for model, n_y in ((one, 1), (two, 2)):
        ann = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
        body = _predict(client, model["id"], ROWS)
        A = ann.predict_proba(np.array(ROWS).T)
        assert "probabilities" not in body and "classes" not in body
        expected = A[0].tolist() if n_y == 1 else A.T.tolist()
        assert_close(body["predictions"], expected)


def test_an_overflowing_output_is_422_not_infinity(client: TestClient) -> None:
    model = create_model(client, task="regression", hidden_layers=[])
    state = client.app.state  # type: ignore[attr-defined]
    ann = stored_network(state.arrays, model["id"], 0)
    ann.W1 = np.array([[10.0, 10.0]])
    publish_version(state.db, state.arrays, model["id"], ann)
    url = f"/v1/models/{model['id']}/predict"
    assert_problem(
        client.post(url, json={"inputs": [[1e308, 1e308]] * 3}), 422, "output_not_finite"
    )


def test_version_zero_answers_untrained_and_versions_can_be_pinned(client: TestClient) -> None:
    model = create_model(client)
    v0 = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    trained, _ = train_and_publish(client, model["id"], *_xor_like())
    current = _predict(client, model["id"], ROWS)
    pinned_query = _predict(client, model["id"], ROWS, version=0)
    pinned_body = client.post(
        f"/v1/models/{model['id']}/predict", json={"inputs": ROWS, "version": 0}
    ).json()
    expected_v0 = v0.predict_proba(np.array(ROWS).T)[0]
    for pinned in (pinned_query, pinned_body):
        assert pinned["model_version"] == 0 and pinned["trained"] is False
        assert_close([p[1] for p in pinned["probabilities"]], expected_v0)
    assert current["model_version"] == 1
    assert_close(
        [p[1] for p in current["probabilities"]], trained.predict_proba(np.array(ROWS).T)[0]
    )


def test_csv_in_and_csv_out(client: TestClient) -> None:
    model = create_model(client, task="multiclass", classes=["a", "b", "c"])
    body = "x1,x2\n" + "\n".join(f"{a},{b}" for a, b in ROWS) + "\n"
    response = client.post(
        f"/v1/models/{model['id']}/predict",
        content=body,
        headers={"content-type": "text/csv; charset=utf-8", "accept": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["prediction", "p_a", "p_b", "p_c"]
    as_json = _predict(client, model["id"], ROWS)
    assert [row[0] for row in table[1:]] == as_json["predictions"]
    assert np.array_equal(
        np.array([[float(v) for v in row[1:]] for row in table[1:]]),
        np.array(as_json["probabilities"]),
    )
    # CSV without a header, answered as JSON.
    headless = client.post(
        f"/v1/models/{model['id']}/predict",
        content="0.5,-1.0\n1.2,0.3\n",
        headers={"content-type": "text/csv"},
    )
    assert headless.json()["predictions"] == as_json["predictions"][:2]


def test_big_batches_take_the_thread_pool_and_answer_the_same(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", predict_inline_rows=3)
    with TestClient(create_app(settings)) as client:
        model = create_model(client)
        rows = np.random.default_rng(2).normal(size=(40, 2))
        big = _predict(client, model["id"], rows.tolist())
        small = [_predict(client, model["id"], rows[i : i + 2].tolist()) for i in range(0, 40, 2)]
        ann = stored_network(client.app.state.arrays, model["id"], 0)  # type: ignore[attr-defined]
    p = ann.predict_proba(rows.T)[0]
    assert_close(big["probabilities"], np.stack([1 - p, p], axis=1))
    # Batch width changes BLAS summation order, so small batches agree to rounding only.
    pieces = [q for part in small for q in part["probabilities"]]
    assert np.allclose(big["probabilities"], pieces, rtol=1e-12, atol=0)


@pytest.fixture
def small_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", max_predict_rows=5)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"inputs": [[1.0, 2.0, 3.0]]}', "feature_count_mismatch"),
        ('{"inputs": [[NaN, 1.0]]}', "not_finite"),
        ('{"inputs": [[Infinity, 1.0]]}', "not_finite"),
        ('{"inputs": [[1.0, -Infinity]]}', "not_finite"),
        ('{"inputs": [[1e999, 1.0]]}', "not_finite"),
        ('{"inputs": [[1.0, 2.0]] ' + ', "x": 1}', "unknown_field"),
        ('{"inputs": [["1.0", 2.0]]}', "invalid_inputs"),
        ('{"inputs": [[1.0, null]]}', "invalid_inputs"),
        ('{"inputs": [[true, false]]}', "invalid_inputs"),
        ('{"inputs": [[1.0, 2.0], [1.0]]}', "invalid_inputs"),
        ('{"inputs": [1.0, 2.0]}', "invalid_inputs"),
        ('{"inputs": []}', "invalid_inputs"),
        ('{"rows": [[1.0, 2.0]]}', "invalid_inputs"),
        ("[[1.0, 2.0]]", "invalid_inputs"),
        ('{"inputs": [[1, 2]] ' + ', "version": -1}', "invalid_version"),
        ('{"inputs": [[1, 2]] ' + ', "version": 1000000000000000000000}', "invalid_version"),
        ('{"inputs": [[1, 2]] ' + ', "version": "1"}', "invalid_version"),
    ],
)
def test_bad_rows_are_422(small_client: TestClient, body: str, code: str) -> None:
    model = create_model(small_client)
    response = small_client.post(
        f"/v1/models/{model['id']}/predict",
        content=body,
        headers={"content-type": "application/json"},
    )
    problem = assert_problem(response, 422, code)
    if code == "not_finite":
        assert problem["errors"][0]["field"].startswith("inputs.0.")


def test_limits_media_types_and_unknown_models(small_client: TestClient) -> None:
    model = create_model(small_client)
    url = f"/v1/models/{model['id']}/predict"
    assert_problem(small_client.post(url, json={"inputs": [[0.0, 0.0]] * 6}), 422, "too_many_rows")
    assert small_client.post(url, json={"inputs": [[0.0, 0.0]] * 5}).status_code == 200
    csv_rows = "\n".join(["1,2"] * 6)
    too_many = small_client.post(url, content=csv_rows, headers={"content-type": "text/csv"})
    assert_problem(too_many, 422, "too_many_rows")
    plain = small_client.post(url, content="1,2", headers={"content-type": "text/plain"})
    assert_problem(plain, 415, "unsupported_media_type")
    assert_problem(small_client.post(url, content=b"1,2"), 415, "unsupported_media_type")
    broken = small_client.post(url, content="{", headers={"content-type": "application/json"})
    assert_problem(broken, 400, "malformed_json")
    bad_csv = small_client.post(url, content="a,b\n1,x\n", headers={"content-type": "text/csv"})
    assert_problem(bad_csv, 422, "invalid_csv")
    image = small_client.post(url, json={"inputs": [[0, 0]]}, headers={"accept": "image/png"})
    assert_problem(image, 406, "not_acceptable")
    assert_problem(small_client.post(url, params={"version": 3}, json={"inputs": [[0, 0]]}), 404)
    for bad in ("x", "-1", "99999999999999999999"):
        response = small_client.post(url, params={"version": bad}, json={"inputs": [[0, 0]]})
        assert_problem(response, 422)
    conflict = small_client.post(
        url, params={"version": 0}, json={"inputs": [[0, 0]], "version": 1}
    )
    assert_problem(conflict, 422, "version_conflict")
    missing = small_client.post(
        "/v1/models/mdl_0000000000000000/predict", json={"inputs": [[0, 0]]}
    )
    assert_problem(missing, 404, "model_not_found")
    assert_problem(small_client.post("/v1/models/nope/predict", json={"inputs": [[0, 0]]}), 404)


def test_predict_needs_the_api_key_when_keys_are_set(tmp_path: Path) -> None:
    key = "k" * 24
    settings = Settings(data_dir=tmp_path / "data", api_keys=[key])
    with TestClient(create_app(settings)) as client:
        auth = {"authorization": f"Bearer {key}"}
        response = client.post(
            "/v1/models",
            headers=auth,
            json={"name": "n", "task": "binary", "n_inputs": 2},
        )
        url = f"/v1/models/{response.json()['id']}/predict"
        assert_problem(client.post(url, json={"inputs": [[0, 0]]}), 401, "missing_api_key")
        wrong = {"authorization": "Bearer " + "x" * 24}
        assert_problem(client.post(url, json={"inputs": [[0, 0]]}, headers=wrong), 401)
        assert client.post(url, json={"inputs": [[0, 0]]}, headers=auth).status_code == 200


def test_predict_is_documented_in_openapi(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/models/{model_id}/predict"]
    post = operation["post"]
    assert {"application/json", "text/csv"} <= set(post["requestBody"]["content"])
    assert {p["name"] for p in post["parameters"]} == {"model_id", "version"}
