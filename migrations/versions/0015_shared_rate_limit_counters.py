"""Rate-limit counters in the database, shared by every worker

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:00:00

With Flask-Limiter's in-memory storage each gunicorn worker counted on its own, so a limit of
20 logins a minute let through about 20 per worker. On PostgreSQL the counters live in this
table; on SQLite in a file of their own beside the database (see referral/web/limit_storage.py),
so counting a login never waits for the request's own write lock.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_limit_counters',
        sa.Column('key_digest', sa.LargeBinary(length=32), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key_digest', name=op.f('pk_rate_limit_counters')),
    )
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.create_index('ix_rate_limit_counters_expires_at', ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_counters_expires_at')
    op.drop_table('rate_limit_counters')
