"""Latency of light endpoints while the server is idle and while two training jobs run.

A real server with a pool of two workers; ``--requests`` sequential requests (keep-alive) to
``GET /healthz`` and to ``GET /v1/jobs/{id}`` (a database read) are timed idle, then again while
two long jobs on two models train. Reports p50 and p99. Target: p99 under load at most 2x idle.
Run: ``python -m bench.latency_under_load``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import httpx
import numpy as np

from bench.server import running_server

MODEL = {"name": "notes", "hidden_layers": [{"units": 4, "activation": "tanh"}], "init": "glorot"}


def timings(client: httpx.Client, path: str, n: int) -> list[float]:
    """Milliseconds of ``n`` sequential GETs of ``path`` (after 20 untimed warm-up calls)."""
    for _ in range(20):
        client.get(path)
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--worker-nice", type=int, default=None, help="default: the setting's")
    args = parser.parse_args()
    overrides = {} if args.worker_nice is None else {"worker_nice": args.worker_nice}
    with (
        running_server(max_concurrent_jobs=2, **overrides) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        body = {"kind": "circle", "n_samples": 400, "noise": 0.1, "seed": 0}
        dataset = client.post("/v1/datasets/generate", json=body).json()
        models = [client.post("/v1/models", json={**MODEL, "dataset_id": dataset["id"]}).json()]
        models.append(client.post("/v1/models", json={**MODEL, "dataset_id": dataset["id"]}).json())
        probe = client.post(
            f"/v1/models/{models[0]['id']}/train", json={"dataset_id": dataset["id"], "n_iter": 10}
        ).json()
        while client.get(f"/v1/jobs/{probe['id']}").json()["status"] != "succeeded":
            time.sleep(0.05)
        paths = {"GET /healthz": "/healthz", "GET /v1/jobs/{id}": f"/v1/jobs/{probe['id']}"}
        idle = {name: timings(client, path, args.requests) for name, path in paths.items()}
        jobs = [
            client.post(
                f"/v1/models/{m['id']}/train",
                json={"dataset_id": dataset["id"], "n_iter": 1_000_000},
            ).json()
            for m in models
        ]
        while any(client.get(f"/v1/jobs/{j['id']}").json()["status"] != "running" for j in jobs):
            time.sleep(0.05)
        loaded = {name: timings(client, path, args.requests) for name, path in paths.items()}
        iterations = [
            (client.get(f"/v1/jobs/{j['id']}").json()["progress"] or {}).get("iteration", 0)
            for j in jobs
        ]
        for job in jobs:
            client.post(f"/v1/jobs/{job['id']}/cancel")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        f"{args.requests} sequential requests per endpoint and condition; jobs were training "
        f"throughout (iterations reached: {iterations})"
    )
    for name in paths:
        i50, i99 = percentiles(idle[name])
        l50, l99 = percentiles(loaded[name])
        print(
            f"{name:18s} idle p50 {i50:6.2f} ms  p99 {i99:6.2f} ms | two jobs p50 "
            f"{l50:6.2f} ms  p99 {l99:6.2f} ms | p99 ratio {l99 / i99:.2f} (target <= 2)"
        )
        print(
            f"{'':18s} mean idle {statistics.mean(idle[name]):.2f} ms, "
            f"under load {statistics.mean(loaded[name]):.2f} ms"
        )


if __name__ == "__main__":
    main()
