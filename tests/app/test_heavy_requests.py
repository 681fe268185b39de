"""The bound on heavy requests (uploads, data exports, big predicts): past it a real server
answers 503 ``busy`` with ``Retry-After`` at once, light requests go on, and a place is given
back when its request ends, even one whose client went away."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from app.api.http.heavy import Busy, HeavyRequests, heavy_route
from tests.app.helpers import assert_problem
from tests.conftest import LiveServer, StartServer

pytestmark = pytest.mark.timeout(120)
LIMIT = 2


def test_places_are_taken_and_given_back() -> None:
    heavy = HeavyRequests(2)
    assert heavy.try_enter() and heavy.try_enter() and not heavy.try_enter()
    heavy.leave()
    with heavy.place():
        assert heavy.running == 2
        with pytest.raises(Busy), heavy.place():
            pass
    assert heavy.running == 1


def test_heavy_routes() -> None:
    assert heavy_route("POST", "/v1/datasets/upload") == "/v1/datasets/upload"
    assert heavy_route("GET", "/v1/datasets/ds_1/data") == "/v1/datasets/{dataset_id}/data"
    assert heavy_route("HEAD", "/v1/datasets/ds_1/data") == "/v1/datasets/{dataset_id}/data"
    assert heavy_route("GET", "/v1/datasets/upload") is None
    assert heavy_route("GET", "/v1/datasets/ds_1") is None
    assert heavy_route("DELETE", "/v1/datasets/ds_1/data") is None
    assert heavy_route("GET", "/v1/datasets/ds_1/data/x") is None


def _slow_upload(server: LiveServer) -> socket.socket:
    """An upload whose body stops after its first bytes: it holds a place while it lasts."""
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(
        b"POST /v1/datasets/upload HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: multipart/form-data; boundary=bound\r\n"
        b"Content-Length: 100000\r\n\r\n--bound\r\n"
    )
    sock.settimeout(0.5)
    with pytest.raises(TimeoutError):  # no answer: it is being served
        sock.recv(1000)
    return sock


def _busy(response: httpx.Response) -> None:
    assert_problem(response, 503, "busy")
    assert int(response.headers["retry-after"]) > 0


def test_past_the_bound_heavy_requests_are_refused(live_server: StartServer) -> None:
    server = live_server(
        env={"ANNSERVE_MAX_HEAVY_REQUESTS": str(LIMIT), "ANNSERVE_HEAVY_PREDICT_ROWS": "5"}
    )
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        dataset = client.post("/v1/datasets/generate", json={"kind": "xor", "n_samples": 40})
        dataset_id = dataset.json()["id"]
        model = client.post("/v1/models", json={"name": "m", "dataset_id": dataset_id}).json()
        predict = f"/v1/models/{model['id']}/predict"
        export = f"/v1/datasets/{dataset_id}/data"
        slow = [_slow_upload(server) for _ in range(LIMIT)]
        try:
            before = time.monotonic()
            _busy(client.get(export))
            _busy(client.get(export, headers={"accept": "text/csv"}))
            _busy(client.post("/v1/datasets/upload", files={"file": ("a.csv", b"a,y\n1,0\n2,1\n")}))
            _busy(client.post(predict, json={"inputs": [[0.0, 1.0]] * 6}))
            assert time.monotonic() - before < 5  # refused at once, not queued
            refused = client.get("/metrics").text
            assert 'route="/v1/datasets/{dataset_id}/data",status="503"' in refused
            # Light requests are served meanwhile.
            assert client.get("/healthz").status_code == 200
            assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
            small = client.post(predict, json={"inputs": [[0.0, 1.0]] * 5})
            assert small.status_code == 200 and len(small.json()["predictions"]) == 5
        finally:
            for sock in slow:
                sock.close()
        started = time.monotonic()
        while (answer := client.get(export)).status_code == 503:  # the places come back
            assert time.monotonic() - started < 10
            time.sleep(0.05)
        assert answer.status_code == 200 and len(answer.json()["features"]) == 40
        big = client.post(predict, json={"inputs": [[0.0, 1.0]] * 6})
        assert big.status_code == 200 and len(big.json()["predictions"]) == 6
        upload = client.post("/v1/datasets/upload", files={"file": ("a.csv", b"a,y\n1,0\n2,1\n")})
        assert upload.status_code == 201, upload.text
