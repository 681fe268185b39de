"""Persistence: metadata in SQL (SQLAlchemy 2 + Alembic), arrays as ``.npz`` files on disk."""
