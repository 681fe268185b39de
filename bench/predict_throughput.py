"""Serving speed: single-row predict requests against a bare FastAPI endpoint, same server.

One uvicorn worker serves the annserve app (its middleware, settings and auth) with extra
routes mounted only here: ``POST /bench/bare``, which reads the same JSON body, parses it with the
parser predict uses (``orjson``) and answers a small JSON document: the cost of HTTP, middleware
and JSON alone. ``POST /bench/bare-direct`` is the same endpoint on predict's route class
(:class:`app.api.http.direct_route.DirectRoute`, which skips FastAPI's parameter resolution), so the
cost of predict's own work shows apart from the route class. ``POST /bench/bare-model`` is the
same endpoint written the usual FastAPI way (a pydantic body model
``{inputs: list[list[float]]}``), for reference.
``wrk`` (Debian package ``wrk``, from ``make bench-deps``; without it, a bounded asyncio client
in this script, ``--client python``) then drives 32 concurrent connections at each endpoint for a
fixed time, in short rounds that each measure every endpoint once (in a rotating order), so all
see the same machine state. The script reports requests/s, p50 and p99 latency and the server's
CPU time per request for each endpoint (medians over the rounds), the ratio predict/bare both
of those medians and as the median of each round's own ratio (target >= 0.90; the paired figure
is the one that machine drift disturbs least), and rows/s of one 100,000-row predict request.

Run: ``python bench/predict_throughput.py`` (``--duration``, ``--rounds``, ``--connections``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import orjson  # noqa: E402
from fastapi import FastAPI, Request, Response  # noqa: E402

from app.api.http.direct_route import DirectRoute  # noqa: E402
from app.api.schemas.predict import PredictRequest  # noqa: E402

ROW_BODY = '{"inputs":[[0.5,-0.25]]}'


def make_app() -> FastAPI:
    """The annserve app from the environment's settings, plus the bare comparison routes."""
    from app.main import create_app

    app = create_app()

    async def bare(request: Request) -> Response:
        document = orjson.loads(await request.body())
        body = {"n_rows": len(document["inputs"])}
        return Response(orjson.dumps(body), media_type="application/json")

    async def bare_model(body: PredictRequest) -> dict[str, int]:
        return {"n_rows": len(body.inputs)}

    # The app puts predict first in its route list; bare and bare-direct go ahead of it, so
    # routing costs them no more than predict, and bare-model (a reference only) after it.
    app.add_api_route("/bench/bare", bare, methods=["POST"])
    app.router.add_api_route(
        "/bench/bare-direct", bare, methods=["POST"], route_class_override=DirectRoute
    )
    app.add_api_route("/bench/bare-model", bare_model, methods=["POST"])
    routes = app.router.routes
    routes.insert(0, routes.pop(-3))
    routes.insert(1, routes.pop(-2))
    routes.insert(3, routes.pop())
    assert [getattr(r, "path", "") for r in routes[:4]] == [
        "/bench/bare",
        "/bench/bare-direct",
        "/v1/models/{model_id}/predict",
        "/bench/bare-model",
    ]
    return app


def serve(port: int) -> None:
    """Serve :func:`make_app` the way ``annserve serve`` serves the app (one worker)."""
    import uvicorn

    from app.logs import configure_logging
    from app.settings import get_settings
    from app.storage.migrate import run_migrations

    settings = get_settings()
    configure_logging(settings.log_level)
    run_migrations(settings.database_url)
    uvicorn.run(
        "bench.predict_throughput:make_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=1,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


# --- the server under test -----------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNSERVE_")}
    env |= {"ANNSERVE_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.predict_throughput", "serve", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the benchmark server did not start")


def trained_model(base: str, data_dir: Path) -> str:
    """A 2-4-1 model on the circle dataset, trained with core and published as version 1."""
    from app.settings import Settings
    from app.storage.arrays import ArrayStore
    from app.storage.db import Database
    from app.storage.repositories import ModelRepository
    from app.storage.tables import ModelVersionRow
    from core.datasets import make_dataset
    from core.serialization import model_from_bytes, model_to_bytes

    model = httpx.post(
        f"{base}/v1/models", json={"name": "bench", "task": "binary", "n_inputs": 2}
    ).json()
    settings = Settings(data_dir=data_dir)
    db, arrays = Database(settings.database_url), ArrayStore(settings.data_dir)
    ann = model_from_bytes(arrays.model_version_bytes(model["id"], 0))
    data = make_dataset("circle", 400, 0.1, 0)
    ann.fit(data.X, data.y[np.newaxis, :].astype(float), n_iter=2000, lambd=0.5)
    arrays.save_model_version_bytes(model["id"], 1, model_to_bytes(ann))
    with db.session() as session:
        repo = ModelRepository(session)
        row = repo.get(model["id"], for_update=True)
        assert row is not None
        repo.add_version(ModelVersionRow(model_id=model["id"], version=1, note="bench"))
        row.current_version = 1
    db.dispose()
    return str(model["id"])


# --- load generation -----------------------------------------------------------------------
def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: Path, duration: int, connections: int, pid: int) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) of one wrk run, and the server's CPU time per request
    (a figure other load on the machine disturbs less); fails on any non-2xx answer."""
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    percentiles = dict(re.findall(r"^\s*(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.MULTILINE))
    if set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"no latency percentiles in wrk's output:\n{out}")
    cpu = cpu_seconds(pid) - cpu_before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "rps": rps,
        "cpu_us": cpu / done * 1e6,
        "p50": _milliseconds(percentiles["50"]),
        "p99": _milliseconds(percentiles["99"]),
    }


async def _raw_client(
    url: str, body: bytes, duration: float, connections: int
) -> tuple[int, list[float], int]:
    """Requests done, latencies (s) and non-2xx answers of ``connections`` keep-alive
    connections posting ``body`` for ``duration`` seconds (HTTP/1.1 over plain asyncio)."""
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + duration

    async def connection() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while (start := time.perf_counter()) < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            latencies.append(time.perf_counter() - start)
            failures += not head.startswith(b"HTTP/1.1 2")
        writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return len(latencies), latencies, failures


def python_client(url: str, duration: int, connections: int, pid: int) -> dict[str, float]:
    """:func:`wrk`'s figures from a bounded asyncio client (the fallback when ``wrk`` is not
    installed; it shares the machine's cores with the server, so prefer ``wrk``)."""
    import asyncio

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    done, latencies, failures = asyncio.run(
        _raw_client(url, ROW_BODY.encode(), duration, connections)
    )
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{failures} non-2xx answers from {url}")
    cpu = cpu_seconds(pid) - cpu_before
    latencies.sort()
    return {
        "rps": done / elapsed,
        "cpu_us": cpu / done * 1e6,
        "p50": latencies[len(latencies) // 2] * 1e3,
        "p99": latencies[int(len(latencies) * 0.99)] * 1e3,
    }


def big_request(base: str, model_id: str, rows: int, repeats: int) -> float:
    """Median seconds of one predict request carrying ``rows`` rows (end to end)."""
    X = np.random.default_rng(0).uniform(-1.5, 1.5, size=(rows, 2)).round(6)
    body = json.dumps({"inputs": X.tolist()}).encode()
    times = []
    with httpx.Client(timeout=120) as client:
        for _ in range(repeats):
            start = time.perf_counter()
            response = client.post(
                f"{base}/v1/models/{model_id}/predict",
                content=body,
                headers={"content-type": "application/json"},
            )
            times.append(time.perf_counter() - start)
            response.raise_for_status()
            assert len(response.json()["predictions"]) == rows
    return statistics.median(times)


def load_generator(choice: str) -> str:
    """The load generator to use: ``wrk`` when asked for or found, else the asyncio client."""
    found = shutil.which("wrk") is not None
    if choice == "wrk" and not found:
        raise SystemExit(
            "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), "
            "or run with --client python for the built-in asyncio client"
        )
    if choice == "wrk" or (choice == "auto" and found):
        return "wrk"
    if choice == "auto":
        print(
            "wrk not found (apt-get install -y wrk); using the built-in asyncio client, "
            "which shares the CPUs with the server and caps the request rate",
            file=sys.stderr,
        )
    return "python"


def run(args: argparse.Namespace) -> dict[str, Any]:
    client_name = load_generator(args.client)
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    data_dir = Path(tempfile.mkdtemp(prefix="annserve-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data_dir, port)
    try:
        model_id = trained_model(base, data_dir)
        script = data_dir / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = '{ROW_BODY}'\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        urls = {
            "bare": f"{base}/bench/bare",
            "bare-direct": f"{base}/bench/bare-direct",
            "bare-model": f"{base}/bench/bare-model",
            "predict": f"{base}/v1/models/{model_id}/predict",
        }

        def measure(url: str, duration: int) -> dict[str, float]:
            if client_name == "wrk":
                return wrk(url, script, duration, args.connections, server.pid)
            return python_client(url, duration, args.connections, server.pid)

        for url in urls.values():  # warm every path (model cache, imports)
            measure(url, 2)
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
        names = list(urls)
        for i in range(args.rounds):
            # Each round measures every endpoint once, starting with a different one each time,
            # so none of them always runs right after another.
            for name in names[i % len(names) :] + names[: i % len(names)]:
                rounds[name].append(measure(urls[name], args.duration))
        big = big_request(base, model_id, args.rows, 3)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    keys = ("rps", "p50", "p99", "cpu_us")
    summary = {
        name: {key: statistics.median(r[key] for r in results) for key in keys}
        for name, results in rounds.items()
    }

    def paired_ratios(name: str, base: str) -> list[float]:
        return [p["rps"] / b["rps"] for p, b in zip(rounds[name], rounds[base], strict=True)]

    paired = paired_ratios("predict", "bare")
    paired_direct = paired_ratios("predict", "bare-direct")
    return {
        "rounds": rounds,
        "median": summary,
        "ratio": summary["predict"]["rps"] / summary["bare"]["rps"],
        "paired_ratio": statistics.median(paired),
        "paired": paired,
        "paired_direct_ratio": statistics.median(paired_direct),
        "cpu_ratio": summary["bare"]["cpu_us"] / summary["predict"]["cpu_us"],
        "model_ratio": summary["predict"]["rps"] / summary["bare-model"]["rps"],
        "big_request_seconds": big,
        "rows_per_second": args.rows / big,
        "load": (load_before, " ".join(f"{v:.2f}" for v in os.getloadavg())),
        "client": client_name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    serve_parser = commands.add_parser("serve", help="(internal) run the benchmark server")
    serve_parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=12, help="alternating runs per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the big request")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (apt-get install wrk), the built-in asyncio client, or "
        "wrk when installed (default)",
    )
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.port)
        return
    result = run(args)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    client = "wrk, 1 thread" if result["client"] == "wrk" else "asyncio client"
    print(f"{client}: {args.connections} connections, {args.duration} s x {args.rounds} rounds")
    print("| endpoint | requests/s | p50 ms | p99 ms | server CPU µs/request |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in ("bare", "bare-direct", "bare-model", "predict"):
        m = result["median"][name]
        print(f"| {name} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['cpu_us']:.0f} |")
    for name in ("bare", "bare-direct", "bare-model", "predict"):
        each = ", ".join(f"{r['rps']:,.0f} ({r['cpu_us']:.0f} µs)" for r in result["rounds"][name])
        print(f"{name} rounds, req/s (CPU/request): {each}")
    print(f"ratio predict/bare, requests/s, of the medians: {result['ratio']:.3f}")
    print(
        f"ratio predict/bare, requests/s, median of the rounds' ratios: "
        f"{result['paired_ratio']:.3f} (target >= 0.90); rounds: "
        + ", ".join(f"{r:.3f}" for r in result["paired"])
    )
    print(f"ratio bare/predict, CPU per request: {result['cpu_ratio']:.3f}")
    print(
        "ratio predict/bare-direct (the same route class as predict), requests/s, median of "
        f"the rounds' ratios: {result['paired_direct_ratio']:.3f}"
    )
    print(f"ratio predict/bare-model (pydantic body), requests/s: {result['model_ratio']:.3f}")
    print(f"load average before/after: {result['load'][0]} / {result['load'][1]}")
    print(
        f"one {args.rows:,}-row request: {result['big_request_seconds']:.3f} s, "
        f"{result['rows_per_second']:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
