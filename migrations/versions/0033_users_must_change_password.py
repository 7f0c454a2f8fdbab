"""A staff account's first password must be replaced at the first sign-in

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-08 09:00:00

`flask user add` sets a first password the operator knows (generated, given or typed at the
operator's terminal); the holder replaces it with one of their own before any page opens
(OWASP ASVS 5.0 V6.4.1). Accounts that exist already are in use with their password, so
they are not asked to change it: the column's default for them is false.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
