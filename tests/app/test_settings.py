"""Settings: environment parsing, defaults derived from the data dir, errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_defaults_from_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNSERVE_DATA_DIR", str(tmp_path / "d"))
    settings = Settings()
    assert settings.data_dir == (tmp_path / "d").resolve()
    assert settings.database_url == f"sqlite:///{(tmp_path / 'd').resolve()}/annserve.db"
    assert settings.api_keys == []


def test_lists_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNSERVE_API_KEYS", "k" * 16 + ", " + "z" * 20)
    monkeypatch.setenv("ANNSERVE_CORS_ORIGINS", "http://a.example,http://b.example")
    monkeypatch.setenv("ANNSERVE_LOG_LEVEL", "DEBUG")
    settings = Settings()
    assert settings.api_keys == ["k" * 16, "z" * 20]
    assert settings.cors_origins == ["http://a.example", "http://b.example"]
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [
        ("ANNSERVE_MAX_LAYERS", "0", "max_layers"),
        ("ANNSERVE_MAX_UNITS", "many", "max_units"),
        ("ANNSERVE_LOG_LEVEL", "loud", "log_level"),
        ("ANNSERVE_API_KEYS", "short", "api_keys"),
        ("ANNSERVE_DATABASE_URL", "mysql://x/y", "database_url"),
        # ':' separates the parts of worker ids, which start with the host name.
        ("ANNSERVE_HOSTNAME", "a:b", "hostname"),
        ("ANNSERVE_HOSTNAME", "", "hostname"),
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("value", "port"), [(None, 8081), ("", 0), (" ", 0), ("0", 0), ("9001", 9001)]
)
def test_grpc_port_defaults_to_kserve_s_and_empty_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, port: int
) -> None:
    monkeypatch.delenv("ANNSERVE_GRPC_PORT", raising=False)
    if value is not None:
        monkeypatch.setenv("ANNSERVE_GRPC_PORT", value)
    assert Settings().grpc_port == port


def test_grpc_port_must_be_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNSERVE_GRPC_PORT", "70000")
    with pytest.raises(ValidationError, match="grpc_port"):
        Settings()


def test_hostname_defaults_to_this_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.delenv("ANNSERVE_HOSTNAME", raising=False)
    assert Settings().hostname == socket.gethostname()
    monkeypatch.setenv("ANNSERVE_HOSTNAME", "worker-7.example")
    assert Settings().hostname == "worker-7.example"


@pytest.mark.parametrize(("value", "port"), [(None, 9808), ("", 0), ("0", 0), ("19808", 19808)])
def test_worker_metrics_port_defaults_to_9808_and_empty_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, value: str | None, port: int
) -> None:
    monkeypatch.delenv("ANNSERVE_WORKER_METRICS_PORT", raising=False)
    monkeypatch.delenv("ANNSERVE_WORKER_METRICS_HOST", raising=False)
    if value is not None:
        monkeypatch.setenv("ANNSERVE_WORKER_METRICS_PORT", value)
    settings = Settings()
    assert settings.worker_metrics_port == port
    assert settings.worker_metrics_host == "127.0.0.1"  # not reachable from elsewhere unless set


def test_worker_metrics_port_must_be_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNSERVE_WORKER_METRICS_PORT", "-1")
    with pytest.raises(ValidationError, match="worker_metrics_port"):
        Settings()
