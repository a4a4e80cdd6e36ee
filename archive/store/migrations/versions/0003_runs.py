"""unattended operation: a crawl run's process (pid, host, heartbeat), outcome and the run it resumes;
site locks so two processes never crawl one site at once

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("resumes", sa.Integer(), nullable=True))
    op.create_table(
        "site_locks",
        sa.Column("site", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("site"),
    )


def downgrade() -> None:
    op.drop_table("site_locks")
    with op.batch_alter_table("crawl_runs") as batch:
        for name in ("resumes", "heartbeat_at", "host", "pid", "status"):
            batch.drop_column(name)
