"""Helpers for the serving tests: models through the API, trained versions through storage.

A trained version is published the way a training job does it: the ``.npz`` file is written
first, then one transaction records the version and makes it current.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import ModelRepository
from app.storage.tables import ModelVersionRow
from core.network import ANN
from core.serialization import model_from_bytes, model_to_bytes


def assert_close(got: Any, expected: Any) -> None:
    """Served numbers agree with the engine's reference forward pass to rounding.

    Serving uses the engine's in-place activation forms, which round differently from the
    reference ``ANN.forward_propagation`` in the last bit or so.
    """
    np.testing.assert_allclose(
        np.asarray(got, dtype=np.float64),
        np.asarray(expected, dtype=np.float64),
        rtol=1e-12,
        atol=1e-14,
    )


def create_dataset(client: TestClient, **body: Any) -> dict[str, Any]:
    """A generated dataset (circle, 200 samples by default)."""
    payload = {"kind": "circle", "n_samples": 200, "noise": 0.1, "seed": 3} | body
    response = client.post("/v1/datasets/generate", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def create_model(client: TestClient, **body: Any) -> dict[str, Any]:
    """A model through the API (binary, 2 inputs, 4 tanh units by default)."""
    payload: dict[str, Any] = {
        "name": "net",
        "task": "binary",
        "n_inputs": 2,
        "hidden_layers": [{"units": 4, "activation": "tanh"}],
    } | body
    response = client.post("/v1/models", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def stored_network(arrays: ArrayStore, model_id: str, version: int) -> ANN:
    """The network stored as ``version``, read straight from its file."""
    return model_from_bytes(arrays.model_version_bytes(model_id, version))


def publish_version(db: Database, arrays: ArrayStore, model_id: str, ann: ANN) -> int:
    """Store ``ann`` as the model's next version and make it current; returns its number."""
    with db.session() as session:
        latest = ModelRepository(session).latest_version_number(model_id)
    number = (latest or 0) + 1
    arrays.save_model_version_bytes(model_id, number, model_to_bytes(ann))
    with db.session() as session:
        models = ModelRepository(session)
        row = models.get(model_id, for_update=True)
        assert row is not None
        models.add_version(ModelVersionRow(model_id=model_id, version=number, note="test"))
        row.current_version = number
    return number


def train_and_publish(
    client: TestClient,
    model_id: str,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    n_iter: int = 300,
    lambd: float = 0.5,
) -> tuple[ANN, int]:
    """Train the model's current network with core on ``X`` ``(n_x, m)``, ``Y`` ``(n_y, m)`` and
    publish it; returns the trained network and its version."""
    state = client.app.state  # type: ignore[attr-defined]
    row = client.get(f"/v1/models/{model_id}").json()
    ann = stored_network(state.arrays, model_id, row["current_version"])
    ann.fit(X, Y, n_iter=n_iter, lambd=lambd)
    return ann, publish_version(state.db, state.arrays, model_id, ann)
