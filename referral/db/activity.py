"""Activity descriptions: what guardians are told about a programme run by a partner before
they decide on consent (domain.md §3, seed 004 §2.3). A consent record cites the version the
guardian received, so a published version never changes: a correction is a new version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow


class ActivityDescription(Base):
    """One published version of the information letter's text. Not personal data: the text
    describes the activity, and `published_by` is a staff user id (as `recorded_by` is)."""

    __tablename__ = "activity_descriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    programme: Mapped[str] = mapped_column(String(30))
    partner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The label a consent record cites (consents.description_version is as long).
    version: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64))

    # A label names one text per programme and partner (named by the naming convention).
    __table_args__ = (UniqueConstraint("programme", "partner_id", "version"),)


class ImmutableVersion(Exception):
    """Raised when code tries to change or delete a published description."""


@event.listens_for(ActivityDescription, "before_update")
def _refuse_update(_mapper: object, _connection: object, target: ActivityDescription) -> None:
    raise ImmutableVersion(f"activity description {target.id} is published and cannot change")


@event.listens_for(ActivityDescription, "before_delete")
def _refuse_delete(_mapper: object, _connection: object, target: ActivityDescription) -> None:
    raise ImmutableVersion(f"activity description {target.id} is published and cannot go away")
