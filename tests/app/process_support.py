"""Helpers for tests that watch a real server's processes or inject storage faults into it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT, LiveServer, StartServer

FAULT_INJECTION_DIR = REPO_ROOT / "tests" / "fault_injection"


def children(pid: int) -> list[int]:
    """Pids of the live direct children of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid and stat[0] != "Z":
            found.append(int(entry.name))
    return found


def pool_workers(server_pid: int) -> list[int]:
    """Pids of the pool's worker processes (spawned children; not the resource tracker)."""
    workers = []
    for pid in children(server_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            workers.append(pid)
    return workers


def eventually(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it is truthy (returned); fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class FaultFlag:
    """The flag file the fault-injecting layer reads (see tests/fault_injection)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, fault: str | None) -> None:
        """Inject ``fault`` (``full``, ``read_only``, ``broken``) or none."""
        self.path.write_text(fault or "")

    def env(self) -> dict[str, str]:
        """The environment that makes a server's processes read this flag."""
        return {"PYTHONPATH": str(FAULT_INJECTION_DIR), "ANNSERVE_TEST_FAULT_FILE": str(self.path)}


def fault_server(
    live_server: StartServer, flag: FaultFlag, data_dir: Path | None = None, **settings: Any
) -> LiveServer:
    """A real server (local executor) whose processes fail writes while ``flag`` says so."""
    env = {"ANNSERVE_LOG_LEVEL": "warning", **flag.env()}
    env |= {f"ANNSERVE_{name.upper()}": str(value) for name, value in settings.items()}
    return live_server(data_dir=data_dir, env=env)
