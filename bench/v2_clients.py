"""Open Inference Protocol speed: gRPC and REST (binary and JSON tensors) against /v1 predict.

One ``annserve serve`` process (HTTP and gRPC) serves a small classifier (2 inputs, 8 tanh units).
First, single-row requests from ``--clients`` concurrent clients (coroutines of one asyncio
client process: ``aiohttp`` for HTTP, a ``grpc.aio`` channel for gRPC, both sending exactly what
tritonclient sends) for ``--duration`` seconds per endpoint, in ``--rounds`` rounds whose order
rotates, so every endpoint sees the same machine: requests/s and p50/p99 latency (medians over
rounds). Then one ``--rows``-row FP32 request, binary tensors against the JSON form (the real
``tritonclient.http``), gRPC raw contents and /v1 predict: the best of ``--repeat`` runs.

Run: ``python bench/v2_clients.py`` (``--duration``, ``--rounds``, ``--clients``, ``--rows``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import aiohttp  # noqa: E402
import grpc  # noqa: E402
import httpx  # noqa: E402
import tritonclient.http as tritonhttp  # noqa: E402
from tritonclient.grpc import service_pb2, service_pb2_grpc  # noqa: E402

from bench.server import _free_port, running_server  # noqa: E402

ROW = [0.25, -0.5]
Call = Callable[[], Awaitable[None]]


def _binary_body(rows: np.ndarray) -> tuple[bytes, dict[str, str]]:
    raw = rows.astype(np.float32).tobytes()
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": list(rows.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()
    return header + raw, {"Inference-Header-Content-Length": str(len(header))}


def _json_body(rows: np.ndarray) -> bytes:
    tensor = {
        "name": "input",
        "shape": list(rows.shape),
        "datatype": "FP32",
        "data": rows.ravel().tolist(),
    }
    return json.dumps({"inputs": [tensor]}).encode()


def _grpc_request(model_id: str, rows: np.ndarray) -> Any:
    request = service_pb2.ModelInferRequest(model_name=model_id)
    request.inputs.add(name="input", datatype="FP32", shape=list(rows.shape))
    request.raw_input_contents.append(rows.astype(np.float32).tobytes())
    return request


async def _drive(call: Call, clients: int, duration: float) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 latency (ms) of ``clients`` loops of ``call``."""
    latencies: list[float] = []
    stop = time.perf_counter() + duration

    async def loop() -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000


async def _single_rows(
    base_url: str, grpc_address: str, model_id: str, args: argparse.Namespace
) -> dict[str, list[tuple[float, float, float]]]:
    row = np.array([ROW])
    binary, binary_headers = _binary_body(row)
    json_body = _json_body(row)
    v1_body = json.dumps({"inputs": [ROW]}).encode()
    infer_url = f"{base_url}/v2/models/{model_id}/infer"
    predict_url = f"{base_url}/v1/models/{model_id}/predict"
    request = _grpc_request(model_id, row)
    connector = aiohttp.TCPConnector(limit=args.clients)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        grpc.aio.insecure_channel(grpc_address) as channel,
    ):
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)

        async def post(url: str, body: bytes, headers: dict[str, str]) -> None:
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == 200, await response.text()
                await response.read()

        calls: dict[str, Call] = {
            "/v1 predict (JSON)": lambda: post(
                predict_url, v1_body, {"Content-Type": "application/json"}
            ),
            "/v2 REST, binary tensors": lambda: post(infer_url, binary, binary_headers),
            "/v2 REST, JSON tensors": lambda: post(infer_url, json_body, {}),
            "/v2 gRPC, raw contents": lambda: stub.ModelInfer(request),
        }
        for call in calls.values():  # warm up connections and the model cache
            await _drive(call, args.clients, 0.5)
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in calls}
        names = list(calls)
        for index in range(args.rounds):
            for name in names[index % len(names) :] + names[: index % len(names)]:
                results[name].append(await _drive(calls[name], args.clients, args.duration))
    return results


def _best(run: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _large_batch(
    base_url: str, grpc_address: str, model_id: str, args: argparse.Namespace
) -> dict[str, float]:
    rows = np.random.default_rng(0).uniform(-1, 1, size=(args.rows, 2)).astype(np.float32)
    client = tritonhttp.InferenceServerClient(
        base_url.removeprefix("http://"), network_timeout=120, connection_timeout=120
    )

    def triton(binary: bool) -> Callable[[], None]:
        def run() -> None:
            tensor = tritonhttp.InferInput("input", list(rows.shape), "FP32")
            tensor.set_data_from_numpy(rows, binary_data=binary)
            outputs = [
                tritonhttp.InferRequestedOutput(name, binary_data=binary)
                for name in ("predictions", "probabilities")
            ]
            result = client.infer(model_id, [tensor], outputs=outputs)
            assert result.as_numpy("probabilities").shape == (args.rows, 2)

        return run

    request = _grpc_request(model_id, rows)
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(grpc_address, options=options) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)

        def by_grpc() -> None:
            assert len(stub.ModelInfer(request).raw_output_contents) == 2

        def by_v1() -> None:
            response = httpx.post(
                f"{base_url}/v1/models/{model_id}/predict",
                json={"inputs": rows.astype(np.float64).tolist()},
                timeout=120,
            )
            assert response.status_code == 200, response.text

        try:
            return {
                "/v2 REST, binary tensors (tritonclient)": _best(triton(True), args.repeat),
                "/v2 REST, JSON tensors (tritonclient)": _best(triton(False), args.repeat),
                "/v2 gRPC, raw contents": _best(by_grpc, args.repeat),
                "/v1 predict (JSON, httpx)": _best(by_v1, args.repeat),
            }
        finally:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    grpc_port = _free_port()
    grpc_address = f"127.0.0.1:{grpc_port}"
    with running_server(grpc_port=grpc_port, max_concurrent_jobs=0) as server:
        model = {
            "name": "bench-v2",
            "task": "binary",
            "n_inputs": 2,
            "hidden_layers": [{"units": 8, "activation": "tanh"}],
        }
        response = httpx.post(f"{server.base_url}/v1/models", json=model, timeout=10)
        response.raise_for_status()
        model_id = response.json()["id"]
        single = asyncio.run(_single_rows(server.base_url, grpc_address, model_id, args))
        batch = _large_batch(server.base_url, grpc_address, model_id, args)
    print(f"single-row requests, {args.clients} concurrent clients, {args.rounds} rounds:")
    print(f"  {'endpoint':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, runs in single.items():
        rate, p50, p99 = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"  {name:34} {rate:8.0f} {p50:8.2f} {p99:8.2f}")
    print(f"one {args.rows}-row FP32 request (best of {args.repeat}):")
    for name, seconds in batch.items():
        print(f"  {name:42} {seconds * 1000:8.1f} ms  {args.rows / seconds:12,.0f} rows/s")


if __name__ == "__main__":
    main()
