"""Alembic environment: migrates the database whose URL ``app.storage.migrate`` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from app.storage.db import create_db_engine
from app.storage.tables import Base

# Any constant works; it only has to be the same for every process migrating this database.
MIGRATION_LOCK_ID = 0x616E6E73  # "anns"

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
                if connection.dialect.name == "postgresql":
                    # Replicas starting together take turns; the later ones then find the
                    # schema at head and have nothing to do.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
                    )
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
