"""The neuron maps' two forms, JSON and binary (float32 in the safetensors layout), against each
other in the same run on a real server: bytes on the wire, time per request (sequential, one
client, keep-alive) and the client's time to turn the body into arrays.

Workloads: the playground's drawing (a 2-4-2-1 network on the circle at resolution 24, the
page's), a wide one (7 encoded inputs from five derived features, 8-8-1, resolution 24), and the
largest grid (the wide network at resolution 64). Rounds alternate between the forms; medians
are reported. Run: ``python -m bench.neuron_map_forms``.
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
from safetensors.numpy import load

from bench.server import running_server

DERIVED = ["x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
WORKLOADS: list[tuple[str, list[int], list[str], int]] = [
    ("2-4-2-1, resolution 24", [4, 2], [], 24),
    ("7 inputs (derived)-8-8-1, resolution 24", [8, 8], DERIVED, 24),
    ("7 inputs (derived)-8-8-1, resolution 64", [8, 8], DERIVED, 64),
]


def _model(client: httpx.Client, dataset_id: str, units: list[int], derived: list[str]) -> str:
    body: dict[str, Any] = {
        "name": "maps",
        "dataset_id": dataset_id,
        "hidden_layers": [{"units": u, "activation": "tanh"} for u in units],
    }
    if derived:
        body["derived_features"] = derived
    response = client.post("/v1/models", json=body)
    response.raise_for_status()
    model_id: str = response.json()["id"]
    return model_id


def _decode(form: str, body: bytes) -> int:
    """The client's work: every grid as an array; returns the number of values."""
    if form == "json":
        maps = json.loads(body)
        grids = [np.asarray(maps["inputs"])] + [np.asarray(l["values"]) for l in maps["layers"]]
    else:
        tensors = load(body)
        grids = [t for name, t in tensors.items() if name == "inputs" or name.startswith("A")]
    return sum(g.size for g in grids)


def measure(
    client: httpx.Client, url: str, resolution: int, rounds: int, requests: int
) -> dict[str, Any]:
    """Median seconds per request and per decode, and the bytes, of each form."""
    times: dict[str, list[float]] = {"json": [], "binary": []}
    decodes: dict[str, list[float]] = {"json": [], "binary": []}
    sizes: dict[str, int] = {}
    values: dict[str, int] = {}
    for _ in range(rounds):
        for form in ("json", "binary"):
            start = time.perf_counter()
            for _ in range(requests):
                response = client.get(url, params={"format": form, "resolution": resolution})
                response.raise_for_status()
            times[form].append((time.perf_counter() - start) / requests)
            sizes[form] = len(response.content)
            start = time.perf_counter()
            values[form] = _decode(form, response.content)
            decodes[form].append(time.perf_counter() - start)
    assert values["json"] == values["binary"]
    return {
        form: {
            "bytes": sizes[form],
            "request_ms": 1000 * statistics.median(times[form]),
            "decode_ms": 1000 * statistics.median(decodes[form]),
        }
        for form in times
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    print(f"{platform.python_version()} on {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with (
        running_server(grpc_port=0, max_concurrent_jobs=0) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        generated = client.post(
            "/v1/datasets/generate", json={"kind": "circle", "n_samples": 400, "seed": 0}
        )
        generated.raise_for_status()
        dataset_id = generated.json()["id"]
        for name, units, derived, resolution in WORKLOADS:
            model_id = _model(client, dataset_id, units, derived)
            url = f"/v1/models/{model_id}/neuron-maps"
            result = measure(client, url, resolution, args.rounds, args.requests)
            j, b = result["json"], result["binary"]
            print(
                f"{name}: JSON {j['bytes']:,} B, {j['request_ms']:.2f} ms, decode "
                f"{j['decode_ms']:.2f} ms | binary {b['bytes']:,} B, {b['request_ms']:.2f} ms, "
                f"decode {b['decode_ms']:.2f} ms | bytes x{j['bytes'] / b['bytes']:.2f}, "
                f"request x{j['request_ms'] / b['request_ms']:.2f}, "
                f"decode x{j['decode_ms'] / b['decode_ms']:.1f}"
            )


if __name__ == "__main__":
    main()
