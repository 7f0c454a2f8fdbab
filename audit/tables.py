"""The access log's tables, declared on the metadata the application hands in.

audit/ owns their shape; the application decides where they live (its metadata, hence its
migrations) and what the sealed `details` column and the key it refers to are: the log only
needs to know that details are stored sealed and that the chain hashes the sealed bytes.

- `audit_entries`: append-only (the application's migrations add triggers that refuse UPDATE
  and DELETE); the primary key is the gapless sequence number.
- `audit_head`: one row, the last sequence number and link, and a MAC over both. Appending
  updates it first, which locks it until commit: that keeps the chain linear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)
from sqlalchemy.types import TypeEngine

# A sequence number: 64 bits, as a log of a million entries a day passes 2**31 in six years.
# SQLite's INTEGER is already 64 bits (and a primary key declared BIGINT would not be its
# rowid), so only other databases get BIGINT.
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")
# The largest sequence number either database holds: a page boundary past it is refused
# (PostgreSQL could not even compare it with the column).
MAX_SEQUENCE = 2**63 - 1

# The entry fields the chain hashes, in this order: record() and verification both use it.
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_organisation_id",
    "actor_roles",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "subject_id",
    "subject_holder",
    "legal_basis",
    "request_id",
    "client_address",
    "details",
)
ENTRIES = "audit_entries"
HEAD = "audit_head"
HEAD_ROW_ID = 1


@dataclass(frozen=True)
class AuditTables:
    entries: Table
    head: Table


def define_tables(
    metadata: MetaData,
    *,
    details_type: TypeEngine[Any] | None = None,
    data_key_column: str | None = None,
) -> AuditTables:
    """Declare the log's tables on `metadata`. `details_type` is the sealed column's type
    (LargeBinary unless the application seals through a type of its own); `data_key_column`
    ("table.column") is the data key that sealed an entry's details, when keys are rows."""
    key_reference = [ForeignKey(data_key_column)] if data_key_column else []
    entries = Table(
        ENTRIES,
        metadata,
        Column("sequence", SEQUENCE, primary_key=True, autoincrement=False),
        Column("id", String(36), unique=True, nullable=False),
        # ISO-8601 UTC with microseconds and 'Z': hashed exactly as stored, sortable as text.
        Column("occurred_at", String(32), index=True, nullable=False),
        Column("actor_id", String(64)),
        Column("actor_name", String(64)),  # a login name, never a client's
        Column("actor_organisation_id", String(36)),
        Column("actor_roles", String(120)),
        Column("action", String(40), nullable=False),
        Column("outcome", String(10), nullable=False),
        Column("object_type", String(40)),
        Column("object_id", String(64)),
        # The person concerned, by pseudonymous id only, and whose record it was.
        Column("subject_id", String(36)),
        Column("subject_holder", String(80)),
        Column("legal_basis", String(40)),
        Column("request_id", String(64)),
        Column("client_address", String(64)),
        # Purpose and other details that could identify someone, sealed under the subject's
        # key: purging the subject's record makes them unreadable while the chain verifies.
        Column("details", details_type if details_type is not None else LargeBinary()),
        Column("entry_hash", LargeBinary, nullable=False),
        Column("link", LargeBinary, nullable=False),
        Column("data_key_id", String(36), *key_reference, index=True),
        Index("ix_audit_entries_subject_sequence", "subject_id", "sequence"),
        Index("ix_audit_entries_actor_sequence", "actor_id", "sequence"),
        Index("ix_audit_entries_actor_name_sequence", "actor_name", "sequence"),
        Index("ix_audit_entries_organisation_sequence", "actor_organisation_id", "sequence"),
        Index("ix_audit_entries_action_sequence", "action", "sequence"),
        # The DPO's search for refusals, newest first (migration 0032).
        Index("ix_audit_entries_outcome_sequence", "outcome", "sequence"),
    )
    head = Table(
        HEAD,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sequence", SEQUENCE, nullable=False, default=0),
        Column("link", LargeBinary, nullable=False),
        # HMAC(audit key, "head" || sequence || link): without the audit key the head cannot
        # be moved back to an earlier entry, so deleting the newest entries shows.
        Column("head_mac", LargeBinary),
    )
    return AuditTables(entries=entries, head=head)
