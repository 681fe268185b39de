"""The jobs API in process: submission checks (422/404/409), listing, cancel of queued jobs,
history and images of jobs that have not run. No worker runs here, so jobs stay queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app
from app.services.job_images import thin
from app.settings import Settings
from tests.app.helpers import assert_problem
from tests.app.jobs_support import make_dataset, make_model, start_job

Client = TestClient


@pytest.fixture(params=["local", pytest.param("celery", marks=pytest.mark.services)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Both executors: with ``celery``, submission sends each job's task to the test Redis."""
    if request.param == "local":
        return Settings(data_dir=tmp_path / "data")
    return Settings(
        data_dir=tmp_path / "data",
        executor="celery",
        broker_url=request.getfixturevalue("redis_url"),
        celery_queue=request.getfixturevalue("celery_queue"),
    )


@pytest.fixture
def setup(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
    dataset = make_dataset(client, n_samples=60)
    return dataset, make_model(client, dataset["id"])


def test_train_answers_202_with_the_queued_job(
    client: Client, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = setup
    job = start_job(client, model["id"], dataset["id"], n_iter=50, lambd=0.5, optimizer="adam")
    assert job["status"] == "queued"
    assert job["model_id"] == model["id"] and job["dataset_id"] == dataset["id"]
    assert job["params"]["learning_rate"] == 0.5  # the notes' name is accepted
    assert job["params"]["optimizer"] == "adam" and job["params"]["base_version"] == 0
    assert job["progress"] is None and job["result"] is None and job["error"] is None
    assert client.get(f"/v1/models/{model['id']}").json()["status"] == "training"
    assert client.get(f"/v1/jobs/{job['id']}").json()["id"] == job["id"]


def test_one_active_job_per_model(
    client: Client, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = setup
    first = start_job(client, model["id"], dataset["id"])
    again = client.post(f"/v1/models/{model['id']}/train", json={"dataset_id": dataset["id"]})
    assert_problem(again, 409, "model_busy")
    # Deleting a training model is refused too.
    assert_problem(client.delete(f"/v1/models/{model['id']}"), 409)
    client.post(f"/v1/jobs/{first['id']}/cancel")
    start_job(client, model["id"], dataset["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"n_iter": 0}, "body.n_iter"),
        ({"learning_rate": -0.1}, "body.learning_rate"),
        ({"optimizer": "sgd"}, "body.optimizer"),
        ({"validation": 1.5}, "body.validation"),
        ({"batch_size": 0}, "body.batch_size"),
        ({"unknown": 1}, "body.unknown"),
    ],
)
def test_malformed_hyperparameters_are_422(
    client: Client, setup: tuple[dict[str, Any], dict[str, Any]], body: dict[str, Any], field: str
) -> None:
    dataset, model = setup
    response = client.post(
        f"/v1/models/{model['id']}/train", json={"dataset_id": dataset["id"], **body}
    )
    problem = assert_problem(response, 422, "validation_error")
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem


def test_dataset_must_fit_the_model(client: Client) -> None:
    circle = make_dataset(client, n_samples=60)
    three = client.post(
        "/v1/datasets",
        json={
            "name": "three features",
            "features": [[0.0, 1.0, 2.0], [1.0, 0.0, 2.0]] * 5,
            "targets": [0, 1] * 5,
        },
    ).json()
    regression = make_dataset(client, kind="reg-plane", n_samples=60)
    model = make_model(client, circle["id"])
    url = f"/v1/models/{model['id']}/train"
    assert_problem(
        client.post(url, json={"dataset_id": three["id"]}), 422, "feature_count_mismatch"
    )
    assert_problem(client.post(url, json={"dataset_id": regression["id"]}), 422, "task_mismatch")
    named = client.post(
        "/v1/models",
        json={"name": "ab", "task": "binary", "n_inputs": 2, "classes": ["a", "b"]},
    ).json()
    response = client.post(f"/v1/models/{named['id']}/train", json={"dataset_id": circle["id"]})
    assert_problem(response, 422, "labels_mismatch")
    missing = {"dataset_id": "ds_0000000000000000"}
    assert_problem(client.post(url, json=missing), 422, "unknown_dataset")
    # Nothing was queued by the refused requests.
    assert client.get("/v1/jobs").json()["total"] == 0
    assert client.get(f"/v1/models/{model['id']}").json()["status"] == "ready"


def test_validation_rules(client: Client, setup: tuple[dict[str, Any], dict[str, Any]]) -> None:
    dataset, model = setup
    url = f"/v1/models/{model['id']}/train"
    stopping = {"dataset_id": dataset["id"], "early_stopping": {"patience": 5}}
    assert_problem(client.post(url, json=stopping), 422, "validation_required")
    no_test = client.post(
        "/v1/datasets/generate", json={"kind": "circle", "n_samples": 40, "test_fraction": 0.0}
    ).json()
    body = {"dataset_id": no_test["id"], "validation": "test"}
    assert_problem(client.post(url, json=body), 422, "no_validation_rows")
    tiny = {"dataset_id": dataset["id"], "validation": 0.001}
    assert_problem(client.post(url, json=tiny), 422, "no_validation_rows")


def test_limits_from_settings(settings: Settings) -> None:
    limited = settings.model_copy(update={"max_train_iterations": 100, "max_job_seconds": 5.0})
    with TestClient(create_app(limited)) as client:
        dataset = make_dataset(client, n_samples=60)
        model = make_model(client, dataset["id"])
        url = f"/v1/models/{model['id']}/train"
        many = {"dataset_id": dataset["id"], "n_iter": 101}
        assert_problem(client.post(url, json=many), 422, "too_many_iterations")
        slow = {"dataset_id": dataset["id"], "n_iter": 100, "max_seconds": 6}
        assert_problem(client.post(url, json=slow), 422, "too_many_seconds")
        job = start_job(client, model["id"], dataset["id"], n_iter=100)
        assert job["params"]["max_seconds"] == 5.0  # the limit applies when none is asked


def test_unknown_ids(client: Client) -> None:
    body = {"dataset_id": "ds_0000000000000000"}
    assert_problem(client.post("/v1/models/mdl_0000000000000000/train", json=body), 404)
    assert_problem(client.get("/v1/jobs/job_0000000000000000"), 404, "job_not_found")
    assert_problem(client.get("/v1/jobs/not-an-id"), 404, "invalid_id")
    assert_problem(client.post("/v1/jobs/job_0000000000000000/cancel"), 404)
    assert_problem(client.get("/v1/jobs/job_0000000000000000/history"), 404)
    assert_problem(client.get("/v1/jobs/job_0000000000000000/events"), 404)
    assert_problem(client.get("/v1/jobs/job_0000000000000000/cost-curve.png"), 404)


def test_list_filters_by_model_and_status(client: Client) -> None:
    dataset = make_dataset(client, n_samples=60)
    first, second = (make_model(client, dataset["id"]) for _ in range(2))
    a = start_job(client, first["id"], dataset["id"])
    b = start_job(client, second["id"], dataset["id"])
    client.post(f"/v1/jobs/{a['id']}/cancel")
    page = client.get("/v1/jobs").json()
    assert page["total"] == 2 and [j["id"] for j in page["items"]] == [b["id"], a["id"]]
    by_model = client.get("/v1/jobs", params={"model_id": first["id"]}).json()
    assert [j["id"] for j in by_model["items"]] == [a["id"]]
    queued = client.get("/v1/jobs", params={"status": "queued"}).json()
    assert [j["id"] for j in queued["items"]] == [b["id"]]
    assert (
        client.get("/v1/jobs", params={"status": "cancelled", "model_id": second["id"]}).json()[
            "total"
        ]
        == 0
    )
    assert client.get("/v1/jobs", params={"status": "bogus"}).status_code == 422
    assert (
        client.get("/v1/jobs", params={"limit": 1, "offset": 1}).json()["items"][0]["id"] == a["id"]
    )


def test_cancel_is_idempotent_and_frees_the_model(
    client: Client, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = setup
    job = start_job(client, model["id"], dataset["id"])
    first = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    assert first.json()["finished_at"] is not None
    second = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert second.status_code == 200 and second.json()["status"] == "cancelled"
    model_now = client.get(f"/v1/models/{model['id']}").json()
    assert model_now["status"] == "ready" and model_now["current_version"] == 0


def test_a_job_that_has_not_run_has_empty_history_and_an_empty_curve(
    client: Client, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = setup
    job = start_job(client, model["id"], dataset["id"])
    history = client.get(f"/v1/jobs/{job['id']}/history").json()
    assert history == {
        "job_id": job["id"],
        "iterations": [],
        "costs": [],
        "val_iterations": [],
        "val_costs": [],
    }
    csv = client.get(f"/v1/jobs/{job['id']}/history", headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text == "iteration,cost,val_cost\n"
    image = client.get(f"/v1/jobs/{job['id']}/cost-curve.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert_problem(client.get(f"/v1/jobs/{job['id']}/cost-curve.png?format=gif"), 422)
    assert_problem(client.get(f"/v1/models/{model['id']}/cost-curve.png"), 404, "no_training")
    assert_problem(
        client.get(f"/v1/jobs/{job['id']}/history", headers={"Accept": "image/png"}), 406
    )


def test_events_of_a_finished_job_are_one_status_event(
    client: Client, setup: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    dataset, model = setup
    job = start_job(client, model["id"], dataset["id"])
    client.post(f"/v1/jobs/{job['id']}/cancel")
    with client.stream("GET", f"/v1/jobs/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = stream.read().decode()
    assert text.count("event: status") == 1 and "event: progress" not in text
    assert '"status":"cancelled"' in text


def test_long_histories_are_thinned_for_the_figure() -> None:
    its = list(range(1, 10_001))
    costs = [1.0 / i for i in its]
    kept_its, kept_costs = thin(its, costs, limit=1000)
    assert 1000 <= len(kept_its) <= 1001
    assert kept_its[0] == 1 and kept_its[-1] == 10_000
    assert all(c == 1.0 / i for i, c in zip(kept_its, kept_costs, strict=True))
    assert thin(its[:5], costs[:5], limit=1000) == (its[:5], costs[:5])


def test_heartbeat_timeout_must_outlast_progress_writes(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="heartbeat_timeout"):
        Settings(data_dir=tmp_path, heartbeat_timeout=0.4, progress_interval=0.25)
    assert Settings(data_dir=tmp_path, heartbeat_timeout=0.6).heartbeat_timeout == 0.6


def test_an_unreachable_broker_is_503_and_leaves_no_job(tmp_path: Path) -> None:
    # Nothing listens on port 1: the Celery executor cannot hand the job over.
    settings = Settings(
        data_dir=tmp_path / "data", executor="celery", broker_url="redis://127.0.0.1:1/0"
    )
    with TestClient(create_app(settings)) as client:
        dataset = make_dataset(client, n_samples=60)
        model = make_model(client, dataset["id"])
        response = client.post(
            f"/v1/models/{model['id']}/train", json={"dataset_id": dataset["id"]}
        )
        assert_problem(response, 503, "queue_unavailable")
        assert response.headers["retry-after"] == "5"
        assert client.get("/v1/jobs").json()["total"] == 0
        assert client.get(f"/v1/models/{model['id']}").json()["status"] == "ready"
