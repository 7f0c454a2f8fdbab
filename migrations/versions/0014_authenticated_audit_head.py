"""The access log's head carries a MAC of its own

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:00:00

`audit_head.head_mac` is HMAC(audit key, "head" || sequence || link), rewritten with every
append. Without the audit key nobody can move the head back to an earlier entry, so deleting
the newest entries and rewinding the head is caught by `flask audit verify`. A migration has
no audit key: the column starts empty and the next append fills it (verify reports an empty
MAC on a non-empty log as a head that cannot be trusted).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_mac', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('head_mac')
