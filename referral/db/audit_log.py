"""The access log's tables: append-only entries (a trigger refuses UPDATE and DELETE), the
chain head that makes sequence numbers gapless, and the record of verification runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, Session, column_property, mapped_column

from audit.record import SealedDetails, Subject
from audit.tables import HASHED_FIELDS, SEQUENCE, define_tables
from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import (
    EncryptedRecord,
    EncryptedText,
    FieldValue,
    Sealed,
    personal,
    session_cipher,
)
from referral.scopes import KeyScope

# audit/ owns the tables' shape; they live on the application's metadata (and so in its
# migrations), with details sealed by the field cipher under a data key of the subject.
AUDIT_TABLES = define_tables(
    Base.metadata, details_type=EncryptedText(), data_key_column="data_keys.id"
)
__all__ = [
    "AUDIT_TABLES",
    "HASHED_FIELDS",
    "AuditEntry",
    "AuditHead",
    "AuditVerification",
    "seal_details",
]


class AuditEntry(EncryptedRecord, Base):
    """The application's view of an entry: its details readable through the field cipher
    (audit/ appends entries itself, through Core statements on the same table)."""

    __table__ = AUDIT_TABLES.entries

    sequence: Mapped[int]
    id: Mapped[str]
    occurred_at: Mapped[str]
    actor_id: Mapped[str | None]
    actor_name: Mapped[str | None]
    actor_organisation_id: Mapped[str | None]
    actor_roles: Mapped[str | None]
    action: Mapped[str]
    outcome: Mapped[str]
    object_type: Mapped[str | None]
    object_id: Mapped[str | None]
    subject_id: Mapped[str | None]
    subject_holder: Mapped[str | None]
    legal_basis: Mapped[str | None]
    request_id: Mapped[str | None]
    client_address: Mapped[str | None]
    _details: Mapped[FieldValue | None] = column_property(AUDIT_TABLES.entries.c.details)
    entry_hash: Mapped[bytes]
    link: Mapped[bytes]

    details = personal("_details")

    # Entries are never rewritten: re-encryption passes them by (see KeyScope.for_the_log).
    append_only = True

    def key_scope(self) -> KeyScope:
        if self.subject_id is None or self.subject_holder is None:
            raise ValueError("details are kept only for entries about a person")
        return KeyScope(person_id=self.subject_id, holder=self.subject_holder).for_the_log()


def seal_details(session: Session, entry_id: str, subject: Subject, details: str) -> SealedDetails:
    """audit/'s sealer: the details under the log's key for the subject (KeyScope.for_the_log),
    bound to the entry's table, column and id, exactly as a field of the entry's row."""
    entry = AuditEntry(id=entry_id, subject_id=subject.person_id, subject_holder=subject.holder)
    entry.details = details
    session_cipher(session).seal(session, entry)
    # The log's key for this subject may have been made just now: it must be in the
    # database before the entry refers to it.
    session.flush()
    sealed = entry._details
    assert isinstance(sealed, Sealed)
    return SealedDetails(stored=sealed, hashed=sealed.blob, data_key_id=entry.data_key_id)


class AuditHead(Base):
    """One row: the last sequence number and link (see audit.tables)."""

    __table__ = AUDIT_TABLES.head

    id: Mapped[int]
    sequence: Mapped[int]
    link: Mapped[bytes]
    head_mac: Mapped[bytes | None]


class AuditVerification(Base):
    """Each run of `flask audit verify` or the DPO's button, for the integrity status page."""

    __tablename__ = "audit_verifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    entries_checked: Mapped[int] = mapped_column(SEQUENCE)
    checkpoints_checked: Mapped[int] = mapped_column(Integer)
    first_bad_sequence: Mapped[int | None] = mapped_column(SEQUENCE)
    reason: Mapped[str | None] = mapped_column(String(300))
    verified_by: Mapped[str] = mapped_column(String(64))
