"""The access log's tables: append-only entries (a trigger refuses UPDATE and DELETE), the
chain head that makes sequence numbers gapless, and the record of verification runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.data_keys import KeyScope
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal

# The entry fields the chain hashes, in one place: record() and verify() both use it.
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


class AuditEntry(EncryptedRecord, Base):
    __tablename__ = "audit_entries"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    # ISO-8601 UTC with microseconds and 'Z': hashed exactly as stored, and sortable as text.
    occurred_at: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(64))  # a login name, never a client's
    actor_organisation_id: Mapped[str | None] = mapped_column(String(36))
    actor_roles: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    # The person concerned, by pseudonymous id only, and whose record it was.
    subject_id: Mapped[str | None] = mapped_column(String(36))
    subject_holder: Mapped[str | None] = mapped_column(String(80))
    legal_basis: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    # Purpose and other details that could identify someone: sealed under the subject's key,
    # so purging the subject's record makes them unreadable while the chain still verifies.
    _details: Mapped[FieldValue | None] = mapped_column("details", EncryptedText())
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary)
    link: Mapped[bytes] = mapped_column(LargeBinary)

    details = personal("_details")

    __table_args__ = (
        Index("ix_audit_entries_subject_sequence", "subject_id", "sequence"),
        Index("ix_audit_entries_actor_sequence", "actor_id", "sequence"),
        Index("ix_audit_entries_actor_name_sequence", "actor_name", "sequence"),
        Index("ix_audit_entries_organisation_sequence", "actor_organisation_id", "sequence"),
        Index("ix_audit_entries_action_sequence", "action", "sequence"),
    )

    # Entries are never rewritten: re-encryption passes them by (see KeyScope.for_the_log).
    append_only = True

    def key_scope(self) -> KeyScope:
        if self.subject_id is None or self.subject_holder is None:
            raise ValueError("details are kept only for entries about a person")
        return KeyScope(person_id=self.subject_id, holder=self.subject_holder).for_the_log()


class AuditHead(Base):
    """One row: the last sequence number and link. Appending locks it, which is what keeps
    the sequence gapless and the chain linear when several requests write at once."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    link: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC(audit key, "head" || sequence || link): without the audit key the head cannot be
    # moved back to an earlier entry, so deleting the newest entries shows (audit.chain).
    head_mac: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditVerification(Base):
    """Each run of `flask audit verify` or the DPO's button, for the integrity status page."""

    __tablename__ = "audit_verifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    entries_checked: Mapped[int] = mapped_column(Integer)
    checkpoints_checked: Mapped[int] = mapped_column(Integer)
    first_bad_sequence: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))
    verified_by: Mapped[str] = mapped_column(String(64))
