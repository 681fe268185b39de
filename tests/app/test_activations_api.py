"""``GET /v1/activations``: core's activation tables as the API serves them."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from tests.app.helpers import assert_problem
from tests.app.serving_support import create_model

KEY = "activations-key-0123456789"


def test_lists_equal_core_tables(client: TestClient) -> None:
    response = client.get("/v1/activations")
    assert response.status_code == 200
    body = response.json()
    activations = body["activations"]
    names = [a["name"] for a in activations]
    assert len(names) == len(set(names))
    assert set(names) == set(HIDDEN_ACTIVATIONS) | set(OUTPUT_ACTIVATIONS)
    assert tuple(a["name"] for a in activations if a["hidden"]) == HIDDEN_ACTIVATIONS
    outputs = [a["name"] for a in activations if a["output"]]
    assert sorted(outputs) == sorted(OUTPUT_ACTIVATIONS)
    assert set(body["outputs_by_task"]) == {"binary", "multiclass", "regression"}
    for allowed in body["outputs_by_task"].values():
        assert allowed
        assert set(allowed) <= set(OUTPUT_ACTIVATIONS)


def test_every_listed_use_is_accepted(client: TestClient) -> None:
    body = client.get("/v1/activations").json()
    for activation in body["activations"]:
        if activation["hidden"]:
            layers = [{"units": 2, "activation": activation["name"]}]
            model = create_model(client, hidden_layers=layers)
            assert model["hidden_layers"] == layers
    for task, allowed in body["outputs_by_task"].items():
        shape = {"classes": ["a", "b", "c"]} if task == "multiclass" else {}
        default = create_model(client, task=task, **shape)
        assert default["output_activation"] == allowed[0]
        for name in allowed:
            model = create_model(client, task=task, output_activation=name, **shape)
            assert model["output_activation"] == name


def test_needs_the_api_key_and_keeps_the_image_route(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", api_keys=[KEY])
    with TestClient(create_app(settings)) as client:
        assert_problem(client.get("/v1/activations"), 401, "missing_api_key")
        headers = {"Authorization": f"Bearer {KEY}"}
        assert client.get("/v1/activations", headers=headers).status_code == 200
        image = client.get("/v1/activations/tanh.png", headers=headers)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
