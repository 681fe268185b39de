"""Datasets, models and jobs belong to a tenant (the API key's); existing rows to ``default``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("datasets", "models", "jobs")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("tenant", sa.String(64), nullable=False, server_default="default")
            )
            batch.create_index(f"ix_{table}_tenant", ["tenant"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_tenant")
            batch.drop_column("tenant")
