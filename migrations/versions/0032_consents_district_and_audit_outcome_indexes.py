"""Indexes on the district of each consent record and on the access log's outcome

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 01:10:00

A district's lapsing consents (/consents/expiring) are read by district, and without an
index that read went through every consent record of every district. The DPO's search for
refusals (outcome "denied", with no other filter) read the access log from its newest entry
back until a page was found, which for the rare refusals is the whole log. Both were found by
tests/integration/test_query_plans.py, which fails on a read of a whole table in the main
pages and API calls.

CREATE INDEX only: neither table is copied, so the access log keeps its append-only
triggers and every entry its place in the chain.
"""

from __future__ import annotations

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_consents_district_id", "consents", ["district_id"])
    op.create_index("ix_audit_entries_outcome_sequence", "audit_entries", ["outcome", "sequence"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_outcome_sequence", table_name="audit_entries")
    op.drop_index("ix_consents_district_id", table_name="consents")
