"""Searches in process: bad requests (422 naming the field), grid / random / TPE runs that the
same seed reproduces, cross-validation, the kept best model, listing and deletion."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.app.helpers import assert_problem
from tests.app.jobs_support import make_dataset
from tests.app.search_support import SMALL_TRAIN, board, drive, start_search

Client = TestClient


@pytest.fixture
def dataset(client: Client) -> dict[str, Any]:
    return make_dataset(client, n_samples=80)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"space": {}}, "space", "empty_space"),
        ({"space": {"momentum": [0.9]}}, "space.momentum", "unknown_path"),
        ({"space": {"learning_rate": []}}, "space.learning_rate", "empty_dimension"),
        ({"space": {"learning_rate": [-1.0]}}, "space.learning_rate", "greater_than"),
        ({"space": {"optimizer": {"uniform": [0, 1]}}}, "space.optimizer", "range_not_allowed"),
        ({"space": {"n_iter": {"uniform": [1, 9]}}}, "space.n_iter", "range_not_allowed"),
        (
            {"space": {"hidden_layers[*].activation": ["swish"]}},
            "space.hidden_layers[*].activation",
            "literal_error",
        ),
        (
            {"strategy": "grid", "space": {"learning_rate": {"log_uniform": [0.01, 1]}}},
            "space.learning_rate",
            "not_enumerable",
        ),
        (
            {"strategy": "grid", "space": {"seed": {"int": [0, 5000]}}},
            "space",
            "too_many_trials",
        ),
        ({"space": {"l2": [0.0]}, "base": {"dataset_id": "x"}}, "base.dataset_id", "extra"),
        ({"space": {"l2": [0.0]}, "train": {"n_iter": 0}}, "train.n_iter", "greater_than_equal"),
        ({"space": {"l2": [0.0]}, "metric": "r2"}, "metric", "metric_not_for_task"),
    ],
)
def test_bad_searches_are_422_naming_the_field(
    client: Client, dataset: dict[str, Any], body: dict[str, Any], field: str, code: str
) -> None:
    response = client.post("/v1/searches", json={"dataset_id": dataset["id"], **body})
    problem = assert_problem(response, 422)
    assert any(e["field"] == field and e["code"] == code for e in problem["errors"]), problem


def test_more_trials_than_the_limit_is_422(client: Client, dataset: dict[str, Any]) -> None:
    body = {"dataset_id": dataset["id"], "space": {"l2": [0.0]}, "max_trials": 100_000}
    problem = assert_problem(client.post("/v1/searches", json=body), 422)
    assert problem["errors"][0]["field"] == "body.max_trials"


def test_grid_search_runs_every_point_and_keeps_only_the_best_model(
    client: Client, settings: Settings, dataset: dict[str, Any]
) -> None:
    space = {"learning_rate": [0.05, 0.5], "hidden_layers[*].activation": ["tanh", "relu"]}
    created = start_search(
        client, dataset["id"], strategy="grid", space=space, train=SMALL_TRAIN, max_parallel=3
    )
    assert created["status"] == "queued" and created["progress"]["max_trials"] == 4
    search = drive(client, settings, created["id"])
    assert search["status"] == "succeeded", search
    assert [t["params"] for t in search["trials"]] == [
        {"learning_rate": 0.05, "hidden_layers[*].activation": "tanh"},
        {"learning_rate": 0.05, "hidden_layers[*].activation": "relu"},
        {"learning_rate": 0.5, "hidden_layers[*].activation": "tanh"},
        {"learning_rate": 0.5, "hidden_layers[*].activation": "relu"},
    ]
    assert search["progress"]["succeeded"] == 4 and search["progress"]["eta_s"] == 0.0
    values = [t["value"] for t in search["leaderboard"]]
    assert values == sorted(values, reverse=True)  # accuracy: higher first
    best = search["leaderboard"][0]
    assert search["best_model_id"] == best["model_id"] and search["best_value"] == best["value"]
    model = client.get(f"/v1/models/{best['model_id']}").json()
    assert model["current_version"] == best["model_version"] == 1
    activation = best["params"]["hidden_layers[*].activation"]
    assert model["hidden_layers"][0]["activation"] == activation
    others = [t["model_id"] for t in search["trials"] if t["model_id"] != best["model_id"]]
    assert all(client.get(f"/v1/models/{m}").status_code == 404 for m in others)
    image = client.get(f"/v1/searches/{search['id']}/trials.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    etag = image.headers["etag"]
    again = client.get(f"/v1/searches/{search['id']}/trials.png", headers={"If-None-Match": etag})
    assert again.status_code == 304
    svg = client.get(f"/v1/searches/{search['id']}/trials.png", params={"format": "svg"})
    assert svg.headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize("strategy", ["random", "tpe"])
def test_the_same_seed_gives_the_same_trials_and_leaderboard(
    client: Client, settings: Settings, dataset: dict[str, Any], strategy: str
) -> None:
    space = {
        "learning_rate": {"log_uniform": [0.01, 1.0]},
        "hidden_layers": [[3], [{"units": 5, "activation": "relu"}]],
        "seed": {"int": [0, 100]},
    }
    body = {"strategy": strategy, "space": space, "train": SMALL_TRAIN, "max_trials": 4}
    runs = []
    for _ in range(2):
        created = start_search(client, dataset["id"], seed=7, max_parallel=1, **body)
        runs.append(drive(client, settings, created["id"]))
    first, second = runs
    assert first["status"] == second["status"] == "succeeded"
    assert [t["params"] for t in first["trials"]] == [t["params"] for t in second["trials"]]
    assert board(first) == board(second)
    other = drive(client, settings, start_search(client, dataset["id"], seed=8, **body)["id"])
    assert [t["params"] for t in other["trials"]] != [t["params"] for t in first["trials"]]


def test_cross_validation_scores_every_fold(
    client: Client, settings: Settings, dataset: dict[str, Any]
) -> None:
    created = start_search(
        client,
        dataset["id"],
        strategy="grid",
        space={"learning_rate": [0.5]},
        train=SMALL_TRAIN,
        cv={"folds": 3},
        metric="log_loss",
        keep="all",
    )
    search = drive(client, settings, created["id"])
    (trial,) = search["trials"]
    assert len(trial["fold_values"]) == 3 and len(trial["job_ids"]) == 3
    assert trial["value"] == pytest.approx(sum(trial["fold_values"]) / 3)
    assert trial["value_std"] > 0 and search["direction"] == "minimize"
    sizes = set()
    for job_id in trial["job_ids"]:
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["params"]["validation"]["stratified"] is True
        sizes.add(job["result"]["validation"]["n_samples"])
    assert sum(1 for _ in sizes) >= 1 and max(sizes) - min(sizes) <= 1


def test_list_filters_and_delete(
    client: Client, settings: Settings, dataset: dict[str, Any]
) -> None:
    created = start_search(client, dataset["id"], space={"l2": [0.0]}, train=SMALL_TRAIN)
    assert_problem(client.delete(f"/v1/searches/{created['id']}"), 409, "search_active")
    page = client.get("/v1/searches", params={"status": "queued"}).json()
    assert [s["id"] for s in page["items"]] == [created["id"]] and page["total"] == 1
    assert client.get("/v1/searches", params={"status": "running"}).json()["total"] == 0
    search = drive(client, settings, created["id"])
    assert search["status"] == "succeeded"
    events = client.get(f"/v1/searches/{created['id']}/events")
    assert events.headers["content-type"].startswith("text/event-stream")
    assert "event: status" in events.text and '"status":"succeeded"' in events.text
    assert client.delete(f"/v1/searches/{created['id']}").status_code == 204
    assert_problem(client.get(f"/v1/searches/{created['id']}"), 404, "search_not_found")
    assert client.get(f"/v1/models/{search['best_model_id']}").status_code == 200
    assert_problem(client.get("/v1/searches/nope"), 404, "invalid_id")
