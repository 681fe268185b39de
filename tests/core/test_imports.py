"""Importing core (every module) pulls in nothing from the service layer, and stays light."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import core

FORBIDDEN = ("app", "fastapi", "pydantic", "sqlalchemy", "starlette", "uvicorn")
ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_every_core_module_imports_without_service_packages() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(core.__path__, "core."))
    assert "core.network" in modules and "core.training" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))"
    )
    assert _run(code) == ""


def test_import_core_does_not_load_matplotlib() -> None:
    code = "import sys, core; print('matplotlib' in sys.modules)"
    assert _run(code) == "False"
