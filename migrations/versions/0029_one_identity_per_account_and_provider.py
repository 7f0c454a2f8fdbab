"""One subject per account at each identity provider

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 10:00:00

Two callbacks spending the same invitation at the same moment could each link a subject to
the account; the database now refuses the second link for an account and provider.
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_links", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            op.f("uq_identity_links_provider_user_id"), ["provider", "user_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_identity_links_provider_user_id"), type_="unique")
