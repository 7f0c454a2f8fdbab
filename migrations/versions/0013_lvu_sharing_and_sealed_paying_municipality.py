"""LVU sharing decisions per category, and the paying municipality sealed

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 12:00:00

`children.paying_municipality` was a clear column; it becomes a sealed one. A migration has no
data keys, so it cannot seal existing values: it refuses to run while any child has one, rather
than drop them unseen (re-enter them after the upgrade; no deployed database holds any yet).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.encryption

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    held = op.get_bind().execute(
        sa.text("SELECT count(*) FROM children WHERE paying_municipality IS NOT NULL")
    ).scalar_one()
    if held:
        raise RuntimeError(
            f"{held} children have a paying municipality stored in clear; this migration "
            "cannot seal them. Note them, clear the column, upgrade, and re-enter them."
        )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('paying_municipality')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lvu_sharing', referral.db.encryption.EncryptedText(), nullable=True))
        batch_op.add_column(sa.Column('paying_municipality', referral.db.encryption.EncryptedText(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('paying_municipality')
        batch_op.drop_column('lvu_sharing')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paying_municipality', sa.String(length=100), nullable=True))
