"""Table models scored over HTTP: accuracy and evaluate on a dataset's splits, on another
dataset with the same columns and on inline rows, all agreeing with ``/predict``; regression
scores in the targets' own units; the decision boundary over two numeric columns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.app.helpers import assert_problem
from tests.app.test_table_models import ROWS, train


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    from app.main import create_app

    settings = Settings(data_dir=tmp_path / "data", max_concurrent_jobs=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, settings


def upload(client: TestClient, lines: list[str], **form: str) -> dict[str, Any]:
    response = client.post(
        "/v1/datasets/upload", files={"file": ("t.csv", "\n".join(lines).encode())}, data=form
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create(client: TestClient, dataset_id: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/models", json={"name": "t", "dataset_id": dataset_id, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def split_rows(client: TestClient, dataset_id: str, subset: str) -> tuple[list[Any], list[Any]]:
    data = client.get(f"/v1/datasets/{dataset_id}/data", params={"subset": subset}).json()
    return data["features"], data["targets"]


def predicted(client: TestClient, model_id: str, rows: list[Any]) -> dict[str, Any]:
    response = client.post(f"/v1/models/{model_id}/predict", json={"inputs": rows})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_classifier_scores_agree_with_predict(quiet: tuple[TestClient, Settings]) -> None:
    client, settings = quiet
    dataset = upload(client, ROWS)
    model = create(client, dataset["id"], derived_features=["size^2"])
    train(client, settings, model["id"], dataset["id"])
    base = f"/v1/models/{model['id']}"
    for split in ("train", "test"):
        rows, labels = split_rows(client, dataset["id"], split)
        expected = np.mean(np.array(predicted(client, model["id"], rows)["predictions"]) == labels)
        accuracy = client.get(f"{base}/accuracy", params={"split": split})
        assert accuracy.status_code == 200, accuracy.text
        assert accuracy.json()["accuracy"] == pytest.approx(expected)
        assert accuracy.json()["n_samples"] == len(rows)
        report = client.post(f"{base}/evaluate", json={"split": split}).json()
        assert report["accuracy"] == pytest.approx(expected)
        assert sum(map(sum, report["confusion_matrix"])) == len(rows)
    # Inline rows with text, booleans and holes, in the upload's column order.
    rows, labels = split_rows(client, dataset["id"], "all")
    inline = client.post(f"{base}/evaluate", json={"inputs": rows, "targets": labels})
    assert inline.status_code == 200, inline.text
    full = client.get(f"{base}/accuracy", params={"split": "all"}).json()
    assert inline.json()["accuracy"] == pytest.approx(full["accuracy"])
    bad = client.post(
        f"{base}/evaluate", json={"inputs": [["big", "red", True]], "targets": ["no"]}
    )
    assert assert_problem(bad, 422, "invalid_inputs")["errors"][0]["field"] == "inputs.size"
    short = client.post(f"{base}/evaluate", json={"inputs": [[1, "red"]], "targets": ["no"]})
    assert_problem(short, 422, "invalid_inputs")
    count = client.post(f"{base}/evaluate", json={"inputs": rows[:2], "targets": ["no"]})
    assert_problem(count, 422, "target_count_mismatch")
    # Records keyed by column, in any order.
    records = [{"flag": r[2], "size": r[0], "colour": r[1]} for r in rows]
    keyed = client.post(f"{base}/evaluate", json={"records": records, "targets": labels})
    assert keyed.status_code == 200, keyed.text
    assert keyed.json()["accuracy"] == pytest.approx(full["accuracy"])
    both = {"records": records[:1], "inputs": rows[:1], "targets": labels[:1]}
    assert_problem(client.post(f"{base}/evaluate", json=both), 422, "ambiguous_source")
    lone = client.post(f"{base}/evaluate", json={"records": records[:1]})
    assert_problem(lone, 422, "targets_required")
    # An absent key is a missing value, imputed as in training; a value of the wrong type is not.
    gap = client.post(f"{base}/evaluate", json={"records": [{"size": 1}], "targets": ["no"]})
    assert gap.status_code == 200, gap.text
    wrong = client.post(f"{base}/evaluate", json={"records": [{"flag": "x"}], "targets": ["no"]})
    assert assert_problem(wrong, 422, "invalid_inputs")["errors"][0]["field"] == "inputs.flag"
    numeric = client.post("/v1/models", json={"name": "n", "task": "binary", "n_inputs": 2}).json()
    plain = client.post(
        f"/v1/models/{numeric['id']}/evaluate", json={"records": [{"a": 1}], "targets": [0]}
    )
    assert "table model" in assert_problem(plain, 422, "invalid_inputs")["detail"]


def test_other_dataset_with_the_same_columns(quiet: tuple[TestClient, Settings]) -> None:
    client, settings = quiet
    dataset = upload(client, ROWS)
    model = create(client, dataset["id"])
    train(client, settings, model["id"], dataset["id"])
    # The same columns in another order, with an extra column the model does not take.
    other_lines = ["note,y,flag,colour,size"] + [
        f"n{i},{'yes' if i % 2 else 'no'},{'true' if i % 3 else 'false'},"
        f"{['red', 'blue'][i % 2]},{i * 150}"
        for i in range(12)
    ]
    other = upload(client, other_lines, target="y")
    base = f"/v1/models/{model['id']}"
    rows, labels = split_rows(client, other["id"], "all")
    names = client.get(f"/v1/datasets/{other['id']}").json()["feature_names"]
    records = [dict(zip(names, row, strict=True)) for row in rows]
    response = client.post(f"{base}/predict", json={"records": records}).json()
    expected = np.mean(np.array(response["predictions"]) == labels)
    scored = client.get(f"{base}/accuracy", params={"dataset_id": other["id"], "split": "all"})
    assert scored.status_code == 200, scored.text
    assert scored.json()["accuracy"] == pytest.approx(expected)
    assert scored.json()["dataset_id"] == other["id"]
    lacking = upload(
        client,
        ["size,colour,y"]
        + [f"{i},{['red', 'blue'][i % 2]},{'yes' if i % 3 else 'no'}" for i in range(9)],
    )
    missing = client.post(f"{base}/evaluate", json={"dataset_id": lacking["id"], "split": "all"})
    assert "'flag'" in assert_problem(missing, 422, "columns_mismatch")["detail"]
    typed = upload(
        client,
        ["size,colour,flag,y"]
        + [f"{i},{i % 4},{i % 2},{'yes' if i % 2 else 'no'}" for i in range(12)],
        column_types='{"colour": "numeric", "flag": "boolean"}',
    )
    mismatch = client.get(f"{base}/accuracy", params={"dataset_id": typed["id"], "split": "all"})
    assert "'colour'" in assert_problem(mismatch, 422, "columns_mismatch")["detail"]


REGRESSION = ["size,kind,when,price"] + [
    f"{'' if i % 9 == 0 else 0.01 * i},{['a', 'b'][i % 2]},2021-0{1 + i % 9}-1{i % 10},"
    f"{200 + 3 * i + 40 * (i % 2)}"
    for i in range(45)
]


def test_regression_scores_in_the_targets_units(quiet: tuple[TestClient, Settings]) -> None:
    client, settings = quiet
    dataset = upload(client, REGRESSION, target="price", task="regression")
    model = create(client, dataset["id"])
    assert model["task"] == "regression"
    train(client, settings, model["id"], dataset["id"])
    rows, values = split_rows(client, dataset["id"], "test")
    # The data route shows dates as ISO text, as predict reads them.
    assert all(isinstance(row[2], str) for row in rows)
    outputs = np.array(predicted(client, model["id"], rows)["predictions"], dtype=float).ravel()
    truth = np.array(values, dtype=float)
    report = client.post(f"/v1/models/{model['id']}/evaluate", json={"split": "test"})
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["mse"] == pytest.approx(np.mean((outputs - truth) ** 2))
    assert body["mae"] == pytest.approx(np.mean(np.abs(outputs - truth)))
    # In the targets' units: a prediction near the standardized scale would be ~200 off.
    assert body["mae"] < 40
    accuracy = client.get(f"/v1/models/{model['id']}/accuracy")
    assert_problem(accuracy, 422, "not_a_classifier")


def test_decision_boundary_of_two_numeric_columns(quiet: tuple[TestClient, Settings]) -> None:
    client, settings = quiet
    lines = ["a,b,y"] + [
        f"{'' if i % 11 == 0 else i * 40},{(i * 7) % 13 / 100},{'yes' if i % 3 else 'no'}"
        for i in range(40)
    ]
    dataset = upload(client, lines)
    model = create(client, dataset["id"], derived_features=["a*b"])
    assert [c["name"] for c in model["input_schema"]] == ["a", "b"]
    train(client, settings, model["id"], dataset["id"])
    image = client.get(f"/v1/models/{model['id']}/decision-boundary.png", params={"resolution": 30})
    assert image.status_code == 200, image.text
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    svg = client.get(
        f"/v1/models/{model['id']}/decision-boundary.png",
        params={"format": "svg", "resolution": 30},
    )
    assert svg.status_code == 200 and b"<svg" in svg.content
    regression = create(
        client,
        upload(
            client,
            ["a,b,y"] + [f"{i},{i % 5},{i * 2.5}" for i in range(20)],
            target="y",
            task="regression",
        )["id"],
    )
    assert client.get(f"/v1/models/{regression['id']}/decision-boundary.png").status_code == 200
    three = create(client, upload(client, ROWS)["id"])
    problem = assert_problem(
        client.get(f"/v1/models/{three['id']}/decision-boundary.png"), 422, "not_two_inputs"
    )
    assert "3" in problem["detail"] and "'colour'" in problem["detail"]
    categorical = upload(
        client, ["a,c,y"] + [f"{i},{['u', 'v'][i % 2]},{i % 3}" for i in range(20)]
    )
    mixed = create(client, categorical["id"])
    problem = assert_problem(
        client.get(f"/v1/models/{mixed['id']}/decision-boundary.png"), 422, "not_numeric_inputs"
    )
    assert "'c'" in problem["detail"] and "categorical" in problem["detail"]
    other = upload(
        client, ["a,x,y"] + [f"{i},{i % 5},{'yes' if i % 2 else 'no'}" for i in range(20)]
    )
    mismatch = client.get(
        f"/v1/models/{model['id']}/decision-boundary.png", params={"dataset_id": other["id"]}
    )
    assert_problem(mismatch, 422, "columns_mismatch")
