"""``app.main``: the factory, and the module-level ``app`` uvicorn imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI

from app.keys import Principal
from app.main import create_app
from app.settings import Settings
from tests.conftest import REPO_ROOT


def test_factory_wires_state(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=["k" * 16])
    app = create_app(settings)
    assert isinstance(app, FastAPI)
    assert app.state.settings is settings
    assert app.state.api_keys.match("k" * 16) == Principal("default", "admin")
    assert app.state.arrays.root == tmp_path.resolve()


def test_module_level_app_for_uvicorn(tmp_path: Path) -> None:
    code = (
        "import pathlib, uvicorn.importer as i; "
        "app = i.import_from_string('app.main:app'); "
        "print(type(app).__name__, app.state.settings.data_dir)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNSERVE_")}
    env["ANNSERVE_DATA_DIR"] = str(tmp_path / "d")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FastAPI", str((tmp_path / "d").resolve())]


def test_importing_main_reads_no_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNSERVE_")}
    env["ANNSERVE_MAX_LAYERS"] = "not a number"  # would fail if settings were read at import
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run(
        [sys.executable, "-c", "import app.main"], cwd=tmp_path, env=env, capture_output=True
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists()
