"""Alembic migrations of the service's schema (run by ``app.storage.migrate``)."""
