"""Numbers that would crash later are refused where they enter: JSON nested too deeply, integers
of thousands of digits, values beyond float64, class labels beyond int64, data too spread out to
plot. Every one is a 4xx problem (never a 500), and nothing is stored. And a 500 does not cost
the client its keep-alive connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.app.helpers import assert_problem, stored_files
from tests.app.process_support import FaultFlag, fault_server
from tests.conftest import StartServer

JSON = {"content-type": "application/json"}
BIG = "1" + "0" * 400  # 1e400 as a JSON integer
HUGE = "7" * 5000  # past Python's default limit on integer digits


def _model(client: TestClient) -> str:
    dataset = client.post("/v1/datasets/generate", json={"kind": "circle", "n_samples": 40})
    spec = {"name": "m", "dataset_id": dataset.json()["id"], "hidden_layers": [{"units": 3}]}
    model_id: str = client.post("/v1/models", json=spec).json()["id"]
    return model_id


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"inputs":' + _deep(1024) + b"}", 400, "nesting_too_deep"),
        (b'{"inputs":' + _deep(100_000) + b"}", 400, "nesting_too_deep"),
        (f'{{"inputs":[[{HUGE},1]]}}'.encode(), 422, "not_finite"),
        (f'{{"inputs":[[{BIG},1]]}}'.encode(), 422, "not_finite"),
        (f'{{"inputs":[[-{BIG},1]]}}'.encode(), 422, "not_finite"),
        (b'{"inputs":[[1e400,1]]}', 422, "not_finite"),
        (f'{{"inputs":[[1,1]],"version":{BIG}}}'.encode(), 422, "invalid_version"),
    ],
)
def test_predict_refuses_values_that_would_crash(
    client: TestClient, body: bytes, status: int, code: str
) -> None:
    model_id = _model(client)
    response = client.post(f"/v1/models/{model_id}/predict", content=body, headers=JSON)
    assert_problem(response, status, code)


def _dataset(features: str, targets: str, extra: str = "") -> bytes:
    return f'{{"name":"d","features":{features},"targets":{targets}{extra}}}'.encode()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_dataset("[[1],[2],[3]]", f"[{BIG},2,3]", ',"task":"regression"'), "not_finite"),
        (_dataset("[[1],[2],[3],[4]]", f"[{BIG},2.5,3,4.5]"), "not_finite"),
        (_dataset("[[1],[2],[3],[4]]", f"[{BIG},1,{BIG},1]"), "label_out_of_range"),
        (_dataset("[[1],[2],[3],[4]]", f"[{2**63},1,{2**63},1]"), "label_out_of_range"),
        (_dataset(f"[[{BIG}],[2],[3],[4]]", "[0,1,0,1]"), "validation_error"),
    ],
)
def test_datasets_refuse_numbers_beyond_their_types(
    client: TestClient, settings: Settings, body: bytes, code: str
) -> None:
    assert_problem(client.post("/v1/datasets", content=body, headers=JSON), 422, code)
    assert stored_files(settings) == []


@pytest.mark.parametrize("body", [_deep(5000), _dataset("[[1],[2]]", f"[{HUGE},1]")])
def test_unparsable_bodies_are_400(client: TestClient, body: bytes) -> None:
    assert_problem(client.post("/v1/datasets", content=body, headers=JSON), 400)


def test_int64_labels_at_the_limit_are_kept(client: TestClient) -> None:
    top = 2**63 - 1
    body = _dataset("[[1],[2],[3],[4]]", f"[{top},1,{top},1]")
    response = client.post("/v1/datasets", content=body, headers=JSON)
    assert response.status_code == 201, response.text
    assert response.json()["classes"] == [1, top]


@pytest.mark.parametrize(
    ("csv", "task", "code"),
    [
        (f"x,y\n1,{BIG}\n2,1\n3,{BIG}\n4,1\n", None, "not_finite"),  # read as a float
        (f"x,y\n1,{BIG}\n2,1.5\n3,2\n4,1\n", "regression", "not_finite"),
        (f"x,y\n{BIG},1\n2,0\n3,1\n4,0\n", None, None),
    ],
)
def test_csv_refuses_numbers_beyond_their_types(
    client: TestClient, settings: Settings, csv: str, task: str | None, code: str | None
) -> None:
    data: dict[str, Any] = {"target": "y"} | ({"task": task} if task else {})
    files = {"file": ("d.csv", csv.encode(), "text/csv")}
    assert_problem(client.post("/v1/datasets/upload", files=files, data=data), 422, code)
    assert stored_files(settings) == []


def test_model_class_labels_must_fit_int64(client: TestClient) -> None:
    spec = f'{{"name":"m","n_inputs":2,"task":"binary","classes":[{BIG},1],"hidden_layers":[]}}'
    assert_problem(client.post("/v1/models", content=spec.encode(), headers=JSON), 422)


@pytest.mark.parametrize(
    ("features", "targets"),
    [
        ([[1e308, 1.0], [-1e308, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 0, 1]),
        ([[1.7e308, 1.0], [1.7e308, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 0, 1]),
        ([[1.0, 1.0], [2.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [1e308, -1e308, 0.5, 3.5]),
    ],
)
def test_plots_of_data_beyond_what_a_plot_can_span_are_422(
    client: TestClient, features: list[list[float]], targets: list[float]
) -> None:
    created = client.post(
        "/v1/datasets", json={"name": "h", "features": features, "targets": targets}
    )
    assert created.status_code == 201, created.text
    plot = client.get(f"/v1/datasets/{created.json()['id']}/plot.png")
    assert_problem(plot, 422, "not_plottable")


@pytest.mark.parametrize(
    "data",
    [
        b'{"inputs":[{"name":"x","datatype":"FP64","shape":[1,2],"data":[1e400,1]}]}',
        f'{{"inputs":[{{"name":"x","datatype":"FP64","shape":[1,2],"data":[{BIG},1]}}]}}'.encode(),
        b'{"inputs":[{"name":"x","datatype":"INT64","shape":[1,2],"data":[99999999999999999999,1]}]}',
        b'{"inputs":[{"name":"x","datatype":"FP64","shape":[1,2],"data":' + _deep(3000) + b"}]}",
    ],
)
def test_v2_refuses_values_that_would_crash(client: TestClient, data: bytes) -> None:
    model_id = _model(client)
    response = client.post(f"/v2/models/{model_id}/infer", content=data, headers=JSON)
    assert response.status_code == 400, response.text


def _client_port(response: httpx.Response) -> int:
    port: int = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return port


def test_a_500_keeps_the_keep_alive_connection(live_server: StartServer, tmp_path: Path) -> None:
    flag = FaultFlag(tmp_path / "fault")
    flag.set(None)
    server = fault_server(live_server, flag, max_concurrent_jobs=0)
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        first = client.get("/v1/datasets")
        assert first.status_code == 200
        flag.set("broken")  # every SQL statement now fails with an internal error
        failed = client.get("/v1/datasets")
        assert_problem(failed, 500, "internal_error")
        assert failed.headers.get("connection") != "close"
        flag.set(None)
        after = client.get("/v1/datasets")
        assert after.status_code == 200
        # One TCP connection served all three requests.
        assert _client_port(first) == _client_port(failed) == _client_port(after)


def test_evaluate_refuses_targets_beyond_float64(client: TestClient) -> None:
    dataset = client.post("/v1/datasets/generate", json={"kind": "reg-plane", "n_samples": 40})
    spec = {"name": "r", "dataset_id": dataset.json()["id"], "hidden_layers": [{"units": 3}]}
    model_id = client.post("/v1/models", json=spec).json()["id"]
    body = f'{{"inputs":[[1,1],[2,2]],"targets":[{BIG},0]}}'.encode()
    response = client.post(f"/v1/models/{model_id}/evaluate", content=body, headers=JSON)
    assert_problem(response, 422, "not_finite")


def test_a_version_of_thousands_of_digits_in_the_query_is_422(client: TestClient) -> None:
    url = f"/v1/models/{_model(client)}/predict?version={HUGE}"
    assert_problem(client.post(url, json={"inputs": [[1.0, 1.0]]}), 422)
