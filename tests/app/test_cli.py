"""The ``annserve`` command: migrate, invalid settings, and the argument parser."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from app.cli import build_parser, main
from app.settings import get_settings
from app.storage.db import create_db_engine


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Settings read anew per test; the CLI's logging set-up undone afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_migrate_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNSERVE_DATA_DIR", str(tmp_path))
    assert main(["migrate"]) == 0
    engine = create_db_engine(f"sqlite:///{tmp_path / 'annserve.db'}")
    try:
        assert {"datasets", "models", "model_versions", "jobs"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()
    assert main(["migrate"]) == 0  # idempotent


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ANNSERVE_MAX_LAYERS", "-1"), ("ANNSERVE_LOG_LEVEL", "chatty"), ("ANNSERVE_API_KEYS", "abc")],
)
def test_invalid_settings_stop_with_the_setting_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv("ANNSERVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    for command in (["migrate"], ["serve", "--port", "1"]):
        with pytest.raises(SystemExit) as info:
            main(command)
        assert info.value.code == 2
        assert variable in capsys.readouterr().err
    assert not (tmp_path / "annserve.db").exists()


def test_serve_arguments() -> None:
    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "3"]
    )
    assert (args.host, args.port, args.workers) == ("0.0.0.0", 9000, 3)
    defaults = build_parser().parse_args(["serve"])
    assert (defaults.host, defaults.port, defaults.workers) == ("127.0.0.1", 8000, 1)
    with pytest.raises(SystemExit):
        build_parser().parse_args([])
