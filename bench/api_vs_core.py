"""The same training through the HTTP API (a real server, its worker pool) and with ``core``
called directly, on the same machine in the same run. Target: the API at most 15% slower.

Workload: the notes' network (2-4-1 tanh/sigmoid, Glorot, seed 2) on the 400-sample circle set,
full batch, learning rate 0.1, ``--n-iter`` iterations, cost recorded every iteration. The API
figure is wall time from ``POST /v1/models/{id}/train`` to the final ``status`` event of the job's
Server-Sent Events stream (queueing, loading, training, progress/history/heartbeat writes,
checkpoints, the version commit). The core figure is ``ANN.fit`` on the same arrays from the same
version-0 parameters. Rounds alternate; medians are reported, and the final parameters of both
are checked to be bit-identical. Run: ``python -m bench.api_vs_core``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any

import httpx
import numpy as np

from app.jobs.data import training_data
from app.jobs.job_spec import JobSpec
from app.settings import Settings
from app.storage.arrays import ArrayStore
from app.storage.db import Database
from app.storage.repositories import DatasetRepository, JobRepository, ModelRepository
from bench.server import Server, running_server
from core.serialization import model_from_bytes
from core.training import train

MODEL = {"name": "notes", "hidden_layers": [{"units": 4, "activation": "tanh"}], "init": "glorot"}


def train_via_api(client: httpx.Client, dataset_id: str, n_iter: int) -> tuple[float, str]:
    """Seconds from submission to the final ``status`` event of the job's SSE stream."""
    model = client.post("/v1/models", json={**MODEL, "dataset_id": dataset_id}).json()
    start = time.perf_counter()
    job = client.post(
        f"/v1/models/{model['id']}/train", json={"dataset_id": dataset_id, "n_iter": n_iter}
    ).json()
    final = {"succeeded", "failed", "cancelled"}
    with client.stream("GET", f"/v1/jobs/{job['id']}/events") as events:
        status_event = False
        for line in events.iter_lines():
            if line == "event: status":
                status_event = True
            elif status_event and line.startswith("data:"):
                # A queued job's stream opens with its status too: wait for the final one.
                if json.loads(line.removeprefix("data:"))["status"] in final:
                    break
                status_event = False
    elapsed = time.perf_counter() - start
    status = client.get(f"/v1/jobs/{job['id']}").json()["status"]
    if status != "succeeded":
        raise RuntimeError(f"job {job['id']} ended {status}")
    return elapsed, job["id"]


def train_with_core(server: Server, job_id: str) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU seconds of ``core.training.train`` on the job's arrays and options, and the
    parameters it ends with."""
    db = Database(Settings(data_dir=server.data_dir).database_url)
    with db.session() as session:
        job = JobRepository(session).get(job_id)
        assert job is not None
        dataset = DatasetRepository(session).get(job.dataset_id)
        model = ModelRepository(session).get(job.model_id)
    db.dispose()
    assert dataset is not None and model is not None
    spec = JobSpec.from_dict(job.params)
    store = ArrayStore(server.data_dir)
    data = training_data(store.load_dataset(dataset.id)[0], dataset, model, spec)
    ann = model_from_bytes(store.model_version_bytes(model.id, 0))
    start, cpu = time.perf_counter(), time.process_time()
    train(ann, data.X, data.Y, spec.options)
    cpu_s = time.process_time() - cpu
    return time.perf_counter() - start, cpu_s, ann.parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-iter", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--nice",
        type=int,
        default=Settings().worker_nice,
        help="run core at the workers' CPU priority (default: the worker_nice setting)",
    )
    args = parser.parse_args()
    # Same priority for both contenders: on a busy machine a niced worker would otherwise
    # lose CPU to other processes that the un-niced direct run competes with evenly.
    os.nice(args.nice)
    api_times: list[float] = []
    core_times: list[float] = []
    overheads: list[float] = []
    in_worker: list[float] = []
    worker_cpu: list[float] = []
    core_cpu: list[float] = []
    with (
        running_server(max_concurrent_jobs=1) as server,
        httpx.Client(base_url=server.base_url, timeout=60) as client,
    ):
        body = {"kind": "circle", "n_samples": 400, "noise": 0.1, "seed": 0, "test_fraction": 0}
        dataset = client.post("/v1/datasets/generate", json=body).json()
        for _ in range(args.repeats):
            api_s, job_id = train_via_api(client, dataset["id"], args.n_iter)
            core_s, core_cpu_s, expected = train_with_core(server, job_id)
            job = client.get(f"/v1/jobs/{job_id}").json()
            store = ArrayStore(server.data_dir)
            produced = model_from_bytes(
                store.model_version_bytes(job["model_id"], job["result"]["version"])
            ).parameters
            assert all(np.array_equal(produced[k], expected[k]) for k in expected), "differ"
            api_times.append(api_s)
            core_times.append(core_s)
            core_cpu.append(core_cpu_s)
            overheads.append(job["result"]["reporting_s"] / job["result"]["elapsed_s"])
            in_worker.append(job["result"]["elapsed_s"])
            worker_cpu.append(job["result"]["cpu_s"])
    api, core = statistics.median(api_times), statistics.median(core_times)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"workload: notes 2-4-1 on circle-400, {args.n_iter} full-batch iterations, "
        f"median of {args.repeats}, both at nice {args.nice}"
    )
    print(f"core direct : {core:.3f} s   (runs: {', '.join(f'{t:.3f}' for t in core_times)})")
    print(f"through API : {api:.3f} s   (runs: {', '.join(f'{t:.3f}' for t in api_times)})")
    print(f"  of which training in the worker: {statistics.median(in_worker):.3f} s")
    paired = [a / c for a, c in zip(api_times, core_times, strict=True)]
    print(
        f"ratio API/core: {api / core:.3f} of the medians, {statistics.median(paired):.3f} "
        f"median of the per-round ratios  (target <= 1.15)"
    )
    print(
        f"CPU seconds of the training itself: worker {statistics.median(worker_cpu):.3f} s, "
        f"core {statistics.median(core_cpu):.3f} s "
        f"(ratio {statistics.median(worker_cpu) / statistics.median(core_cpu):.3f})"
    )
    print(
        f"reporting overhead inside training: median {statistics.median(overheads):.2%} "
        f"(max {max(overheads):.2%}; target < 10%)"
    )
    print("final parameters: bit-identical in every round")


if __name__ == "__main__":
    main()
