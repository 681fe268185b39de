"""Real server processes: restart on the same data dir, the README walkthrough, the Docker
command line, graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT, StartServer, free_port, stop_process, wait_healthy

pytestmark = pytest.mark.slow

KEY = "walkthrough-key-0123456789"
# uvicorn finishes its graceful shutdown, then re-raises the signal it caught (so -SIGTERM).
GRACEFUL = (0, -signal.SIGTERM)


def test_restart_returns_the_same_datasets_models_and_parameters(
    live_server: StartServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = live_server(data_dir=data_dir)
    base = first.base_url
    circle = httpx.post(
        f"{base}/v1/datasets/generate", json={"kind": "circle", "n_samples": 120, "seed": 4}
    ).json()
    upload = httpx.post(
        f"{base}/v1/datasets/upload",
        files={"file": ("x.csv", b"a,b,y\n1,2,u\n3,4,v\n5,6,u\n7,8,v\n")},
    ).json()
    model = httpx.post(
        f"{base}/v1/models",
        json={
            "name": "m",
            "dataset_id": circle["id"],
            "hidden_layers": [{"units": 5, "activation": "relu"}],
            "dtype": "float32",
            "seed": 11,
        },
    ).json()

    def snapshot(url: str) -> dict[str, object]:
        return {
            "datasets": httpx.get(f"{url}/v1/datasets").json(),
            "circle_data": httpx.get(f"{url}/v1/datasets/{circle['id']}/data").json(),
            "upload": httpx.get(f"{url}/v1/datasets/{upload['id']}").json(),
            "models": httpx.get(f"{url}/v1/models").json(),
            "versions": httpx.get(f"{url}/v1/models/{model['id']}/versions").json(),
            "parameters": httpx.get(f"{url}/v1/models/{model['id']}/parameters").json(),
            "npz": httpx.get(
                f"{url}/v1/models/{model['id']}/parameters",
                headers={"accept": "application/x-npz"},
            ).content,
        }

    before = snapshot(base)
    stop_process(first.process)
    assert first.process.returncode in GRACEFUL, first.log()
    second = live_server(data_dir=data_dir)
    after = snapshot(second.base_url)
    assert after == before  # includes the .npz bytes: parameters are bit-identical


def test_walkthrough_script_against_a_live_server(live_server: StartServer) -> None:
    server = live_server(env={"ANNSERVE_API_KEYS": KEY})
    script = REPO_ROOT / "scripts" / "walkthrough.sh"
    result = subprocess.run(
        ["bash", str(script), server.base_url],
        env={**os.environ, "API_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "walkthrough finished" in result.stdout
    assert '"code":"invalid_id"' in result.stdout
    assert '"code":"validation_error"' in result.stdout
    unauthenticated = httpx.get(f"{server.base_url}/v1/datasets")
    assert unauthenticated.status_code == 401


def test_readme_shows_the_walkthrough_verbatim() -> None:
    script = (REPO_ROOT / "scripts" / "walkthrough.sh").read_text()
    match = re.search(r"# BEGIN WALKTHROUGH\n(.*?)# END WALKTHROUGH", script, re.DOTALL)
    assert match is not None
    readme = (REPO_ROOT / "README.md").read_text()
    assert match.group(1).strip() in readme


def _dockerfile_instruction(name: str) -> list[str]:
    text = (REPO_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith(name + " ")]
    assert len(lines) == 1, lines
    rest = lines[0][len(name) :].strip()
    if name == "HEALTHCHECK":
        rest = rest[rest.index("CMD") + 3 :].strip()
    parsed: list[str] = json.loads(rest)
    return parsed


def test_dockerfile_shape() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1\d-slim", text, re.MULTILINE)
    user = re.search(r"^USER (\S+)", text, re.MULTILINE)
    assert user is not None and user.group(1) not in ("root", "0")
    assert 'VOLUME ["/data"]' in text
    assert "ANNSERVE_DATA_DIR=/data" in text
    assert _dockerfile_instruction("CMD")[:2] == ["annserve", "serve"]


def test_docker_command_line_runs_outside_docker(tmp_path: Path) -> None:
    """Run the image's CMD (with the venv's ``annserve``) and its HEALTHCHECK, on a free port."""
    command = _dockerfile_instruction("CMD")
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    executable = Path(sys.executable).parent / command[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNSERVE_")}
    env["ANNSERVE_DATA_DIR"] = str(tmp_path / "data")  # the image's ENV, pointed at a temp dir
    env["ANNSERVE_GRPC_PORT"] = str(free_port())
    process = subprocess.Popen(
        [str(executable), *command[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        health = _dockerfile_instruction("HEALTHCHECK")
        probe = [sys.executable if health[0] == "python" else health[0], *health[1:]]
        probe = [arg.replace(":8000/", f":{port}/") for arg in probe]
        assert subprocess.run(probe, timeout=30).returncode == 0, shlex.join(probe)
    finally:
        stop_process(process)
    assert process.returncode in GRACEFUL
    assert (tmp_path / "data" / "annserve.db").exists()


def test_sigterm_shuts_down_gracefully(live_server: StartServer) -> None:
    server = live_server()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) in GRACEFUL
    assert "Application shutdown complete" in server.log()


def test_two_workers_serve_and_log_json(live_server: StartServer) -> None:
    server = live_server(args=("--workers", "2"))
    for _ in range(6):
        assert httpx.get(f"{server.base_url}/v1/datasets").status_code == 200
    stop_process(server.process)
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "annserve.access"]
    assert len([a for a in access if a["path"] == "/v1/datasets"]) == 6
    assert all(len(a["request_id"]) == 32 and a["status"] == 200 for a in access)
    assert (
        len({line["message"] for line in lines if "Started server process" in line["message"]}) == 2
    )
