"""The people the service protects, as the district records them and as a partner's file
holds them. Every personal field is encrypted (referral.db.encryption)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.data_keys import KeyScope
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal


def district_holder(district_id: str) -> str:
    return f"district:{district_id}"


def partner_file_holder(file_id: str) -> str:
    return f"partner-file:{file_id}"


class Child(EncryptedRecord, Base):
    """The district's record of a child: kept under the district's own retention rules."""

    __tablename__ = "children"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    _personnummer: Mapped[FieldValue] = mapped_column("personnummer", EncryptedText())
    # Truncated HMAC of the personnummer: narrows a look-up to a few candidates, never one.
    personnummer_index: Mapped[int] = mapped_column(Integer, index=True)
    _name: Mapped[FieldValue] = mapped_column("name", EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    personnummer = personal("_personnummer", index="personnummer_index")
    name = personal("_name")

    @property
    def organisation_id(self) -> str:
        return self.district_id

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=district_holder(self.district_id))


class PartnerFile(EncryptedRecord, Base):
    """A partner's own documentation about one child. Purged (its key shredded) on
    completion, without touching the district's record."""

    __tablename__ = "partner_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    _notes: Mapped[FieldValue | None] = mapped_column("notes", EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    notes = personal("_notes")

    @property
    def organisation_id(self) -> str:
        return self.partner_id

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.child_id, holder=partner_file_holder(self.id))
