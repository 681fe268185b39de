"""The operators' metrics: job queue gauges, training counters, predictions, process metrics,
route labels for every route, and one sum over the processes of a real server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.jobs import job_metrics
from tests.app.jobs_support import make_dataset, make_model, start_job
from tests.app.metrics_support import assert_runtime_per_process, scrape_until, written_processes
from tests.app.metrics_support import samples as _samples
from tests.app.metrics_support import value as _value
from tests.conftest import StartServer

CIRCLE = {"kind": "circle", "n_samples": 80, "noise": 0.1, "seed": 1}


def test_job_gauges_predictions_process_metrics_and_route_labels(client: TestClient) -> None:
    dataset = make_dataset(client)
    model = make_model(client, dataset["id"])
    start_job(client, model["id"], dataset["id"], n_iter=10)  # queued: no worker in process
    client.post(f"/v1/models/{model['id']}/predict", json={"inputs": [[0.0, 0.0], [1.0, 1.0]]})
    client.post(f"/v1/models/{model['id']}/predict", json={"inputs": [[0.5, 0.5]]})
    client.get("/docs")
    client.get("/static/js/main.js")
    text = client.get("/metrics").text
    assert _value(text, "annserve_jobs", status="queued") == 1.0
    assert _value(text, "annserve_jobs", status="succeeded") == 0.0
    assert _value(text, "annserve_job_queue_depth") == 1.0
    assert _value(text, "annserve_jobs_running") == 0.0
    assert _value(text, "annserve_database_up") == 1.0
    assert _value(text, "annserve_predictions_total", model=model["id"], protocol="v1") == 2.0
    assert _value(text, "annserve_predicted_rows_total", model=model["id"]) == 3.0
    assert (_value(text, "process_resident_memory_bytes") or 0) > 0
    assert _value(text, "python_info", **_python_info(text)) == 1.0
    routes = {labels.get("route") for (name, pairs), _ in _samples(text).items()
              for labels in [dict(pairs)] if name == "annserve_http_requests_total"}  # fmt: skip
    assert {"/docs", "/static/{path}", "/v1/models/{model_id}/predict"} <= routes


def _python_info(text: str) -> dict[str, str]:
    for (name, pairs), _ in _samples(text).items():
        if name == "python_info":
            return dict(pairs)
    raise AssertionError("no python_info")


def test_a_real_server_sums_every_process(live_server: StartServer) -> None:
    server = live_server(args=("--workers", "2"))
    base = server.base_url
    with httpx.Client(base_url=base, timeout=30.0) as http:
        for _ in range(20):
            assert http.get("/healthz").status_code == 200
        dataset = make_dataset(http, **CIRCLE)
        model = make_model(http, dataset["id"])
        job = start_job(http, model["id"], dataset["id"], n_iter=300)
        deadline = time.monotonic() + 60
        while http.get(f"/v1/jobs/{job['id']}").json()["status"] != "succeeded":
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.1)
        # Several scrapes land on either worker: each sees every process' counters.
        for _ in range(4):
            text = http.get("/metrics").text
            healthz = _value(
                text, "annserve_http_requests_total", method="GET", route="/healthz", status="200"
            )
            assert healthz is not None and healthz >= 20.0
            assert _value(text, "annserve_jobs_ended_total", outcome="succeeded") == 1.0
            assert _value(text, "annserve_jobs", status="succeeded") == 1.0
            assert _value(text, "annserve_training_iterations_total") == 300.0
            assert re.search(r"^annserve_job_duration_seconds_count\{", text, re.M)


def test_the_grafana_dashboard_uses_only_metrics_the_service_exports(client: TestClient) -> None:
    dashboard = json.loads((Path(__file__).parents[2] / "docs/grafana/annserve.json").read_text())
    used = {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(?:annserve|process|python)_[a-z_]+", target["expr"])
    }
    dataset = make_dataset(client)
    model = make_model(client, dataset["id"])
    client.post(f"/v1/models/{model['id']}/predict", json={"inputs": [[0.0, 0.0]]})
    job_metrics.job_ended("succeeded", 1.0, 10)  # training counters appear once a job ended
    job_metrics.checkpoint_written()
    exported = {
        family.name for family in text_string_to_metric_families(client.get("/metrics").text)
    }
    exported |= {f"{name}_total" for name in exported}
    assert used - exported - {"annserve_job_heartbeat_age_seconds"} == set()
    assert len(dashboard["panels"]) >= 10


def test_a_real_server_shows_each_workers_process_metrics(live_server: StartServer) -> None:
    server = live_server(args=("--workers", "2"), env={"ANNSERVE_MAX_CONCURRENT_JOBS": "0"})
    children_file = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    text = scrape_until(f"{server.base_url}/metrics", 2)  # once each worker has written
    children = {int(pid) for pid in children_file.read_text().split()}
    workers = written_processes(text)
    assert len(workers) == 2 and workers <= children, (workers, children)
    assert_runtime_per_process(text, workers)


def test_training_workers_show_their_process_metrics(live_server: StartServer) -> None:
    server = live_server(env={"ANNSERVE_MAX_CONCURRENT_JOBS": "2"})
    children_file = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    # The API process and both training workers, once each has written.
    text = scrape_until(f"{server.base_url}/metrics", 3)
    children = {int(pid) for pid in children_file.read_text().split()}
    pids = written_processes(text)
    assert server.process.pid in pids, pids
    assert len(pids & children) == 2 and pids <= children | {server.process.pid}, (pids, children)
    assert_runtime_per_process(text, pids)


def test_series_of_exited_processes_are_removed(tmp_path: Path) -> None:
    from app.process_metrics import ProcessGauges

    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    for pid in (exited.pid, os.getpid()):
        (tmp_path / f"gauge_liveall_{pid}.db").write_bytes(b"")
    (tmp_path / "counter_123.db").write_bytes(b"")  # counters outlive their process
    gauges = ProcessGauges(str(tmp_path), interval=60)
    try:
        gauges.forget_exited()
    finally:
        gauges.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_123.db",
        f"gauge_liveall_{os.getpid()}.db",
    ]
