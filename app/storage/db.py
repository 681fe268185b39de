"""Engine and sessions from a database URL (SQLite in WAL mode by default, PostgreSQL at scale)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for bare ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while a writer commits; foreign keys are off by default in SQLite;
    # busy_timeout makes concurrent writers (API workers, job processes) wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, creates the file's directory and sets the pragmas."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An engine plus its session factory; ``session()`` commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = create_db_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.embedded: bool = self.engine.dialect.name == "sqlite"
        """True for the embedded SQLite database: a file on this machine, no network."""

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: one transaction, committed when the block ends without error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
