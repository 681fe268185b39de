"""Peak memory of the API process for a large CSV upload and for the export of that dataset.

Each measurement runs in a fresh ``annserve serve`` process (one uvicorn worker, no training
workers) on one data dir, and reads the process's high-water mark (``VmHWM`` in
``/proc/<pid>/status``) after the request; the figure at start-up is printed too. The export is
the dataset's ``GET /v1/datasets/{id}/data`` as CSV and as JSON, read to the end and dropped. The
peer is the same export served by another checkout (``--peer /path/to/checkout``, e.g. one whose
export builds the whole body), on the same data dir.

    python -m bench.memory_peaks --rows 1000000 --columns 10
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from bench.server import REPO_ROOT, peak_rss_kib, server_process


def write_csv(path: Path, rows: int, columns: int, seed: int = 0) -> int:
    """A numeric CSV of ``rows`` rows, ``columns`` features and a 0/1 target ``y``; its size."""
    rng = np.random.default_rng(seed)
    with path.open("w") as handle:
        handle.write(",".join([*(f"x{j}" for j in range(columns)), "y"]) + "\n")
        for start in range(0, rows, 100_000):
            count = min(100_000, rows - start)
            block = np.round(rng.normal(size=(count, columns)), 6)
            target = (block[:, 0] > 0).astype(int)
            np.savetxt(handle, np.column_stack([block, target]), delimiter=",", fmt="%.6g")
    return path.stat().st_size


@contextmanager
def server(data_dir: Path, checkout: Path, python: str) -> Iterator[tuple[str, int]]:
    """A fresh server on ``data_dir`` from ``checkout``: its URL and pid."""
    settings = {"max_concurrent_jobs": 0, "grpc_port": "", "http_body_timeout": 3600}
    with server_process(data_dir, settings, checkout, python) as running:
        yield running.base_url, running.pid


def export(url: str, dataset_id: str, accept: str) -> tuple[int, float]:
    """Bytes and seconds of one export, read to the end."""
    started, size = time.perf_counter(), 0
    with httpx.stream(
        "GET", f"{url}/v1/datasets/{dataset_id}/data", headers={"accept": accept}, timeout=3600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
    return size, time.perf_counter() - started


def measure_exports(
    data_dir: Path, dataset_id: str, checkout: Path, python: str, label: str
) -> None:
    for accept in ("text/csv", "application/json"):
        with server(data_dir, checkout, python) as (url, pid):
            idle = peak_rss_kib(pid)
            size, seconds = export(url, dataset_id, accept)
            print(
                f"{label} export {accept}: {size / 1e6:.0f} MB in {seconds:.1f} s, "
                f"peak {peak_rss_kib(pid) / 1024:.0f} MiB (at start {idle / 1024:.0f} MiB)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--peer", type=Path, help="another checkout whose export to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="annserve-memory-") as tmp:
        data_dir, csv_path = Path(tmp) / "data", Path(tmp) / "big.csv"
        size = write_csv(csv_path, args.rows, args.columns)
        print(f"CSV: {args.rows} rows x {args.columns + 1} columns, {size / 1e6:.0f} MB")
        with server(data_dir, REPO_ROOT, sys.executable) as (url, pid):
            idle = peak_rss_kib(pid)
            started = time.perf_counter()
            with csv_path.open("rb") as handle:
                response = httpx.post(
                    f"{url}/v1/datasets/upload",
                    files={"file": ("big.csv", handle, "text/csv")},
                    data={"target": "y"},
                    timeout=3600,
                )
            response.raise_for_status()
            print(
                f"upload: {time.perf_counter() - started:.1f} s, "
                f"peak {peak_rss_kib(pid) / 1024:.0f} MiB (at start {idle / 1024:.0f} MiB)"
            )
        dataset_id = response.json()["id"]
        measure_exports(data_dir, dataset_id, REPO_ROOT, sys.executable, "streamed")
        if args.peer is not None:
            peer_python = str(args.peer / ".venv" / "bin" / "python")
            measure_exports(data_dir, dataset_id, args.peer, peer_python, "peer")


if __name__ == "__main__":
    main()
