"""A real ``annserve serve`` process for the HTTP benchmarks (temporary data dir, free port)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """A running server: where to reach it and where its data lives."""

    base_url: str
    data_dir: Path
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def annserve_env(data_dir: Path, settings: Mapping[str, object]) -> dict[str, str]:
    """This environment without its ``ANNSERVE_`` variables, plus ``ANNSERVE_DATA_DIR`` and an
    ``ANNSERVE_<NAME>`` variable for each of ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNSERVE_")}
    env["ANNSERVE_DATA_DIR"] = str(data_dir)
    env |= {f"ANNSERVE_{k.upper()}": str(v) for k, v in settings.items()}
    return env


def peak_rss_kib(pid: int) -> int:
    """The high-water mark of ``pid``'s resident memory (``VmHWM``), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


@contextmanager
def server_process(
    data_dir: Path,
    settings: Mapping[str, object],
    checkout: Path = REPO_ROOT,
    python: str = sys.executable,
) -> Iterator[Server]:
    """``annserve serve`` from ``checkout`` on ``data_dir`` with ``ANNSERVE_<NAME>`` settings
    (and a free gRPC port unless given), once healthy; stopped (SIGTERM) on exit."""
    port = _free_port()
    process = subprocess.Popen(
        [python, "-m", "app", "serve", "--port", str(port)],
        cwd=checkout,
        env=annserve_env(data_dir, {"log_level": "warning", "grpc_port": _free_port(), **settings}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield Server(base_url, data_dir, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def running_server(**settings: object) -> Iterator[Server]:
    """Start a server with ``ANNSERVE_<NAME>`` settings on a temporary data dir; stop it
    (SIGTERM) on exit."""
    with (
        tempfile.TemporaryDirectory(prefix="annserve-bench-") as tmp,
        server_process(Path(tmp), settings) as server,
    ):
        time.sleep(2.0)  # let the worker processes finish importing
        yield server
