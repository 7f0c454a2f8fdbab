"""Referrals (anmälan) of a child to a partner's support groups, with their status history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.people import district_holder
from referral.scopes import KeyScope


class Referral(EncryptedRecord, Base):
    __tablename__ = "referrals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), index=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Indexed with the status (below): a partner's referrals are read by their state.
    partner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    programme: Mapped[str] = mapped_column(String(30))
    preferred_format: Mapped[str] = mapped_column(String(20))
    referred_by: Mapped[str] = mapped_column(String(64))
    # The social worker's notes: relevant facts only, for the district's eyes, never shared.
    _notes: Mapped[FieldValue | None] = mapped_column("notes", EncryptedText())
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # When the child's participation was completed: starts the partner-side retention clock.
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    notes = personal("_notes")
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.at", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # A partner's referrals in a state (its inbox, those waiting for a group): by the
        # partner and the state together. SQLite keeps no statistics, so with one index on
        # each it took the status's and read the state's referrals of the whole city.
        Index("ix_referrals_partner_status", "partner_id", "status"),
    )

    @property
    def organisation_id(self) -> str:
        return self.district_id

    @property
    def partner_organisation_id(self) -> str:
        return self.partner_id

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.child_id, holder=district_holder(self.district_id))


class ReferralEvent(Base):
    """One step of a referral's life: who moved it, from what, to what, and when."""

    __tablename__ = "referral_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="events")
