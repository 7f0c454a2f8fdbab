"""Complaints and suggestions (synpunkter och klagomål, domain.md §6-7; seed 000 §4.2, seed
002 §4.1): a participant of a programme, or staff on their behalf, gives feedback; the
partner records the response and its date.

What is said (the text, an optional contact, the response) is sealed under a key of the
complaint's own, so a purge shreds it alone. What the steering group's report counts stays in
clear and survives the purge: programme, kind, category, channel, when it was received and
when it was answered, and the response's outcome. None of these names anyone.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.retention import Purgeable
from referral.scopes import KeyScope


def complaint_holder(complaint_id: str) -> str:
    return f"complaint:{complaint_id}"


class ComplaintKind(StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    PRAISE = "praise"


class ComplaintCategory(StrEnum):
    """What the feedback is about: the one list the form, the service and the report share.
    Drawn from what the agreements follow up: treatment, opening hours and accessibility and
    the distribution of places (seed 002), the activities' content, safety, premises and the
    information given to participants (seed 000 §4.2)."""

    TREATMENT = "treatment"  # bemötande
    ACCESSIBILITY = "accessibility"  # tillgänglighet, öppettider
    PLACES = "places"  # platser och fördelning (night places, group places)
    ACTIVITIES = "activities"  # aktiviteter, innehåll
    SAFETY = "safety"  # trygghet, säkerhet
    PREMISES = "premises"  # lokaler
    INFORMATION = "information"  # information
    OTHER = "other"  # övrigt


class ComplaintChannel(StrEnum):
    PUBLIC_FORM = "public_form"
    STAFF = "staff"  # staff on the participant's behalf


class ResponseOutcome(StrEnum):
    """What the response did, in clear for the statistics (the response itself is sealed)."""

    CHANGED = "changed"  # a measure was taken
    EXPLAINED = "explained"  # an explanation was given
    FORWARDED = "forwarded"  # passed on to the city or another body
    NOTED = "noted"  # noted, no measure


PROGRAMMES = ("A", "B", "C")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Complaint(Purgeable, EncryptedRecord, Base):
    __tablename__ = "complaints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    programme: Mapped[str] = mapped_column(String(1), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(12))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    # The staff member who recorded it on the participant's behalf; None from the public form.
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    # Nullable only for the purge (the text and the contact may name people).
    _text: Mapped[FieldValue | None] = mapped_column("text", EncryptedText())
    _contact: Mapped[FieldValue | None] = mapped_column("contact", EncryptedText())
    # The response: its date (as the partner gives it), when and by whom it was recorded,
    # its outcome (clear) and its text (sealed).
    responded_on: Mapped[date | None] = mapped_column(Date)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    responded_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(12))
    _response: Mapped[FieldValue | None] = mapped_column("response", EncryptedText())

    text = personal("_text")
    contact = personal("_contact")
    response = personal("_response")

    __table_args__ = (
        CheckConstraint(f"programme IN ({_in(PROGRAMMES)})", name="complaint_programme_known"),
        CheckConstraint(f"kind IN ({_in(tuple(ComplaintKind))})", name="complaint_kind_known"),
        CheckConstraint(
            f"category IN ({_in(tuple(ComplaintCategory))})", name="complaint_category_known"
        ),
        CheckConstraint(
            f"channel IN ({_in(tuple(ComplaintChannel))})", name="complaint_channel_known"
        ),
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({_in(tuple(ResponseOutcome))})",
            name="complaint_outcome_known",
        ),
        CheckConstraint(
            "(responded_on IS NULL) = (outcome IS NULL)", name="complaint_response_whole"
        ),
    )

    @property
    def answered(self) -> bool:
        return self.responded_on is not None

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.id, holder=complaint_holder(self.id))
