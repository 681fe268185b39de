"""Datasets through HTTP: create from rows, CSV and generators; read, page, export, plot, delete."""

from __future__ import annotations

import csv
import io

import numpy as np
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.app.helpers import CIRCLE, XOR_ROWS, assert_problem, stored_files


def test_create_from_rows_infers_task_and_keeps_string_labels(client: TestClient) -> None:
    response = client.post("/v1/datasets", json={**XOR_ROWS, "test_fraction": 0.25, "seed": 1})
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/datasets/{body['id']}"
    assert body["task"] == "binary"
    assert body["classes"] == ["no", "yes"]
    assert (body["n_samples"], body["n_features"]) == (12, 2)
    assert body["feature_names"] == ["x1", "x2"]
    assert body["n_train"] + body["n_test"] == 12
    assert body["n_test"] == 3
    counts = {c["label"]: c["count"] for c in body["stats"]["target"]["class_counts"]}
    assert counts == {"no": 6, "yes": 6}
    assert body["stats"]["features"][0] == {
        "name": "x1",
        "min": 0.0,
        "max": 1.0,
        "mean": 0.5,
        "std": 0.5,
    }
    assert client.get(f"/v1/datasets/{body['id']}").json() == body


def test_task_inference_rule(client: TestClient) -> None:
    rows = [[float(i)] for i in range(30)]
    cases = [
        (list(range(3)) * 10, "multiclass"),
        ([0.5 * i for i in range(30)], "regression"),
        (list(range(30)), "regression"),  # more than 20 distinct integers
    ]
    for targets, task in cases:
        response = client.post(
            "/v1/datasets", json={"name": "t", "features": rows, "targets": targets}
        )
        assert response.status_code == 201, response.text
        assert response.json()["task"] == task


def test_split_is_stratified_and_reproducible(client: TestClient) -> None:
    first = client.post("/v1/datasets/generate", json={**CIRCLE, "test_fraction": 0.25}).json()
    second = client.post("/v1/datasets/generate", json={**CIRCLE, "test_fraction": 0.25}).json()
    data = [client.get(f"/v1/datasets/{d['id']}/data").json() for d in (first, second)]
    assert data[0]["split"] == data[1]["split"]
    assert data[0]["features"] == data[1]["features"]
    test_labels = [
        t for t, s in zip(data[0]["targets"], data[0]["split"], strict=True) if s == "test"
    ]
    assert sorted(set(test_labels)) == [0, 1]
    assert abs(test_labels.count(0) - test_labels.count(1)) <= 1


def test_generators(client: TestClient) -> None:
    for kind, task in [("xor", "binary"), ("spiral", "multiclass"), ("reg-plane", "regression")]:
        extra = {"n_classes": 3} if kind == "spiral" else {}
        response = client.post(
            "/v1/datasets/generate", json={"kind": kind, "n_samples": 90, "seed": 1, **extra}
        )
        assert response.status_code == 201, response.text
        assert response.json()["task"] == task
        assert response.json()["source"]["generator"] == kind


def test_upload_csv_with_string_labels_and_chosen_target(client: TestClient) -> None:
    text = "species,a,b\ncat,1,2\ndog,3,4.5\ncat,5,6\ndog,7,8\ncat,1e-3,2\n"
    response = client.post(
        "/v1/datasets/upload",
        files={"file": ("pets.csv", text.encode(), "text/csv")},
        data={"target": "species", "name": "pets", "test_fraction": "0.4"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "pets"
    assert body["feature_names"] == ["a", "b"]
    assert body["target_name"] == "species"
    assert body["classes"] == ["cat", "dog"]
    assert body["source"]["filename"] == "pets.csv"
    exported = client.get(f"/v1/datasets/{body['id']}/data", headers={"accept": "text/csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["a", "b", "species"]
    assert rows[2] == ["3.0", "4.5", "dog"]
    assert float(rows[5][0]) == 1e-3


def test_data_subsets_and_json(client: TestClient) -> None:
    created = client.post("/v1/datasets/generate", json=CIRCLE).json()
    full = client.get(f"/v1/datasets/{created['id']}/data").json()
    test = client.get(f"/v1/datasets/{created['id']}/data", params={"subset": "test"}).json()
    assert len(full["features"]) == 60
    assert len(test["features"]) == created["n_test"]
    assert set(test["split"]) == {"test"}
    assert test["features"] == [
        f for f, s in zip(full["features"], full["split"], strict=True) if s == "test"
    ]
    refused = client.get(f"/v1/datasets/{created['id']}/data", headers={"accept": "image/png"})
    assert_problem(refused, 406, "not_acceptable")


def test_paging(client: TestClient) -> None:
    ids = [
        client.post("/v1/datasets/generate", json={**CIRCLE, "seed": s}).json()["id"]
        for s in range(5)
    ]
    page = client.get("/v1/datasets", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5
    assert (page["limit"], page["offset"]) == (2, 1)
    assert [item["id"] for item in page["items"]] == ids[::-1][1:3]
    assert client.get("/v1/datasets", params={"task": "regression"}).json()["total"] == 0
    assert_problem(client.get("/v1/datasets", params={"limit": 0}), 422, "validation_error")


def test_plot_png_svg_and_etag(client: TestClient) -> None:
    created = client.post("/v1/datasets/generate", json=CIRCLE).json()
    png = client.get(f"/v1/datasets/{created['id']}/plot.png")
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    again = client.get(
        f"/v1/datasets/{created['id']}/plot.png", headers={"if-none-match": png.headers["etag"]}
    )
    assert again.status_code == 304
    svg = client.get(f"/v1/datasets/{created['id']}/plot.png", params={"format": "svg"})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    wide = client.post(
        "/v1/datasets", json={"name": "3d", "features": [[1, 2, 3], [4, 5, 6]], "targets": [0, 1]}
    ).json()
    assert_problem(
        client.get(f"/v1/datasets/{wide['id']}/plot.png"), 422, "plot_needs_two_features"
    )


def test_delete_removes_row_and_file(client: TestClient, settings: Settings) -> None:
    created = client.post("/v1/datasets/generate", json=CIRCLE).json()
    assert len(stored_files(settings)) == 1
    assert client.delete(f"/v1/datasets/{created['id']}").status_code == 204
    assert stored_files(settings) == []
    assert_problem(client.get(f"/v1/datasets/{created['id']}"), 404, "dataset_not_found")
    assert_problem(client.delete(f"/v1/datasets/{created['id']}"), 404, "dataset_not_found")


def test_features_stored_exactly(client: TestClient, settings: Settings) -> None:
    rows = [[0.1, 1e-300], [2.5e10, -3.0], [1 / 3, 2 / 3]]
    created = client.post(
        "/v1/datasets", json={"name": "x", "features": rows, "targets": [1.5, 2.5, 3.5]}
    ).json()
    with np.load(
        settings.data_dir / "datasets" / f"{created['id']}.npz", allow_pickle=False
    ) as npz:
        assert np.array_equal(npz["features"], np.array(rows))
        assert npz["targets"].dtype == np.float64
    assert client.get(f"/v1/datasets/{created['id']}/data").json()["features"] == rows


def test_overflowing_statistics_are_null(client: TestClient) -> None:
    rows = [[1.7e308], [1.7e308], [-1.7e308], [1.0]]
    body = {"name": "big", "features": rows, "targets": [1e308, 1e308, 2.5, 3.5]}
    created = client.post("/v1/datasets", json=body)
    assert created.status_code == 201, created.text
    stats = created.json()["stats"]
    assert stats["features"][0]["mean"] is None
    assert stats["target"]["mean"] is None
    assert stats["target"]["max"] == 1e308
