"""Counts kept for the activity reports when a purge removes what tied a person to a period

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.base

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_counts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("programme", sa.String(length=1), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("table_key", sa.String(length=40), nullable=False),
        sa.Column("row_key", sa.String(length=80), nullable=False),
        sa.Column("column_key", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("kept_at", referral.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_counts")),
    )
    op.create_index(
        "ix_kept_counts_lookup", "kept_counts", ["programme", "period", "table_key"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_kept_counts_lookup", table_name="kept_counts")
    op.drop_table("kept_counts")
