"""Training-job throughput and queue latency on both executors, with one and with two workers.

Each configuration is a fresh stack of real processes:

* ``local``: ``annserve serve`` with ``max_concurrent_jobs`` = workers (SQLite, the embedded
  default);
* ``celery``: ``annserve serve`` plus that many ``annserve worker`` processes (solo pool, one job
  each) on the local Redis, with PostgreSQL metadata (a fresh schema, dropped afterwards).

All four stacks run side by side (idle ones cost next to nothing) and every round visits each in
turn; figures are medians over ``--rounds`` rounds. Throughput: a batch of ``--jobs`` equal
training jobs (2-8-1 tanh net, 400 circle samples, ``--n-iter`` full-batch iterations) submitted
at once; jobs per minute from the first submission to the last finish. Queue latency: ``--probes``
short jobs submitted one at a time to an idle stack; the time from the row's creation (submit)
to its claim by a worker (``started_at``), p50 and p99 (both from this machine's clock).
Run: ``python bench/jobs_throughput.py`` (needs PostgreSQL and Redis on 127.0.0.1 for celery).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import REPO_ROOT, Server, annserve_env, running_server

POSTGRES_URL = os.environ.get(
    "ANNSERVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("ANNSERVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FINAL = {"succeeded", "failed", "cancelled"}


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL on a fresh schema, dropped on exit."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    schema = f"annserve_bench_{secrets.token_hex(4)}"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def flush_queue(queue: str) -> None:
    """Delete the benchmark queue's keys from Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    client.close()


@contextmanager
def celery_workers(server: Server, settings: dict[str, object], count: int) -> Iterator[None]:
    """``count`` ``annserve worker`` processes with the server's settings; SIGTERM on exit."""
    env = annserve_env(server.data_dir, {**settings, "worker_pool": "solo"})
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        time.sleep(4.0)  # let the workers connect before the clock starts
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def stack(executor: str, workers: int) -> Iterator[Server]:
    """A running stack for ``executor`` with ``workers`` job slots."""
    if executor == "local":
        with running_server(max_concurrent_jobs=workers) as server:
            yield server
        return
    queue = f"annserve-bench-{secrets.token_hex(4)}"
    with postgres_schema() as database_url:
        settings: dict[str, object] = {
            "executor": "celery",
            "database_url": database_url,
            "broker_url": REDIS_URL,
            "celery_queue": queue,
            "log_level": "warning",
        }
        try:
            with running_server(**settings) as server, celery_workers(server, settings, workers):
                yield server
        finally:
            flush_queue(queue)


def submit(http: httpx.Client, model_id: str, dataset_id: str, n_iter: int) -> str:
    body = {"dataset_id": dataset_id, "n_iter": n_iter, "learning_rate": 0.3}
    response = http.post(f"/v1/models/{model_id}/train", json=body)
    response.raise_for_status()
    job_id: str = response.json()["id"]
    return job_id


def wait_all(http: httpx.Client, job_ids: list[str], timeout: float = 600) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = [http.get(f"/v1/jobs/{job_id}").json() for job_id in job_ids]
        if all(job["status"] in FINAL for job in jobs):
            bad = [job for job in jobs if job["status"] != "succeeded"]
            if bad:
                raise RuntimeError(f"jobs did not succeed: {bad}")
            return jobs
        if time.monotonic() > deadline:
            raise RuntimeError("jobs did not finish in time")
        time.sleep(0.05)


def seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


@dataclass
class Contender:
    """One running stack with its dataset and models, and the figures gathered so far."""

    executor: str
    workers: int
    http: httpx.Client
    dataset_id: str
    models: list[str]
    batches: list[float] = field(default_factory=list)
    train_s: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def prepare(contender_http: httpx.Client, n_models: int) -> tuple[str, list[str]]:
    """A circle dataset and ``n_models`` equal-sized networks on a fresh stack."""
    dataset = contender_http.post(
        "/v1/datasets/generate",
        json={"kind": "circle", "n_samples": 400, "noise": 0.1, "seed": 0},
    ).json()
    models = [
        contender_http.post(
            "/v1/models",
            json={
                "name": f"bench-{i}",
                "dataset_id": dataset["id"],
                "hidden_layers": [{"units": 8, "activation": "tanh"}],
                "seed": i,
            },
        ).json()["id"]
        for i in range(n_models)
    ]
    return dataset["id"], models


def run_round(contender: Contender, args: argparse.Namespace) -> None:
    """One throughput batch, then a share of the latency probes, on an idle stack."""
    http, dataset_id = contender.http, contender.dataset_id
    started = time.perf_counter()
    batch = [submit(http, model_id, dataset_id, args.n_iter) for model_id in contender.models]
    jobs = wait_all(http, batch)
    contender.batches.append(time.perf_counter() - started)
    contender.train_s += [job["result"]["elapsed_s"] for job in jobs]
    for _ in range(max(1, args.probes // args.rounds)):
        [probe] = wait_all(http, [submit(http, contender.models[0], dataset_id, 50)])
        contender.latencies.append(seconds(probe["created_at"], probe["started_at"]))


def summary(contender: Contender, args: argparse.Namespace) -> dict[str, Any]:
    batch = statistics.median(contender.batches)
    return {
        "executor": contender.executor,
        "workers": contender.workers,
        "jobs": args.jobs,
        "rounds": len(contender.batches),
        "batch_s": round(batch, 2),
        "batch_s_all": [round(b, 2) for b in contender.batches],
        "jobs_per_min": round(args.jobs / batch * 60, 1),
        # The quickest round is the one least disturbed by other processes on the machine.
        "best_jobs_per_min": round(args.jobs / min(contender.batches) * 60, 1),
        "median_job_train_s": round(statistics.median(contender.train_s), 3),
        "latency_p50_ms": round(float(np.percentile(contender.latencies, 50)) * 1000, 1),
        "latency_p99_ms": round(float(np.percentile(contender.latencies, 99)) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=8, help="jobs in the throughput batch")
    parser.add_argument("--n-iter", type=int, default=20_000, help="iterations per job")
    parser.add_argument("--probes", type=int, default=30, help="latency probes per stack")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per stack")
    parser.add_argument("--executors", default="local,celery")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {args.jobs} jobs x {args.n_iter} iterations, "
        f"median of {args.rounds} interleaved rounds"
    )
    configs = [(e, w) for e in args.executors.split(",") for w in (1, 2)]
    load_before = os.getloadavg()[0]
    with ExitStack() as stacks:
        contenders = []
        for executor, workers in configs:
            server = stacks.enter_context(stack(executor, workers))
            http = stacks.enter_context(httpx.Client(base_url=server.base_url, timeout=30))
            dataset_id, models = prepare(http, args.jobs)
            contenders.append(Contender(executor, workers, http, dataset_id, models))
        # Every round visits every stack in turn, so a change in machine load (other processes)
        # hits all of them alike instead of whichever happened to run then.
        for _ in range(args.rounds):
            for contender in contenders:
                run_round(contender, args)
        rows = [summary(contender, args) for contender in contenders]
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    for row in rows:
        print(json.dumps(row), flush=True)
    print(f"\n1-minute load average before / after: {load[0]} / {load[1]}\n")
    print(
        "| executor | workers | batch (s) | jobs/min | speed-up | median job train (s) "
        "| best round jobs/min (speed-up) | queue latency p50 / p99 (ms) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        one = next(r for r in rows if r["executor"] == row["executor"] and r["workers"] == 1)
        print(
            f"| {row['executor']} | {row['workers']} | {row['batch_s']} | {row['jobs_per_min']} "
            f"| {row['jobs_per_min'] / one['jobs_per_min']:.2f}x | {row['median_job_train_s']} "
            f"| {row['best_jobs_per_min']} "
            f"({row['best_jobs_per_min'] / one['best_jobs_per_min']:.2f}x) "
            f"| {row['latency_p50_ms']} / {row['latency_p99_ms']} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"load_1min": load, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
