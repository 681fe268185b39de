"""``GET /v1/datasets/{id}/data`` streamed a slice at a time: JSON and CSV, ISO datetimes,
missing cells, subsets across slice boundaries, ETags and the slice reader itself."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.services import dataset_export
from app.storage.array_slices import NpzSlices
from core.serialization import save_npz
from tests.app.helpers import assert_problem

DATED = (
    "when,size,colour,y\n"
    + "".join(
        f"{'' if i % 7 == 3 else f'2021-03-{i % 28 + 1:02d}T{i % 24:02d}:30:00'},"
        f"{'' if i % 5 == 0 else i * 1.5},{['red', 'green', ''][i % 3]},{i % 2}\n"
        for i in range(50)
    )
).encode()


def _upload(client: TestClient) -> dict[str, Any]:
    response = client.post(
        "/v1/datasets/upload",
        files={"file": ("dated.csv", DATED)},
        data={"target": "y", "column_types": '{"when": "datetime"}', "test_fraction": "0.3"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    # Slices of 7 rows: these small datasets are written in many of them.
    monkeypatch.setattr(dataset_export, "CHUNK_CELLS", 1)
    monkeypatch.setattr(dataset_export, "MIN_CHUNK_ROWS", 7)


@pytest.mark.usefixtures("small_slices")
def test_datetimes_are_iso_texts_in_json_and_csv(client: TestClient) -> None:
    dataset = _upload(client)
    url = f"/v1/datasets/{dataset['id']}/data"
    data = client.get(url).json()
    assert len(data["features"]) == 50 == len(data["targets"]) == len(data["split"])
    assert data["features"][1] == ["2021-03-02T01:30:00", 1.5, "green"]
    assert data["features"][3][0] is None  # a missing datetime
    assert data["features"][0][1] is None and data["features"][2][2] is None
    assert data["targets"][:3] == [0, 1, 0]
    exported = client.get(url, headers={"accept": "text/csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["when", "size", "colour", "y"]
    assert rows[2] == ["2021-03-02T01:30:00", "1.5", "green", "1"]
    assert rows[4][0] == "" and len(rows) == 51
    again = client.post(
        "/v1/datasets/upload",
        files={"file": ("again.csv", exported.content)},
        data={"target": "y", "test_fraction": "0.3"},
    ).json()
    assert [c["type"] for c in again["stats"]["columns"]][:3] == [
        "datetime",
        "numeric",
        "categorical",
    ]
    assert client.get(f"/v1/datasets/{again['id']}/data").json()["features"] == data["features"]


@pytest.mark.usefixtures("small_slices")
def test_subsets_across_slices_match_the_whole(client: TestClient) -> None:
    created = client.post(
        "/v1/datasets/generate", json={"kind": "spiral", "n_samples": 101, "n_classes": 3}
    ).json()
    url = f"/v1/datasets/{created['id']}/data"
    full = client.get(url).json()
    assert len(full["features"]) == 101 and set(full["targets"]) == {0, 1, 2}
    for subset in ("train", "test"):
        part = client.get(url, params={"subset": subset}).json()
        picked = [i for i, s in enumerate(full["split"]) if s == subset]
        assert len(picked) == created[f"n_{subset}"]
        assert part["features"] == [full["features"][i] for i in picked]
        assert part["targets"] == [full["targets"][i] for i in picked]
        assert part["split"] == [subset] * len(picked)
        table = list(
            csv.reader(
                io.StringIO(
                    client.get(url, params={"subset": subset}, headers={"accept": "text/csv"}).text
                )
            )
        )
        assert [float(v) for v in table[1][:2]] == part["features"][0]
        assert len(table) == len(picked) + 1


def test_the_body_is_streamed_and_tagged(client: TestClient) -> None:
    created = client.post("/v1/datasets/generate", json={"kind": "xor", "n_samples": 30}).json()
    url = f"/v1/datasets/{created['id']}/data"
    with client.stream("GET", url) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # written as it is produced
        body = json.loads(b"".join(response.iter_bytes()))
    assert body["id"] == created["id"] and body["subset"] == "all"
    etag = response.headers["etag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    as_csv = client.get(url, headers={"accept": "text/csv", "if-none-match": etag})
    assert as_csv.status_code == 200 and as_csv.headers["etag"] != etag
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert_problem(client.get(url, params={"subset": "half"}), 422, "validation_error")
    client.delete(url.removesuffix("/data"))
    assert_problem(client.get(url), 404, "dataset_not_found")


def test_slices_read_rows_in_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "matrix": rng.normal(size=(23, 3)),
        "texts": np.array(["a", "bb", "ccc"] * 5),
        "empty": np.empty((4, 0)),
        "fortran": np.asfortranarray(rng.normal(size=(5, 2))),
    }
    path = tmp_path / "x.npz"
    save_npz(path, arrays, {"k": 1})
    with NpzSlices(path) as file:
        assert file.metadata == {"k": 1}
        for name, array in arrays.items():
            parts = list(file.row_slices(name, 4))
            assert all(len(p) <= 4 for p in parts)
            assert np.array_equal(np.concatenate(parts) if parts else array[:0], array)
            assert file.shape(name) == array.shape
        assert np.array_equal(file.load("texts"), arrays["texts"])
