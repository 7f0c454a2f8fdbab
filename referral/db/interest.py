"""Interest registrations (intresseanmälan): a family home asks a partner directly for a place
in a support group, and the partner records it for the responsible district to confirm.

Social services must be informed before participation starts (domain.md §2): the registration
reaches the district, and only the district's confirmation creates a referral, so nothing about
the child reaches the partner's groups except through the normal consent rules.

Until the district decides, the registration is the partner's own record of what the family
home told it. Its personal fields are sealed under a key of their own (holder
"interest:<id>"), so that the registration can be purged by shredding that one key without
touching the district's record of the child or any partner file.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.retention import Purgeable
from referral.scopes import KeyScope


class InterestStatus(StrEnum):
    RECEIVED = "received"  # waiting for the district
    CONFIRMED = "confirmed"  # the district created a referral from it
    DECLINED = "declined"  # the district will not refer the child


def interest_holder(registration_id: str) -> str:
    return f"interest:{registration_id}"


class InterestRegistration(Purgeable, EncryptedRecord, Base):
    __tablename__ = "interest_registrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    partner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The responsible district the family home names: whose social services must confirm.
    # Indexed with the status (below): a district's queue is its registrations received.
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    # The sealed fields are nullable only for the purge, which empties them once decided.
    _child_name: Mapped[FieldValue | None] = mapped_column("child_name", EncryptedText())
    _personnummer: Mapped[FieldValue | None] = mapped_column("personnummer", EncryptedText())
    # Truncated HMAC of the personnummer, as children.personnummer_index: narrows, never proves.
    personnummer_index: Mapped[int | None] = mapped_column(Integer, index=True)
    # How the district reaches the family home (names, phone, e-mail as the partner wrote it).
    _family_home_contact: Mapped[FieldValue | None] = mapped_column(
        "family_home_contact", EncryptedText()
    )
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))  # the group leader's user id
    status: Mapped[str] = mapped_column(String(20), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))  # the social worker's user id
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The referral the district created on confirming: the only way the child reaches a group.
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    child_name = personal("_child_name")
    personnummer = personal("_personnummer", index="personnummer_index")
    family_home_contact = personal("_family_home_contact")

    __table_args__ = (
        # A district's queue: by the district and the state together, not by the state alone
        # (SQLite, without statistics, took the status's index and read the city's queue).
        Index("ix_interest_registrations_district_status", "district_id", "status"),
        CheckConstraint("status IN ('received', 'confirmed', 'declined')", name="status_known"),
        # A confirmed registration always names the referral the district made from it. (The
        # converse, that a referral named here was confirmed, is checked before participation
        # starts: referral.services.groups.participation_start_refusals.)
        CheckConstraint(
            "status <> 'confirmed' OR referral_id IS NOT NULL", name="confirmed_has_referral"
        ),
    )

    @property
    def organisation_id(self) -> str:
        """The partner's record: the partner that took the family home's call."""
        return self.partner_id

    @property
    def district_organisation_id(self) -> str:
        """Addressed to the responsible district, whose social workers decide on it."""
        return self.district_id

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=interest_holder(self.id))
