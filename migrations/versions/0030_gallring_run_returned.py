"""How many files a gallring run returned to social services

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 15:10:00

A run now returns a partner's file to the district the night after the participation ends,
not on the day the file falls due for purge: the district has what it must keep at once,
and the purge (30 days later) finds it delivered. The run's row counts the files it
returned, for the DPO's list of runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gallring_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returned", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("gallring_runs", schema=None) as batch_op:
        batch_op.drop_column("returned")
