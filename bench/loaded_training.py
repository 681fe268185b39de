"""A default training job through the local worker pool on a loaded machine.

One ``annserve serve`` process (default local executor: worker processes at ``worker_nice``,
SQLite) and ``--load`` busy-loop processes at normal priority beside it, each ending by itself
after ``--seconds``. A table is uploaded (penguins as shipped, or ``--rows`` rows of a generated
mixed table), a model made with the defaults and trained with the default options (``--n-iter``
to change the passes); the job is polled every 0.5 s and each change of (status, iteration,
attempts) printed with its time, then the job's end: status, attempts, wall time, training time.
Extra ``NAME=VALUE`` arguments are server settings (``heartbeat_timeout=3``).
Run: ``python bench/loaded_training.py --load 16``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import running_server
from bench.tables_accuracy import FINAL, TABLES, _check

BURN = "import time, sys\nend = time.time() + float(sys.argv[1])\nwhile time.time() < end: pass"


def mixed_table(rows: int) -> bytes:
    """Five number columns on scales 1 to 1e4 with 5% holes, three text columns, a yes/no."""
    rng = np.random.default_rng(0)
    numbers = [
        np.where(rng.random(rows) < 0.05, np.nan, rng.normal(0, 10**i, rows)) for i in range(5)
    ]
    texts = [rng.choice(["red", "green", "blue", "grey", "pink"], rows) for _ in range(3)]
    lines = ["n0,n1,n2,n3,n4,c0,c1,c2,y"]
    for r in range(rows):
        cells = ["" if np.isnan(c[r]) else f"{c[r]:.4g}" for c in numbers]
        label = "yes" if numbers[0][r] > 0 else "no"
        lines.append(",".join([*cells, *(t[r] for t in texts), label]))
    return ("\n".join(lines) + "\n").encode()


def watch(client: httpx.Client, job: dict[str, Any], limit: float) -> dict[str, Any]:
    """Poll the job until it ends (or ``limit`` s), printing each change."""
    start, last = time.monotonic(), None
    while job["status"] not in FINAL and time.monotonic() - start < limit:
        time.sleep(0.5)
        job = _check(client.get(f"/v1/jobs/{job['id']}"), 200)
        row = (job["status"], (job["progress"] or {}).get("iteration"), job["attempts"])
        if row != last:
            print(f"{time.monotonic() - start:6.1f} s  {row}", flush=True)
            last = row
    elapsed = time.monotonic() - start
    trained = (job.get("result") or {}).get("elapsed_s")
    print(f"end: {job['status']}, attempts {job['attempts']}, {elapsed:.1f} s, training {trained}")
    if job.get("error"):
        print(f"error: {job['error']}")
    return job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=6, help="busy processes beside the server")
    parser.add_argument("--seconds", type=float, default=240.0, help="each one's lifetime")
    parser.add_argument("--rows", type=int, default=0, help="a generated table (0: penguins)")
    parser.add_argument("--n-iter", type=int, default=None)
    parser.add_argument("settings", nargs="*", help="server settings NAME=VALUE")
    args = parser.parse_args()
    settings = dict(s.split("=", 1) for s in args.settings)
    penguins = TABLES[0]
    data = mixed_table(args.rows) if args.rows else penguins.csv()
    target = "y" if args.rows else penguins.target
    burners = [
        subprocess.Popen([sys.executable, "-c", BURN, str(args.seconds)]) for _ in range(args.load)
    ]
    try:
        with (
            running_server(**settings) as server,
            httpx.Client(base_url=server.base_url, timeout=300) as client,
        ):
            files = {"file": ("table.csv", data, "text/csv")}
            form = {"target": target}
            dataset = _check(client.post("/v1/datasets/upload", files=files, data=form), 201)
            body = {"name": "t", "dataset_id": dataset["id"]}
            model = _check(client.post("/v1/models", json=body), 201)
            options = {"dataset_id": dataset["id"]}
            if args.n_iter:
                options["n_iter"] = args.n_iter
            job = _check(client.post(f"/v1/models/{model['id']}/train", json=options), 202)
            watch(client, job, args.seconds - 10)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


if __name__ == "__main__":
    main()
