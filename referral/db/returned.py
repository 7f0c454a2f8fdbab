"""Files returned to social services (återlämnande, seed 004): before a partner's file on a
child is purged, what social services must keep of it (the participation, its attendance,
the concern reports filed) is delivered to the district's inbox as a signed,
self-contained document.

The document is part of the district's record of the child from then on: sealed under the
district's key for the child, so the partner's purge cannot touch it and the district's own
retention rules apply. The signature (Ed25519, over the exact JSON bytes) lets anyone holding
the public key check that the service produced it and that nothing was changed since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.people import district_holder
from referral.scopes import KeyScope


class ReturnedFile(EncryptedRecord, Base):
    __tablename__ = "returned_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), index=True)
    # One returned file per participation: a second purge attempt finds it and delivers
    # nothing twice.
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), unique=True)
    delivered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    # The signing key's id (audit.checkpoints.key_id_of) and the signature over the document.
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    _document: Mapped[FieldValue] = mapped_column("document", EncryptedText())

    document = personal("_document")  # the signed JSON, exactly as signed

    @property
    def organisation_id(self) -> str:
        """In the district's inbox: its social workers read and acknowledge it."""
        return self.district_id

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.child_id, holder=district_holder(self.district_id))
