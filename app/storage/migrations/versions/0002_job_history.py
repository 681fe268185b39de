"""Job history: the recorded costs of each training job, in chunks appended while it trains.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "job_id",
            sa.String(32),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("last_iteration", sa.Integer(), nullable=False),
        sa.Column("iterations", sa.LargeBinary(), nullable=False),
        sa.Column("costs", sa.LargeBinary(), nullable=False),
        sa.Column("val_iterations", sa.LargeBinary(), nullable=False),
        sa.Column("val_costs", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_job_history_job_id_id", "job_history", ["job_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_job_history_job_id_id", table_name="job_history")
    op.drop_table("job_history")
