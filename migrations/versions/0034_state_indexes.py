"""A partner's referrals, a district's interest registrations and the overdue concern reports
indexed with their state

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 12:30:00

A partner's inbox, its groups' waiting children and its start page read the partner's
referrals in given states (`partner_id = ? AND status IN (...)`), and a district's queue its
interest registrations received. SQLite keeps no statistics (ANALYZE is never run): with one
index on the partner and one on the status, it took the status's and read every referral in
that state in the city to show one partner's. The DPO's alert reads the open concern reports
past their deadline (`status = ? AND acknowledge_by <= ?`), and found every open report by
its status first. Found by tests/integration/test_query_plans.py, once it counted a search
by a state alone as a read that grows with use.

Each two-column index replaces the one on its first column alone, which it serves too (the
partner's, the district's, the report's status). CREATE and DROP INDEX only: no table is
copied.
"""

from __future__ import annotations

from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_referrals_partner_status", "referrals", ["partner_id", "status"])
    op.drop_index("ix_referrals_partner_id", table_name="referrals")
    op.create_index(
        "ix_interest_registrations_district_status",
        "interest_registrations",
        ["district_id", "status"],
    )
    op.drop_index(
        "ix_interest_registrations_district_id", table_name="interest_registrations"
    )
    op.create_index(
        "ix_concern_reports_status_acknowledge_by",
        "concern_reports",
        ["status", "acknowledge_by"],
    )
    op.drop_index("ix_concern_reports_status", table_name="concern_reports")


def downgrade() -> None:
    op.create_index("ix_concern_reports_status", "concern_reports", ["status"])
    op.drop_index("ix_concern_reports_status_acknowledge_by", table_name="concern_reports")
    op.create_index(
        "ix_interest_registrations_district_id", "interest_registrations", ["district_id"]
    )
    op.drop_index(
        "ix_interest_registrations_district_status", table_name="interest_registrations"
    )
    op.create_index("ix_referrals_partner_id", "referrals", ["partner_id"])
    op.drop_index("ix_referrals_partner_status", table_name="referrals")
