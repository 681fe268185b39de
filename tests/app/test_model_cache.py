"""The model cache: warm requests read no file and no row; new versions are seen at once, also
when another process publishes them; stale entries are dropped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.errors import NotFound
from app.main import create_app
from app.services.model_cache import ModelCache
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import ModelRepository
from app.storage.tables import ModelVersionRow
from core.serialization import model_to_bytes
from tests.app.serving_support import (
    assert_close,
    create_model,
    publish_version,
    stored_network,
)
from tests.conftest import REPO_ROOT, StartServer

ROW = {"inputs": [[0.3, -0.6]]}

PUBLISH = textwrap.dedent(
    """
    import sys
    from app.settings import Settings
    from app.storage.arrays import ArrayStore
    from app.storage.db import Database
    from core.serialization import model_from_bytes
    from tests.app.serving_support import publish_version

    data_dir, model_id = sys.argv[1], sys.argv[2]
    settings = Settings(data_dir=data_dir)
    arrays, db = ArrayStore(settings.data_dir), Database(settings.database_url)
    ann = model_from_bytes(arrays.model_version_bytes(model_id, 0))
    ann.W1 = ann.W1 * 2.0
    print(publish_version(db, arrays, model_id, ann))
    """
)


def _held_versions(cache: ModelCache, model_id: str) -> list[int]:
    """The versions of a model the cache holds loaded."""
    return sorted(v for m, v in list(cache._networks) if m == model_id)


@pytest.fixture
def patient_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client whose cache would trust a model's row for an hour if nothing changed on disk."""
    settings = Settings(data_dir=tmp_path / "data", model_cache_ttl_seconds=3600)
    with TestClient(create_app(settings)) as client:
        yield client


def _cache(client: TestClient) -> ModelCache:
    client.post("/v1/models/mdl_0000000000000000/predict", json=ROW)  # creates it lazily
    cache: ModelCache = client.app.state.model_cache  # type: ignore[attr-defined]
    return cache


def _predict(client: TestClient, model_id: str, **query: Any) -> dict[str, Any]:
    response = client.post(f"/v1/models/{model_id}/predict", params=query, json=ROW)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_warm_requests_load_no_file_and_read_no_row(patient_client: TestClient) -> None:
    model = create_model(patient_client)
    cache = _cache(patient_client)
    reads = cache.row_reads
    for _ in range(25):
        _predict(patient_client, model["id"])
    for _ in range(5):
        _predict(patient_client, model["id"], version=0)
    assert (cache.loads, cache.row_reads - reads) == (1, 1)


def test_warm_requests_make_no_system_call_until_some_model_changes(
    patient_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, other = create_model(patient_client), create_model(patient_client)
    cache = _cache(patient_client)
    _predict(patient_client, model["id"])
    stats: list[str] = []
    mtime = ModelCache._mtime
    monkeypatch.setattr(ModelCache, "_mtime", staticmethod(lambda d: stats.append(d) or mtime(d)))
    for _ in range(10):
        _predict(patient_client, model["id"])
    assert stats == []  # the change marker did not move: no stat
    state = patient_client.app.state  # type: ignore[attr-defined]
    publish_version(
        state.db, state.arrays, other["id"], stored_network(state.arrays, other["id"], 0)
    )
    for _ in range(10):
        assert _predict(patient_client, model["id"])["model_version"] == 0
    # Another model changed: one stat shows this model's directory did not, then none again.
    assert stats == [str(state.arrays.model_dir(model["id"]))]
    reads = cache.row_reads
    ann = stored_network(state.arrays, model["id"], 0)
    ann.W1 = ann.W1 * 3.0
    publish_version(state.db, state.arrays, model["id"], ann)
    assert _predict(patient_client, model["id"])["model_version"] == 1
    assert cache.row_reads == reads + 1


def test_a_version_published_by_another_process_is_seen_at_once(
    patient_client: TestClient,
) -> None:
    model = create_model(patient_client)
    cache = _cache(patient_client)
    before = _predict(patient_client, model["id"])
    state = patient_client.app.state  # type: ignore[attr-defined]
    done = subprocess.run(
        [sys.executable, "-c", PUBLISH, str(state.settings.data_dir), model["id"]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "1"
    after = _predict(patient_client, model["id"])
    assert (before["model_version"], after["model_version"]) == (0, 1)
    assert after["probabilities"] != before["probabilities"]
    expected = stored_network(state.arrays, model["id"], 1).predict_proba(np.array(ROW["inputs"]).T)
    assert_close(after["probabilities"][0][1], expected[0, 0])
    assert _held_versions(cache, model["id"]) == [1]  # the old entry is gone
    assert cache.loads == 2


def test_a_file_whose_commit_is_pending_is_not_trusted_yet(patient_client: TestClient) -> None:
    model = create_model(patient_client)
    cache = _cache(patient_client)
    state = patient_client.app.state  # type: ignore[attr-defined]
    _predict(patient_client, model["id"])
    ann = stored_network(state.arrays, model["id"], 0)
    ann.b1 = ann.b1 + 1.0
    # A job writes the file first and commits the version a moment later.
    state.arrays.save_model_version_bytes(model["id"], 1, model_to_bytes(ann))
    assert _predict(patient_client, model["id"])["model_version"] == 0
    reads = cache.row_reads
    assert _predict(patient_client, model["id"])["model_version"] == 0
    assert cache.row_reads == reads + 1  # unsettled: the row is read again
    with state.db.session() as session:
        repo = ModelRepository(session)
        repo.add_version(ModelVersionRow(model_id=model["id"], version=1, note="late commit"))
        row = repo.get(model["id"])
        assert row is not None
        row.current_version = 1
    assert _predict(patient_client, model["id"])["model_version"] == 1
    reads = cache.row_reads
    _predict(patient_client, model["id"])
    assert cache.row_reads == reads  # settled again


def test_the_ttl_bounds_how_long_a_row_is_trusted(client: TestClient) -> None:
    model = create_model(client)
    state = client.app.state  # type: ignore[attr-defined]
    now = [0.0]
    cache = ModelCache(state.db, state.arrays, ttl_seconds=5.0, clock=lambda: now[0])
    cache.get(model["id"])
    cache.get(model["id"])
    assert cache.row_reads == 1
    now[0] = 6.0
    assert cache.peek(model["id"]) is None  # expired: the fast path declines
    cache.get(model["id"])
    assert (cache.row_reads, cache.loads) == (2, 1)


def test_an_expired_row_is_read_again_once_while_others_keep_the_snapshot(
    client: TestClient,
) -> None:
    model = create_model(client)
    state = client.app.state  # type: ignore[attr-defined]
    now = [0.0]
    cache = ModelCache(state.db, state.arrays, ttl_seconds=5.0, clock=lambda: now[0])
    held = cache.get(model["id"])
    now[0] = 6.0
    assert cache.peek(model["id"]) is None  # the first to find it expired re-reads it
    assert cache.peek(model["id"]) is held  # the others meanwhile keep the snapshot
    assert cache.row_reads == 1
    cache.get(model["id"])
    assert cache.row_reads == 2 and cache.peek(model["id"]) is not None
    now[0] = 12.0
    assert cache.peek(model["id"]) is None  # a re-read whose caller never came ...
    assert cache.peek(model["id"]) is not None
    now[0] = 17.5
    assert cache.peek(model["id"]) is None  # ... is taken over after a ttl
    assert cache.row_reads == 2


def test_least_recently_used_networks_are_evicted(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    cache = ModelCache(state.db, state.arrays, capacity=2, ttl_seconds=3600)
    ids = [create_model(client, name=f"m{i}")["id"] for i in range(3)]
    for model_id in ids:
        cache.get(model_id)
    assert _held_versions(cache, ids[0]) == []
    assert _held_versions(cache, ids[2]) == [0]
    cache.get(ids[1])
    cache.get(ids[0])
    assert cache.loads == 4 and _held_versions(cache, ids[2]) == []


def test_deleted_models_are_gone(patient_client: TestClient) -> None:
    model = create_model(patient_client)
    cache = _cache(patient_client)
    _predict(patient_client, model["id"])
    assert patient_client.delete(f"/v1/models/{model['id']}").status_code == 204
    response = patient_client.post(f"/v1/models/{model['id']}/predict", json=ROW)
    assert response.status_code == 404
    assert _held_versions(cache, model["id"]) == []
    with pytest.raises(NotFound):
        cache.get(model["id"])


def test_a_model_deleted_by_another_process_is_gone_at_once(patient_client: TestClient) -> None:
    model = create_model(patient_client)
    _predict(patient_client, model["id"])
    state = patient_client.app.state  # type: ignore[attr-defined]
    # Another process's storage objects: nothing shared with this app but the data dir.
    arrays, db = ArrayStore(state.settings.data_dir), Database(state.settings.database_url)
    try:
        with db.session() as session:
            ModelRepository(session).delete(model["id"])
        arrays.delete_model(model["id"])
    finally:
        db.dispose()
    response = patient_client.post(f"/v1/models/{model['id']}/predict", json=ROW)
    assert response.status_code == 404
    assert response.json()["code"] == "model_not_found"


def test_publishing_in_process_also_invalidates(patient_client: TestClient) -> None:
    model = create_model(patient_client)
    state = patient_client.app.state  # type: ignore[attr-defined]
    _predict(patient_client, model["id"])
    ann = stored_network(state.arrays, model["id"], 0)
    for expected in (1, 2):
        assert publish_version(state.db, state.arrays, model["id"], ann) == expected
        assert _predict(patient_client, model["id"])["model_version"] == expected


@pytest.mark.slow
def test_a_training_job_in_a_live_server_is_served_at_once(live_server: StartServer) -> None:
    server = live_server(env={"ANNSERVE_MODEL_CACHE_TTL_SECONDS": "3600"})
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        dataset = client.post(
            "/v1/datasets/generate", json={"kind": "circle", "n_samples": 200, "seed": 1}
        ).json()
        model = client.post("/v1/models", json={"name": "live", "dataset_id": dataset["id"]}).json()
        url = f"/v1/models/{model['id']}/predict"
        assert client.post(url, json=ROW).json()["model_version"] == 0
        job = client.post(
            f"/v1/models/{model['id']}/train",
            json={"dataset_id": dataset["id"], "n_iter": 200, "learning_rate": 0.5},
        )
        assert job.status_code == 202, job.text
        from tests.app.jobs_support import wait_final

        final = wait_final(client, job.json()["id"])
        assert final["status"] == "succeeded", final
        answer = client.post(url, json=ROW).json()
    assert answer["model_version"] == 1 and answer["trained"] is True
    from app.storage.arrays import ArrayStore
    from core.serialization import model_from_bytes

    ann = model_from_bytes(ArrayStore(server.data_dir).model_version_bytes(model["id"], 1))
    expected = ann.predict_proba(np.array(ROW["inputs"]).T)[0, 0]
    assert_close(answer["probabilities"][0][1], expected)
