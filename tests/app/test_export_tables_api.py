"""The ONNX export of table models over HTTP: the raw columns in, onnxruntime within 1e-6 of
``/predict`` for the same records (missing cells, unseen and missing categories, booleans,
dates, derived features), for binary, multiclass and regression models."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.app.helpers import assert_problem
from tests.app.test_table_models import quiet, train

__all__ = ["quiet"]  # the fixture, shared with the table model tests

COLUMNS = ["size", "colour", "flag", "when", "weight"]
TARGETS = ["answer", "label", "price"]
DERIVED = ["size^2", "size*weight", "sin(weight)", "cos(size)"]
RECORDS: list[dict[str, Any]] = [
    {"size": 1500.0, "colour": "red", "flag": True, "when": "2021-03-04T05:06:00", "weight": 1.2},
    {"size": None, "colour": "blue", "flag": False, "when": "2021-12-31T23:59:00", "weight": 0.1},
    {"size": 2600.5, "colour": "purple", "flag": None, "when": None, "weight": 2.9},
    {"size": 900.0, "colour": None, "flag": True, "when": "2020-02-29T12:00:00", "weight": None},
    {"size": 3100.0, "colour": "green", "flag": False, "when": "2022-07-01T00:00:00", "weight": 3},
]
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("answer", "float64", {"missing_indicators": True, "max_categories": 2}),
    ("answer", "float32", {}),
    ("label", "float64", {"impute": "mean", "scaling": "minmax"}),
    ("price", "float64", {"impute": "constant", "fill_value": 7.5, "missing_indicators": True}),
    ("price", "float32", {}),
]


def _csv(m: int = 60) -> bytes:
    rng = np.random.default_rng(5)
    lines = [",".join(COLUMNS + TARGETS)]
    for i in range(m):  # m <= 60: i is a minute too
        size, weight = rng.normal(2000, 500), rng.uniform(0.01, 3)
        colour = ["red", "blue", "green"][i % 3]
        cells = [
            "" if i % 9 == 0 else f"{size:.1f}",
            "" if i % 11 == 0 else colour,
            "" if i % 13 == 0 else ("true" if i % 2 else "false"),
            "" if i % 17 == 0 else f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i:02d}",
            f"{weight:.3f}",
            "yes" if (size > 2000) ^ (colour == "red") else "no",
            ["a", "b", "c"][int(weight)],
            f"{size * 0.2 + 40 * weight + rng.normal(0, 5):.2f}",
        ]
        lines.append(",".join(cells))
    return "\n".join(lines).encode()


def _model(client: TestClient, settings: Settings, target: str, **body: Any) -> str:
    dropped = [t for t in TARGETS if t != target]
    dataset = client.post(
        "/v1/datasets/upload",
        files={"file": ("t.csv", _csv())},
        data={"target": target, "drop": json.dumps(dropped)},
    )
    assert dataset.status_code == 201, dataset.text
    model = client.post(
        "/v1/models",
        json={
            "name": "t",
            "dataset_id": dataset.json()["id"],
            "hidden_layers": [{"units": 6, "activation": "tanh"}],
            "derived_features": DERIVED,
            **body,
        },
    )
    assert model.status_code == 201, model.text
    model_id: str = model.json()["id"]
    train(client, settings, model_id, dataset.json()["id"])
    return model_id


def _feeds(records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The graph's inputs for ``records``: NaN for a missing number, boolean or date, ``""``
    for a missing category, dates as seconds since the epoch."""

    def number(value: Any) -> float:
        return np.nan if value is None else float(value)

    def seconds(text: str | None) -> float:
        return np.nan if text is None else float(np.datetime64(text, "s").astype(np.int64))

    return {
        "size": np.array([number(r["size"]) for r in records]),
        "colour": np.array([r["colour"] or "" for r in records], dtype=object),
        "flag": np.array([number(r["flag"]) for r in records]),
        "when": np.array([seconds(r["when"]) for r in records]),
        "weight": np.array([number(r["weight"]) for r in records]),
    }


def _session(client: TestClient, model_id: str) -> ort.InferenceSession:
    response = client.get(f"/v1/models/{model_id}/export", params={"format": "onnx"})
    assert response.status_code == 200, response.text
    return ort.InferenceSession(response.content, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize(("target", "dtype", "options"), CASES)
def test_onnx_of_a_table_model_answers_like_predict(
    quiet: tuple[TestClient, Settings], target: str, dtype: str, options: dict[str, Any]
) -> None:
    client, settings = quiet
    model_id = _model(client, settings, target, dtype=dtype, preprocessing=options)
    session = _session(client, model_id)
    inputs = [(i.name, i.type, i.shape) for i in session.get_inputs()]
    kinds = ["double", "string", "double", "double", "double"]
    assert inputs == [(n, f"tensor({k})", ["batch"]) for n, k in zip(COLUMNS, kinds, strict=True)]
    stage = json.loads(session.get_modelmeta().custom_metadata_map["preprocessing"])
    assert stage["derived"] == DERIVED
    answer = client.post(f"/v1/models/{model_id}/predict", json={"records": RECORDS})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert any("purple" in w for w in body["warnings"])
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, _feeds(RECORDS)), strict=True))
    if target == "price":
        values, expected = outputs["values"], np.array(body["predictions"])
        assert values.shape == (len(RECORDS), 1)
        # float32 outputs in the targets' units (hundreds) are within 1e-6 relative: an ulp.
        tolerance = 1e-6 * (np.maximum(np.abs(expected), 1.0) if dtype == "float32" else 1.0)
        assert np.all(np.abs(values[:, 0] - expected) <= tolerance)
        assert np.ptp(values) > 1.0  # the targets' units, not the standardized ones
        return
    probabilities = outputs["probabilities"]
    assert probabilities.dtype == np.dtype(dtype)
    assert probabilities.shape == (len(RECORDS), len(body["classes"]))
    assert np.max(np.abs(probabilities - np.array(body["probabilities"]))) <= 1e-6
    assert [body["classes"][i] for i in outputs["class_index"]] == body["predictions"]


def test_a_column_named_like_an_output_is_a_409(quiet: tuple[TestClient, Settings]) -> None:
    client, _ = quiet
    csv = b"values,colour,y\n" + b"".join(
        f"{i},{'ab'[i % 2]},{i % 3 == 0}\n".encode() for i in range(20)
    )
    dataset = client.post("/v1/datasets/upload", files={"file": ("t.csv", csv)}).json()
    model = client.post("/v1/models", json={"name": "t", "dataset_id": dataset["id"]}).json()
    response = client.get(f"/v1/models/{model['id']}/export", params={"format": "onnx"})
    problem = assert_problem(response, 409, "onnx_column_name_conflict")
    assert "'values'" in problem["detail"]
    npz = client.get(f"/v1/models/{model['id']}/export", params={"format": "npz"})
    assert npz.status_code == 200
