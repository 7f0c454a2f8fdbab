"""An organisation's postal address: the return address on the consent form

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 14:00:00

The consent form a district prints for a guardian says where to send it back. The address
is the organisation's own (an office, not a person's home), so it is kept in clear, and an
administrator sets it on the organisations page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postal_address", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("postal_address")
