"""A child's responsible social worker and the district's own case number; staff work phones

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 12:00:00

The responsible social worker is whose "my work" list a child appears in. The case number
(the district's own reference in its case system) ties the record to a person's case, so it
is sealed like the rest of the child's record. A staff member's work phone goes on the
consent form the district prints, so that a guardian knows whom to call.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import referral.db.encryption

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responsible_worker_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("case_number", referral.db.encryption.EncryptedText(), nullable=True)
        )
        batch_op.create_index(
            "ix_children_responsible_worker_id", ["responsible_worker_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_children_responsible_worker_id_users",
            "users",
            ["responsible_worker_id"],
            ["id"],
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_phone", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("work_phone")
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_constraint("fk_children_responsible_worker_id_users", type_="foreignkey")
        batch_op.drop_index("ix_children_responsible_worker_id")
        batch_op.drop_column("case_number")
        batch_op.drop_column("responsible_worker_id")
