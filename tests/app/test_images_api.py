"""Model images: valid PNG and SVG, ETags with 304, no repeated drawing, clear errors."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib.image
import numpy as np
import pytest
from fastapi.testclient import TestClient

from core import plots
from tests.app.helpers import assert_problem
from tests.app.serving_support import create_dataset, create_model, train_and_publish

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(response: Any) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(PNG_SIGNATURE)
    pixels: np.ndarray = matplotlib.image.imread(io.BytesIO(response.content), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    return pixels


def _svg(response: Any) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag.endswith("svg")
    return root


@pytest.fixture
def circle_model(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    dataset = create_dataset(client)
    return dataset, create_model(client, dataset_id=dataset["id"])


def test_decision_boundary_png_and_svg(
    client: TestClient, circle_model: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = circle_model
    url = f"/v1/models/{model['id']}/decision-boundary.png"
    _png(client.get(url))  # the model's own dataset
    _png(client.get(url, params={"dataset_id": dataset["id"], "resolution": 40}))
    _svg(client.get(url, params={"format": "svg"}))
    _svg(client.get(url, headers={"accept": "image/svg+xml"}))
    _png(client.get(url, headers={"accept": "image/*"}))


def test_etag_304_and_new_versions_get_new_tags(
    client: TestClient,
    circle_model: tuple[dict[str, Any], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, model = circle_model
    drawn: list[int] = []
    original = plots.decision_boundary

    def counting(*args: Any, **kwargs: Any) -> bytes:
        drawn.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(plots, "decision_boundary", counting)
    url = f"/v1/models/{model['id']}/decision-boundary.png"
    first = client.get(url, params={"resolution": 30})
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "private, no-cache"
    again = client.get(url, params={"resolution": 30}, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    repeat = client.get(url, params={"resolution": 30})
    assert repeat.content == first.content
    assert len(drawn) == 1  # neither the 304 nor the repeat drew again
    X = np.random.default_rng(0).uniform(-1, 1, size=(2, 50))
    train_and_publish(client, model["id"], X, (X[0] > 0)[np.newaxis] * 1.0, n_iter=20)
    changed = client.get(url, params={"resolution": 30}, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    pinned = client.get(url, params={"resolution": 30, "version": 0})
    assert pinned.headers["etag"] == etag and "max-age=86400" in pinned.headers["cache-control"]
    assert len(drawn) == 2


def test_weights_and_activation_images(client: TestClient) -> None:
    model = create_model(client, hidden_layers=[{"units": 8, "activation": "relu"}] * 2)
    _png(client.get(f"/v1/models/{model['id']}/weights.png"))
    _svg(client.get(f"/v1/models/{model['id']}/weights.png", params={"format": "svg"}))
    for name in ("sigmoid", "tanh", "relu", "linear"):
        response = client.get(f"/v1/activations/{name}.png")
        _png(response)
        assert "max-age" in response.headers["cache-control"]
    _svg(client.get("/v1/activations/tanh.png", params={"format": "svg"}))
    assert_problem(client.get("/v1/activations/swish.png"), 404, "unknown_activation")


def test_image_errors(client: TestClient) -> None:
    wide = create_model(client, n_inputs=3)
    url = f"/v1/models/{wide['id']}/decision-boundary.png"
    assert_problem(client.get(url), 422, "not_two_inputs")
    alone = create_model(client)
    url = f"/v1/models/{alone['id']}/decision-boundary.png"
    assert_problem(client.get(url), 422, "dataset_required")
    assert_problem(client.get(url, params={"dataset_id": "ds_0000000000000000"}), 404)
    assert_problem(client.get(url, params={"format": "gif"}), 422)
    assert_problem(client.get(url, headers={"accept": "text/html"}), 406)
    assert_problem(client.get("/v1/models/mdl_0000000000000000/weights.png"), 404)
    assert_problem(client.get(f"/v1/models/{alone['id']}/weights.png?version=4"), 404)


def test_decision_boundary_on_a_dataset_of_other_classes(client: TestClient) -> None:
    # None of the dataset's labels is one of the model's classes: no point to draw, still a map.
    model = create_model(client, classes=[0, 1])
    rows = {
        "name": "pets",
        "features": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 2,
        "targets": ["cat", "dog"] * 4,
        "test_fraction": 0.0,
    }
    dataset = client.post("/v1/datasets", json=rows).json()
    url = f"/v1/models/{model['id']}/decision-boundary.png"
    _png(client.get(url, params={"dataset_id": dataset["id"], "resolution": 20}))
