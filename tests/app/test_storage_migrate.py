"""Migrations create every table on SQLite and PostgreSQL, are idempotent and reversible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from app.storage.db import create_db_engine
from app.storage.migrate import downgrade, run_migrations
from tests.conftest import REPO_ROOT

TABLES = {
    "datasets",
    "models",
    "model_versions",
    "jobs",
    "job_history",
    "workers",
    "alembic_version",
}


def _tables_and_job_indexes(url: str) -> tuple[set[str], set[str]]:
    engine = create_db_engine(url)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        indexes = (
            {ix["name"] for ix in inspector.get_indexes("jobs")} if "jobs" in tables else set()
        )
        return tables, {name for name in indexes if name}
    finally:
        engine.dispose()


def _check_round_trip(url: str) -> None:
    run_migrations(url)
    run_migrations(url)  # at head already: a no-op, not an error
    tables, indexes = _tables_and_job_indexes(url)
    assert tables >= TABLES
    assert {"ix_jobs_status_created_at", "ix_jobs_model_id"} <= indexes
    downgrade(url)
    tables, _ = _tables_and_job_indexes(url)
    assert tables & (TABLES - {"alembic_version"}) == set()
    run_migrations(url)
    assert _tables_and_job_indexes(url)[0] >= TABLES


def test_sqlite_migrations_round_trip(tmp_path: Path) -> None:
    _check_round_trip(f"sqlite:///{tmp_path / 'nested' / 'annserve.db'}")


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'annserve.db'}"
    run_migrations(url)
    engine = create_db_engine(url)
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    engine.dispose()
    assert mode == "wal"
    assert foreign_keys == 1


@pytest.mark.services
def test_postgres_migrations_round_trip(postgres_schema_url: str) -> None:
    _check_round_trip(postgres_schema_url)


@pytest.mark.services
def test_postgres_concurrent_migrations_take_turns(postgres_schema_url: str) -> None:
    # Separate processes, as replicas starting together would be (Alembic is not thread-safe).
    code = "import sys; from app.storage.migrate import run_migrations; run_migrations(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, postgres_schema_url],
            cwd=REPO_ROOT,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, errors
    assert _tables_and_job_indexes(postgres_schema_url)[0] >= TABLES
