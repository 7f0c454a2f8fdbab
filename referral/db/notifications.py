"""Notices to an organisation about a referral (or an interest registration): the partner is
told when participation must stop, the district when the partner answers. A notice holds no
personal data, only what happened to which record; the page links to where the lawful viewer
can read more."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow


class NoticeKind(StrEnum):
    NEW_REFERRAL = "new_referral"  # to the partner: a referral may now be seen
    PARTICIPATION_MUST_STOP = "participation_must_stop"  # to the partner: access is gone
    REFERRAL_ACCEPTED = "referral_accepted"  # to the district
    REFERRAL_DECLINED = "referral_declined"  # to the district
    # To the district, which arranges the child's travel: placed in which group, from when to
    # when; and the day the group started.
    CHILD_PLACED = "child_placed"
    GROUP_STARTED = "group_started"
    # About an interest registration (intresseanmälan) rather than a referral:
    INTEREST_REGISTERED = "interest_registered"  # to the district: confirm or decline it
    INTEREST_CONFIRMED = "interest_confirmed"  # to the partner: a referral follows
    INTEREST_DECLINED = "interest_declined"  # to the partner


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # A notice is about exactly one record: a referral, or an interest registration.
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    interest_id: Mapped[str | None] = mapped_column(
        ForeignKey("interest_registrations.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("(referral_id IS NULL) <> (interest_id IS NULL)", name="about_one_record"),
    )
