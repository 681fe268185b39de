"""Alembic environment: migrates the database whose URL ``app.storage.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from app.storage.db import create_db_engine
from app.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Apply migrations on a live connection (offline SQL generation is not supported)."""
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
