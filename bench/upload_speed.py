"""Upload speed and memory of a mixed table: ``POST /v1/datasets/upload`` against
``pandas.read_csv`` of the same bytes, and the API process's peak memory.

The table: ``--rows`` rows x 20 columns (8 floats with 5% empty cells, 3 integers, 4 text
categories with 5 to 40 values and 2% empty cells, 2 booleans, 2 ISO dates, an integer class
target with 3 values), written once as CSV (seeded).

* speed: the upload's wall time from the client, as a multipart form (``/v1/datasets/upload``)
  and as the request body (``/v1/datasets/upload/raw``), (streamed, real ``annserve serve``
  on 127.0.0.1: receive, parse, type inference, profile, split, store) against
  ``pandas.read_csv(io.BytesIO(data))`` (parse only, pandas' C engine, default type inference:
  object columns for text) in the same process as the client; medians over ``--repeats``;
* memory: a fresh server per measurement, its resident-set high-water mark (``VmHWM`` of
  ``/proc/<pid>/status``) after the upload, minus the mark before it, against the size of the
  parsed dataset as stored (the typed column arrays in the dataset's ``.npz``: float64
  numbers, int32 category codes, ...). ``--memory-mb`` sets the CSV size of that upload.

Run: ``python bench/upload_speed.py [--rows 100000 --repeats 5 --memory-mb 100]``.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import peak_rss_kib, running_server


def mixed_csv(rows: int, seed: int = 0) -> bytes:
    """The benchmark's table as CSV bytes."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for k in range(8):
        values = rng.normal(10.0 ** (k % 4), 1.0 + k, rows).round(4)
        frame_values = values.astype(object)
        frame_values[rng.random(rows) < 0.05] = None
        columns[f"num{k}"] = frame_values
    for k in range(3):
        columns[f"int{k}"] = rng.integers(0, 10_000 * (k + 1), rows)
    for k, n in enumerate((5, 12, 25, 40)):
        words = np.array([f"cat{k}_{i}" for i in range(n)], dtype=object)
        values = words[rng.integers(0, n, rows)]
        values[rng.random(rows) < 0.02] = None
        columns[f"text{k}"] = values
    for k in range(2):
        columns[f"flag{k}"] = np.where(rng.random(rows) < 0.5, "true", "false")
    start = np.datetime64("2015-01-01")
    for k in range(2):
        days = rng.integers(0, 3000, rows)
        columns[f"date{k}"] = (start + days.astype("timedelta64[D]")).astype(str)
    columns["target"] = rng.integers(0, 3, rows)
    buffer = io.StringIO()
    pd.DataFrame(columns).to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def upload(http: httpx.Client, path: Path, raw: bool = False) -> dict[str, object]:
    """The file uploaded as a multipart form, or with ``raw`` as the request body itself."""
    with path.open("rb") as handle:
        if raw:
            response = http.post(
                "/v1/datasets/upload/raw",
                params={"target": "target", "filename": "bench.csv"},
                content=handle,
                headers={"content-type": "text/csv"},
            )
        else:
            response = http.post(
                "/v1/datasets/upload",
                files={"file": ("bench.csv", handle, "text/csv")},
                data={"target": "target"},
            )
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


def speed(data: bytes, path: Path, repeats: int) -> None:
    import pandas as pd

    forms: dict[str, list[float]] = {"multipart": [], "raw": []}
    theirs = []
    with running_server() as server, httpx.Client(base_url=server.base_url, timeout=600) as http:
        for _ in range(repeats):
            for form, times in forms.items():
                start = time.perf_counter()
                created = upload(http, path, raw=form == "raw")
                times.append(time.perf_counter() - start)
                http.delete(f"/v1/datasets/{created['id']}").raise_for_status()
            start = time.perf_counter()
            frame = pd.read_csv(io.BytesIO(data))
            theirs.append(time.perf_counter() - start)
            assert frame.shape[1] == 20
    b = statistics.median(theirs)
    print(f"pandas.read_csv of the same bytes:             median {b:.3f} s over {repeats}")
    for form, times in forms.items():
        a = statistics.median(times)
        print(
            f"upload, {form:9} (HTTP, parse, profile, split, store): median {a:.3f} s, "
            f"ratio {a / b:.2f}x  (goal: at most 2x)"
        )


def memory(rows: int) -> None:
    data = mixed_csv(rows, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        path.write_bytes(data)
        del data
        with running_server() as server, httpx.Client(base_url=server.base_url, timeout=900) as h:
            pid = server.pid
            before = peak_rss_kib(pid)
            created = upload(h, path)
            after = peak_rss_kib(pid)
            stored = next((server.data_dir / "datasets").glob(f"{created['id']}*"))
            parsed = _parsed_bytes(stored)
            export_start = peak_rss_kib(pid)
            with h.stream(
                "GET", f"/v1/datasets/{created['id']}/data", headers={"accept": "text/csv"}
            ) as answer:
                exported = sum(len(chunk) for chunk in answer.iter_bytes())
            after_export = peak_rss_kib(pid)
        size_mb = path.stat().st_size / 1e6
    print(f"upload of a {size_mb:.0f} MB CSV ({rows:,} rows x 20 columns):")
    print(f"  server peak RSS before {before / 1024:.0f} MiB, after {after / 1024:.0f} MiB")
    print(f"  parsed dataset (stored arrays): {parsed / 2**20:.0f} MiB")
    print(
        f"  peak growth / parsed size: {(after - before) * 1024 / parsed:.2f}x (goal: at most 3x)"
    )
    print(
        f"  CSV export ({exported / 1e6:.0f} MB streamed): peak RSS {after_export / 1024:.0f} MiB "
        f"(growth over the upload's peak {(after_export - export_start) / 1024:.0f} MiB)"
    )


def _parsed_bytes(path: Path) -> int:
    with np.load(path, allow_pickle=False) as stored:
        return int(sum(stored[name].nbytes for name in stored.files))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--memory-mb", type=float, default=100.0)
    args = parser.parse_args()
    import pandas as pd
    import pyarrow as pa

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"pandas {pd.__version__}, pyarrow {pa.__version__}, load {os.getloadavg()}")
    data = mixed_csv(args.rows)
    print(f"table: {args.rows:,} rows x 20 columns, {len(data) / 1e6:.1f} MB of CSV")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        path.write_bytes(data)
        speed(data, path, args.repeats)
    bytes_per_row = len(data) / args.rows
    if args.memory_mb > 0:
        memory(int(args.memory_mb * 1e6 / bytes_per_row))


if __name__ == "__main__":
    main()
