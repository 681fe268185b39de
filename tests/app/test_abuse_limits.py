"""Abuse limits: failed authentication is throttled per client address (429 + Retry-After);
slow or oversized requests are cut off by a real server (408, 431) while /healthz keeps
answering within a second."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.http.throttle import FailedAuthThrottle
from app.main import create_app
from app.settings import Settings
from tests.app.helpers import assert_problem
from tests.conftest import LiveServer, StartServer

KEY = "a-valid-key-0123456789"
pytestmark = pytest.mark.timeout(120)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_blocks_an_address_past_its_budget_for_a_window() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(3, 60.0, clock=clock)
    assert [throttle.failed("a") for _ in range(3)] == [None, None, None]
    assert throttle.failed("b") is None  # addresses are counted apart
    assert throttle.failed("a") == 60
    assert throttle.retry_after("a") == 60 and throttle.retry_after("b") is None
    clock.now += 59.5
    assert throttle.retry_after("a") == 1
    clock.now += 1
    assert throttle.retry_after("a") is None and not throttle.blocked


def test_failures_spread_over_windows_are_not_blocked() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(2, 10.0, clock=clock)
    for _ in range(5):
        assert throttle.failed("a") is None
        assert throttle.failed("a") is None
        clock.now += 10.0


def test_the_throttle_tracks_a_bounded_number_of_addresses() -> None:
    throttle = FailedAuthThrottle(1, 60.0, max_addresses=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle.blocked) == 100 and len(throttle._failures) <= 100


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path, api_keys=[KEY], auth_failure_budget=3, auth_failure_window=1.0
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_failed_authentication_is_throttled_then_forgiven(secured: TestClient) -> None:
    good = {"Authorization": f"Bearer {KEY}"}
    bad = {"Authorization": "Bearer not-the-key-0123456789"}
    for _ in range(3):
        assert_problem(secured.get("/v1/datasets", headers=bad), 401, "invalid_api_key")
    refused = assert_problem(secured.get("/v1/datasets"), 429, "too_many_failed_attempts")
    assert "retry" in refused["detail"]
    blocked = secured.get("/v1/datasets", headers=good)  # not even compared while blocked
    assert_problem(blocked, 429)
    assert blocked.headers["retry-after"] == "1"
    model = "/v1/models/mdl_0123456789abcdef/predict"
    assert_problem(secured.post(model, json={"inputs": [[1.0]]}, headers=good), 429)
    assert secured.get("/healthz").status_code == 200  # open endpoints are not throttled
    time.sleep(1.1)
    assert secured.get("/v1/datasets", headers=good).status_code == 200


# --- a real server and slow clients ---------------------------------------------------------

HEADER_TIMEOUT = 1.5
BODY_TIMEOUT = 1.5


@pytest.fixture
def server(live_server: StartServer) -> LiveServer:
    env = {
        "ANNSERVE_LOG_LEVEL": "warning",
        "ANNSERVE_MAX_CONCURRENT_JOBS": "0",
        "ANNSERVE_HTTP_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "ANNSERVE_HTTP_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "ANNSERVE_HTTP_MAX_HEADER_BYTES": "8192",
        "ANNSERVE_HTTP_LIMIT_CONCURRENCY": "200",
    }
    return live_server(env=env)


def _connect(server: LiveServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _answer(sock: socket.socket, within: float) -> bytes:
    """Everything the server sends until it closes the connection (within ``within`` s)."""
    sock.settimeout(within)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _trickle(sock: socket.socket, data: bytes, stop: threading.Event, pause: float) -> None:
    try:
        for byte in data:
            if stop.wait(pause):
                return
            sock.sendall(bytes([byte]))
    except OSError:
        return  # closed by the server, as it should be


def test_slow_headers_are_cut_off_while_healthz_answers(server: LiveServer) -> None:
    stop = threading.Event()
    request = b"GET /v1/datasets HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    clients = [_connect(server) for _ in range(40)]
    threads = [
        threading.Thread(target=_trickle, args=(sock, request, stop, 0.2), daemon=True)
        for sock in clients
    ]
    idle = _connect(server)  # connects and never sends a byte
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
            while time.monotonic() - started < HEADER_TIMEOUT + 1.0:
                before = time.monotonic()
                assert client.get("/healthz").status_code == 200
                assert time.monotonic() - before < 1.0
                time.sleep(0.1)
        for sock in [*clients, idle]:
            answer = _answer(sock, within=HEADER_TIMEOUT + 5)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
            assert b'"code": "request_timeout"' in answer
        assert time.monotonic() - started < HEADER_TIMEOUT + 6
    finally:
        stop.set()
        for sock in [*clients, idle]:
            sock.close()


def test_a_slow_body_is_cut_off(server: LiveServer) -> None:
    stop = threading.Event()
    sock = _connect(server)
    head = (
        b"POST /v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    sock.sendall(head)
    thread = threading.Thread(target=_trickle, args=(sock, b"[" * 1000, stop, 0.2), daemon=True)
    started = time.monotonic()
    thread.start()
    try:
        answer = _answer(sock, within=BODY_TIMEOUT + 5)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < BODY_TIMEOUT + 3
        assert httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200
    finally:
        stop.set()
        sock.close()


def test_a_slow_request_that_makes_it_in_time_is_served(server: LiveServer) -> None:
    sock = _connect(server)
    try:
        for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
            sock.sendall(part)
            time.sleep(0.3)
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        time.sleep(HEADER_TIMEOUT + 0.5)  # idle between requests: the keep-alive timeout rules
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        sock.close()


def test_oversized_headers_are_431(server: LiveServer) -> None:
    sock = _connect(server)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000)
        answer = _answer(sock, within=5)
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    finally:
        sock.close()
    # Large bodies are not headers: a big valid request in one write is served.
    rows = [[float(i), float(i % 7)] for i in range(2000)]
    body = {"name": "big", "features": rows, "targets": [i % 2 for i in range(2000)]}
    response = httpx.post(f"{server.base_url}/v1/datasets", json=body, timeout=10)
    assert response.status_code == 201, response.text
