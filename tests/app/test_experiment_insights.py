"""A finished search's cost curves and parameter importance, and runs compared side by side:
through HTTP, with their errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from app.storage.db import Database
from app.storage.search_repository import SearchRepository
from tests.app.helpers import assert_problem
from tests.app.jobs_support import make_dataset, make_model, start_job
from tests.app.search_support import SMALL_TRAIN, drive, run_queued_jobs, start_search

Client = TestClient
SPACE = {"learning_rate": {"log_uniform": [0.01, 2.0]}, "seed": {"int": [0, 50]}}


@pytest.fixture
def dataset(client: Client) -> dict[str, Any]:
    return make_dataset(client, n_samples=80)


@pytest.fixture
def search(client: Client, settings: Settings, dataset: dict[str, Any]) -> dict[str, Any]:
    created = start_search(
        client,
        dataset["id"],
        strategy="random",
        space=SPACE,
        train=SMALL_TRAIN,
        max_trials=5,
        seed=3,
    )
    finished = drive(client, settings, created["id"])
    assert finished["status"] == "succeeded"
    return finished


def _image(client: Client, url: str, **params: Any) -> bytes:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    if params.get("format") == "svg":
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.content.lstrip().startswith(b"<?xml")
    else:
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(b"\x89PNG")
    again = client.get(url, params=params, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    return response.content


def test_trials_keep_their_curves_after_their_models_are_deleted(
    client: Client, settings: Settings, search: dict[str, Any]
) -> None:
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            curves = SearchRepository(session).curves(search["id"], range(5))
    finally:
        db.dispose()
    assert sorted(curves) == [0, 1, 2, 3, 4]
    for curve in curves.values():
        assert len(curve["iterations"]) == len(curve["costs"]) > 10
        assert curve["iterations"][-1] == SMALL_TRAIN["n_iter"]
        assert len(curve["val_iterations"]) == len(curve["val_costs"]) > 0
    kept = [t["model_id"] for t in search["trials"]]
    assert sum(client.get(f"/v1/models/{m}").status_code == 200 for m in kept) == 1


def test_cost_curves_of_the_best_trials(client: Client, search: dict[str, Any]) -> None:
    url = f"/v1/searches/{search['id']}/cost-curves.png"
    top5 = _image(client, url)
    top1 = _image(client, url, top=1)
    assert top1 != top5  # one curve pair drawn instead of five
    _image(client, url, top=3, log_y=True)
    _image(client, url, format="svg")
    for bad in ({"top": 0}, {"top": 21}, {"format": "gif"}):
        assert_problem(client.get(url, params=bad), 422)
    assert_problem(client.get("/v1/searches/srch_0123456789abcdef/cost-curves.png"), 404)


def test_importance_by_fanova_and_ped_anova(client: Client, search: dict[str, Any]) -> None:
    url = f"/v1/searches/{search['id']}/importance"
    fanova = client.get(url)
    assert fanova.status_code == 200, fanova.text
    body = fanova.json()
    assert body["method"] == "fanova" and body["n_trials"] == 5 and body["metric"] == "accuracy"
    names = [item["param"] for item in body["importances"]]
    assert sorted(names) == sorted(SPACE)
    values = [item["importance"] for item in body["importances"]]
    assert values == sorted(values, reverse=True) and all(v >= 0 for v in values)
    assert sum(values) == pytest.approx(1.0, abs=1e-6)
    assert client.get(url).json() == body  # seeded: the same trials give the same numbers
    ped = client.get(url, params={"method": "ped_anova"})
    assert ped.status_code == 200 and ped.json()["method"] == "ped_anova"
    assert sorted(i["param"] for i in ped.json()["importances"]) == sorted(SPACE)
    _image(client, f"{url}.png")
    _image(client, f"{url}.png", format="svg", method="ped_anova")
    assert_problem(client.get(url, params={"method": "shap"}), 422)


def test_importance_needs_two_trials_and_a_varied_parameter(
    client: Client, settings: Settings, dataset: dict[str, Any]
) -> None:
    one = start_search(
        client, dataset["id"], strategy="grid", space={"l2": [0.0]}, train=SMALL_TRAIN
    )
    drive(client, settings, one["id"])
    for url in (f"/v1/searches/{one['id']}/importance", f"/v1/searches/{one['id']}/importance.png"):
        problem = assert_problem(client.get(url), 409)
        assert problem["code"] == "too_few_trials"
    same = start_search(
        client,
        dataset["id"],
        strategy="random",
        space={"optimizer": ["gd"]},
        train=SMALL_TRAIN,
        max_trials=2,
    )
    drive(client, settings, same["id"])
    problem = assert_problem(client.get(f"/v1/searches/{same['id']}/importance"), 409)
    assert problem["code"] == "nothing_varied"


# --- comparing runs -------------------------------------------------------------------------


def _layers(activation: str) -> list[dict[str, Any]]:
    return [{"units": u, "activation": activation} for u in (4, 2, 2)]


@pytest.fixture
def runs(client: Client, settings: Settings, dataset: dict[str, Any]) -> list[dict[str, Any]]:
    """The notes' exercise: 4-2-2 with ReLU and with linear units, trained alike."""
    models = []
    for activation in ("relu", "linear"):
        model = make_model(
            client, dataset["id"], name=f"circle-{activation}", hidden_layers=_layers(activation)
        )
        start_job(
            client, model["id"], dataset["id"], n_iter=400, record_every=10, validation="test"
        )
        models.append(model)
    db = Database(settings.database_url)
    try:
        assert run_queued_jobs(settings, db) == 2
    finally:
        db.dispose()
    return models


def test_relu_against_linear_in_one_request(client: Client, runs: list[dict[str, Any]]) -> None:
    relu, linear = runs
    response = client.post(
        "/v1/compare", json={"models": [{"model_id": relu["id"]}, {"model_id": linear["id"]}]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["differences"] == ["hidden_layers"]
    first, second = body["runs"]
    assert [first["model_id"], second["model_id"]] == [relu["id"], linear["id"]]
    for run, activation in ((first, "relu"), (second, "linear")):
        assert run["trained"] and run["version"] == 1 and run["iterations"] == 400
        assert [layer["activation"] for layer in run["settings"]["hidden_layers"]] == [
            activation
        ] * 3
        assert run["settings"]["learning_rate"] == 0.1 and run["settings"]["optimizer"] == "gd"
        assert 0.0 <= run["train"]["accuracy"] <= 1.0
        assert run["validation"]["n_samples"] > 0
        curve = run["curve"]
        assert curve["iterations"][-1] == 400 and len(curve["costs"]) == len(curve["iterations"])
        assert run["final_cost"] < curve["costs"][0]  # it learned something
        job = client.get(f"/v1/jobs/{run['job_id']}").json()
        assert job["result"]["train"]["accuracy"] == run["train"]["accuracy"]
    by_query = client.get("/v1/models/compare", params={"ids": f"{relu['id']},{linear['id']}:1"})
    assert by_query.status_code == 200 and by_query.json() == body


def test_compare_image_and_untrained_runs(client: Client, runs: list[dict[str, Any]]) -> None:
    relu, linear = runs
    ids = f"{relu['id']},{linear['id']}"
    both = _image(client, "/v1/models/compare.png", ids=ids)
    _image(client, "/v1/models/compare.png", ids=ids, format="svg", log_y=True)
    older = client.get("/v1/models/compare", params={"ids": f"{relu['id']}:0,{relu['id']}"})
    initial, trained = older.json()["runs"]
    assert not initial["trained"] and initial["curve"] is None and initial["train"] is None
    assert trained["trained"]
    differences = older.json()["differences"]  # the same model: only the training is new
    assert "learning_rate" in differences and "hidden_layers" not in differences
    one = _image(client, "/v1/models/compare.png", ids=f"{relu['id']}:0,{linear['id']}")
    assert one != both


def test_compare_errors(client: Client, runs: list[dict[str, Any]]) -> None:
    relu = runs[0]["id"]
    unknown = "mdl_0123456789abcdef"
    cases = [
        ({"models": []}, 422, None),
        ({"models": [{"model_id": relu, "version": i} for i in range(11)]}, 422, None),
        ({"models": [{"model_id": relu}, {"model_id": relu}]}, 422, "duplicate_runs"),
        ({"models": [{"model_id": relu, "extra": 1}]}, 422, None),
        ({"models": [{"model_id": relu, "version": -1}]}, 422, None),
        ({"models": [{"model_id": unknown}]}, 404, "model_not_found"),
        ({"models": [{"model_id": relu, "version": 9}]}, 404, "version_not_found"),
        ({"models": [{"model_id": "nope"}]}, 404, None),
    ]
    for body, status, code in cases:
        problem = assert_problem(client.post("/v1/compare", json=body), status)
        assert code is None or problem["code"] == code, (body, problem)
    for ids, status, code in [
        ("", 422, "no_runs"),
        (",".join(f"{relu}:{i}" for i in range(11)), 422, "too_many_runs"),
        (f"{relu}:x", 422, "bad_ids"),
        (f"{relu}:-1", 422, "bad_ids"),
        (unknown, 404, "model_not_found"),
    ]:
        for url in ("/v1/models/compare", "/v1/models/compare.png"):
            problem = assert_problem(client.get(url, params={"ids": ids}), status)
            assert problem["code"] == code, (url, ids, problem)
    assert_problem(client.get("/v1/models/compare"), 422)
    assert_problem(
        client.post("/v1/compare", content=b"{", headers={"content-type": "application/json"}), 400
    )
