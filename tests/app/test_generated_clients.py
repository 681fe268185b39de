"""Clients generated from the live server's /openapi.json: openapi-python-client runs the README
walkthrough (images, .npz and ONNX included), and openapi-typescript's types compile strictly."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import numpy as np
import pytest

from tests.conftest import REPO_ROOT, StartServer

pytestmark = pytest.mark.slow

KEY = "generated-client-key-0123456789"
CONFIG = REPO_ROOT / "docs" / "clients" / "openapi-python-client.yaml"
TS_TOOLS = Path(__file__).parent / "clients"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def spec(live_server: StartServer, tmp_path: Path) -> tuple[str, Path]:
    """A live server with an API key, and its /openapi.json saved to a file."""
    server = live_server(env={"ANNSERVE_API_KEYS": KEY})
    path = tmp_path / "openapi.json"
    path.write_bytes(httpx.get(f"{server.base_url}/openapi.json").content)
    return server.base_url, path


@pytest.fixture
def python_client(spec: tuple[str, Path], tmp_path: Path) -> Iterator[ModuleType]:
    """The package openapi-python-client generates from the live schema, imported."""
    _, path = spec
    out = tmp_path / "generated" / "annserve_client"
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(path)]
    command += ["--config", str(CONFIG), "--meta", "none", "--output-path", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(out.parent))
    try:
        yield importlib.import_module("annserve_client")
    finally:
        sys.path.remove(str(out.parent))
        for name in [n for n in sys.modules if n.split(".")[0] == "annserve_client"]:
            del sys.modules[name]


def _api(package: ModuleType, module: str) -> Any:
    return importlib.import_module(f"annserve_client.{module}")


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content[:500]
    return response.parsed


def test_python_client_runs_the_walkthrough(
    python_client: ModuleType, spec: tuple[str, Path]
) -> None:
    base, _ = spec
    pkg = python_client
    models = _api(pkg, "models")
    types = _api(pkg, "types")
    client = pkg.AuthenticatedClient(base_url=base, token=KEY, raise_on_unexpected_status=True)
    anonymous = pkg.Client(base_url=base, raise_on_unexpected_status=True)

    def op(name: str) -> Any:
        return next(
            importlib.import_module(f"annserve_client.api.{tag}.{name}")
            for tag in (
                "operations",
                "datasets",
                "models",
                "jobs",
                "predictions",
                "images",
                "export",
                "open_inference_protocol_v2",
            )
            if importlib.util.find_spec(f"annserve_client.api.{tag}.{name}") is not None
        )

    # liveness and readiness are open
    assert _ok(op("healthz").sync_detailed(client=anonymous)).status == "ok"
    assert _ok(op("readyz").sync_detailed(client=anonymous)).database is True
    assert op("list_datasets").sync_detailed(client=anonymous).status_code == 401

    # datasets: generated, from JSON rows, from a CSV file
    generate = models.DatasetGenerate.from_dict(
        {"kind": "circle", "n_samples": 200, "noise": 0.1, "seed": 0}
    )
    circle = _ok(op("generate_dataset").sync_detailed(client=client, body=generate), 201)
    rows = models.DatasetCreate.from_dict(
        {
            "name": "xor",
            "features": [[0, 0], [0, 1], [1, 0], [1, 1], [0, 0], [1, 1]],
            "targets": ["off", "on", "on", "off", "off", "off"],
            "test_fraction": 0.34,
        }
    )
    assert _ok(op("create_dataset").sync_detailed(client=client, body=rows), 201).classes == [
        "off",
        "on",
    ]
    csv = b"species,length,width\ncat,1.0,2.0\ndog,3.5,4.0\ncat,1.2,2.2\ndog,3.3,4.4\n"
    upload = models.UploadDatasetBody(
        file=types.File(payload=io.BytesIO(csv), file_name="pets.csv", mime_type="text/csv"),
        target="species",
        test_fraction=0.5,
    )
    pets = _ok(op("upload_dataset").sync_detailed(client=client, body=upload), 201)
    assert pets.n_features == 2
    page = _ok(op("list_datasets").sync_detailed(client=client, limit=2, offset=0))
    assert page.total == 3 and len(page.items) == 2
    assert _ok(op("get_dataset").sync_detailed(circle.id, client=client)).n_train == 160
    data = _ok(op("get_dataset_data").sync_detailed(pets.id, client=client))
    assert data.targets == ["cat", "dog", "cat", "dog"]
    plot = op("plot_dataset").sync_detailed(circle.id, client=client)
    assert _ok(plot).payload.read().startswith(PNG)
    again = op("plot_dataset").sync_detailed(
        circle.id, client=client, if_none_match=plot.headers["etag"]
    )
    assert again.status_code == 304 and again.parsed is None

    # a model shaped by the dataset
    create = models.ModelCreate.from_dict(
        {
            "name": "circle-net",
            "dataset_id": circle.id,
            "hidden_layers": [{"units": 4, "activation": "tanh"}],
            "init": "glorot",
        }
    )
    model = _ok(op("create_model").sync_detailed(client=client, body=create), 201)
    assert _ok(op("get_model").sync_detailed(model.id, client=client)).n_parameters == 17
    update = models.ModelUpdate.from_dict({"description": "the notes exercise"})
    renamed = _ok(op("update_model").sync_detailed(model.id, client=client, body=update))
    assert renamed.description == "the notes exercise"
    assert (
        _ok(
            op("list_models").sync_detailed(
                client=client, task=models.ListModelsTaskType0("binary")
            )
        ).total
        == 1
    )
    versions = _ok(op("list_model_versions").sync_detailed(model.id, client=client))
    assert [v.version for v in versions] == [0]
    parameters = _ok(op("get_model_parameters").sync_detailed(model.id, client=client))
    assert (parameters.parameters[0].name, parameters.parameters[0].shape) == ("W1", [4, 2])
    # A generated function parses the first representation it documents (JSON here); the
    # negotiated ones go through the client's own httpx client, with its key.
    raw = client.get_httpx_client()
    file = raw.get(f"/v1/models/{model.id}/parameters", headers={"accept": "application/x-npz"})
    assert file.headers["content-type"] == "application/x-npz"
    assert np.load(io.BytesIO(file.content), allow_pickle=False)["W1"].shape == (4, 2)
    table = raw.get(f"/v1/datasets/{pets.id}/data", headers={"accept": "text/csv"})
    assert table.text.splitlines()[0] == "length,width,species"

    # errors are problems
    missing = op("get_model").sync_detailed("not-an-id", client=client)
    assert missing.status_code == 404 and missing.parsed.code == "invalid_id"

    # train it (fewer passes than the walkthrough's 10,000, to keep the test short)
    train = models.TrainRequest.from_dict(
        {"dataset_id": circle.id, "n_iter": 500, "learning_rate": 0.5, "validation": "test"}
    )
    job = _ok(op("train_model").sync_detailed(model.id, client=client, body=train), 202)
    deadline = time.monotonic() + 60
    while job.status not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
        job = _ok(op("get_job").sync_detailed(job.id, client=client))
    assert job.status == "succeeded"
    events = op("stream_job_events").sync_detailed(job.id, client=client)
    assert "event: status" in _ok(events)
    history = _ok(op("get_job_history").sync_detailed(job.id, client=client))
    assert len(history.iterations) == len(history.costs) > 0
    curve = op("get_job_cost_curve").sync_detailed(job.id, client=client, log_y=True)
    assert _ok(curve).payload.read().startswith(PNG)
    model_curve = op("get_model_cost_curve").sync_detailed(model.id, client=client)
    assert _ok(model_curve).payload.read().startswith(PNG)

    # predict, accuracy, evaluation
    predict = models.PredictRequest.from_dict({"inputs": [[0.0, 0.0], [4.5, 0.0]]})
    prediction = _ok(op("predict").sync_detailed(model.id, client=client, body=predict))
    assert len(prediction.predictions) == 2 and prediction.trained is True
    accuracy = op("get_accuracy").sync_detailed(
        model.id, client=client, dataset_id=circle.id, split=models.GetAccuracySplit("test")
    )
    assert 0.0 <= _ok(accuracy).accuracy <= 1.0
    evaluate = models.EvaluateRequest.from_dict({"dataset_id": circle.id, "split": "test"})
    report = _ok(op("evaluate_model").sync_detailed(model.id, client=client, body=evaluate))
    assert np.asarray(report.confusion_matrix).sum() == 40
    inline = models.EvaluateRequest.from_dict({"inputs": [[0.0, 0.0]], "targets": [1]})
    scored = _ok(op("evaluate_model").sync_detailed(model.id, client=client, body=inline))
    assert scored.n_samples == 1

    # the Open Inference Protocol
    metadata = _ok(op("model_metadata").sync_detailed(model.id, client=client))
    assert metadata.inputs[0].shape == [-1, 2]

    # images and export
    boundary = op("get_decision_boundary").sync_detailed(
        model.id, client=client, dataset_id=circle.id, resolution=40
    )
    assert _ok(boundary).payload.read().startswith(PNG)
    cached = op("get_decision_boundary").sync_detailed(
        model.id,
        client=client,
        dataset_id=circle.id,
        resolution=40,
        if_none_match=boundary.headers["etag"],
    )
    assert cached.status_code == 304
    weights = op("get_weights_image").sync_detailed(
        model.id, client=client, format_=models.GetWeightsImageFormatType0("svg")
    )
    assert b"<svg" in _ok(weights).payload.read()
    npz = _ok(
        op("export_model").sync_detailed(
            model.id, client=client, format_=models.ExportModelFormat("npz")
        )
    )
    with np.load(io.BytesIO(npz.payload.read()), allow_pickle=False) as archive:
        assert "W1" in archive.files
    document = _ok(
        op("export_model").sync_detailed(
            model.id, client=client, format_=models.ExportModelFormat("json")
        )
    )
    assert json.loads(document.payload.read())["architecture"]
    onnx = _ok(
        op("export_model").sync_detailed(
            model.id, client=client, format_=models.ExportModelFormat("onnx")
        )
    )
    assert len(onnx.payload.read()) > 100

    # clean up
    assert op("delete_model").sync_detailed(model.id, client=client).status_code == 204
    assert op("delete_dataset").sync_detailed(pets.id, client=client).status_code == 204


def _npm_tools() -> Path:
    """openapi-typescript and typescript as pinned in tests/app/clients, installed once into
    a cache directory keyed by the lock file."""
    lock = (TS_TOOLS / "package-lock.json").read_bytes()
    home = Path.home() / ".cache" / "annserve-tests" / hashlib.sha256(lock).hexdigest()[:16]
    if not (home / "node_modules" / ".bin" / "tsc").exists():
        home.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(TS_TOOLS / name, home / name)
        command = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"]
        result = subprocess.run(command, cwd=home, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    return home / "node_modules" / ".bin"


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed for openapi-typescript and tsc",
)
def test_typescript_types_compile_strictly(spec: tuple[str, Path], tmp_path: Path) -> None:
    _, path = spec
    tools = _npm_tools()
    types = tmp_path / "annserve.d.ts"
    # Fields with defaults stay optional in request bodies (the tool makes them required).
    generate = [str(tools / "openapi-typescript"), str(path), "--output", str(types)]
    generate += ["--default-non-nullable", "false"]
    result = subprocess.run(generate, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    usage = tmp_path / "usage.ts"
    shutil.copy(TS_TOOLS / "usage.ts", usage)
    compile_ = [str(tools / "tsc"), "--strict", "--noEmit", "--target", "es2020"]
    result = subprocess.run(
        [*compile_, str(types), str(usage)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
