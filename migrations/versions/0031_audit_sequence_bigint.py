"""The access log's sequence numbers in 64 bits

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 21:50:00

A 32-bit sequence number ends at 2**31 entries: about six years at a million a day, after
which no entry could be appended and the service (which fails closed on the log) would stop.
PostgreSQL's columns become BIGINT; SQLite's INTEGER already holds 64 bits, so SQLite is left
alone (a batch alteration would copy the table and drop its append-only triggers).
Widening rewrites the table on PostgreSQL, which changes no value: the chain verifies after.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

COLUMNS = (
    ("audit_entries", "sequence"),
    ("audit_head", "sequence"),
    ("audit_verifications", "entries_checked"),
    ("audit_verifications", "first_bad_sequence"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
