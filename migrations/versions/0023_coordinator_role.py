"""The city's IOP coordinator role (governance reports and complaints)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 09:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

ROLES_BEFORE = (
    "role IN ('social_worker', 'group_leader', 'link_worker', 'social_emergency', "
    "'night_staff', 'night_coordinator', 'dpo', 'admin')"
)
ROLES_NOW = (
    "role IN ('social_worker', 'group_leader', 'link_worker', 'social_emergency', "
    "'night_staff', 'night_coordinator', 'coordinator', 'dpo', 'admin')"
)


def upgrade() -> None:
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role_known"))
        batch_op.create_check_constraint("role_known", ROLES_NOW)


def downgrade() -> None:
    op.execute("DELETE FROM user_roles WHERE role = 'coordinator'")
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role_known"))
        batch_op.create_check_constraint("role_known", ROLES_BEFORE)
