"""An index on the district of each consent record

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 01:10:00

A district's lapsing consents (/consents/expiring) are read by district, and without an
index that read went through every consent record of every district. Found by
tests/integration/test_query_plans.py, which fails on a read of a whole table in the main
pages and API calls.
"""

from __future__ import annotations

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_consents_district_id", "consents", ["district_id"])


def downgrade() -> None:
    op.drop_index("ix_consents_district_id", table_name="consents")
