"""Concern reports (orosanmälan): the duty to report concern that a child is being harmed
(14 kap. 1 § SoL 2001:453; 19 kap. 1 § in the new act), which no missing consent can block.

A report is a record of its own. Its text is sealed under a key of its own (holder
"concern:<id>"), tied to the child when the service knows the child, else to the report
itself: so the partner's purge, which shreds the partner's own keys, cannot touch it, and the
report stays with social services, the organisation it was sent to.

The subject is one of: a child the district records (Programme A), a youth an outreach
organisation records (Programme B), or a child known only from what the reporter saw (no
identity in the service: a first name or alias, an approximate age, the place, a
description).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.db.retention import Purgeable
from referral.scopes import KeyScope


class ConcernStatus(StrEnum):
    OPEN = "open"  # sent, not yet acknowledged by the receiving organisation
    ACKNOWLEDGED = "acknowledged"  # received (kvittens): who, when, their own reference
    CLOSED = "closed"  # the receiver has taken it into its own case handling


class SubjectKind(StrEnum):
    KNOWN_CHILD = "known_child"  # a child of a district's record (child_id)
    DESCRIBED = "described"  # known only from what the reporter knows: no identity here
    YOUTH = "youth"  # a youth of an outreach organisation's record (youth_id, Programme B)


class Routing(StrEnum):
    PLACING_DISTRICT = "placing_district"  # the district that records the child
    RESPONSIBLE_DISTRICT = "responsible_district"  # a youth's, as outreach knows or chose it
    NO_KNOWN_DISTRICT = "no_known_district"  # to the social emergency service (socialjouren)


def concern_holder(report_id: str) -> str:
    return f"concern:{report_id}"


class ConcernReport(Purgeable, EncryptedRecord, Base):
    __tablename__ = "concern_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(20))
    # The child, when the service knows who it is: the flag on the district's record.
    child_id: Mapped[str | None] = mapped_column(ForeignKey("children.id"), index=True)
    # The youth, when the report is about one met in outreach (a found child, Programme B).
    youth_id: Mapped[str | None] = mapped_column(ForeignKey("youths.id"), index=True)
    # The referral the report belongs to, when it was filed from one (else it stands alone).
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    reporter_organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    reported_by: Mapped[str] = mapped_column(String(64))  # the reporter's user id
    receiving_organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    routing: Mapped[str] = mapped_column(String(20))
    # Indexed with the deadline (below): the city's overdue reports are the open ones past it.
    status: Mapped[str] = mapped_column(String(20))
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # When an unacknowledged report turns overdue (fixed when it is filed).
    acknowledge_by: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))

    # Who the child is, as far as the reporter knows (all optional but one of them).
    _subject_name: Mapped[FieldValue | None] = mapped_column("subject_name", EncryptedText())
    _subject_personnummer: Mapped[FieldValue | None] = mapped_column(
        "subject_personnummer", EncryptedText()
    )
    _approximate_age: Mapped[FieldValue | None] = mapped_column("approximate_age", EncryptedText())
    _place: Mapped[FieldValue | None] = mapped_column("place", EncryptedText())
    _subject_description: Mapped[FieldValue | None] = mapped_column(
        "subject_description", EncryptedText()
    )
    # The concern itself.
    # Required by the service; nullable only for the purge (district rules, years later).
    _what_happened: Mapped[FieldValue | None] = mapped_column("what_happened", EncryptedText())
    _seen_or_said: Mapped[FieldValue | None] = mapped_column("seen_or_said", EncryptedText())
    _actions_taken: Mapped[FieldValue | None] = mapped_column("actions_taken", EncryptedText())
    _reporter_contact: Mapped[FieldValue | None] = mapped_column(
        "reporter_contact", EncryptedText()
    )
    # The receiver's own case reference, noted when acknowledging: never shown to the reporter.
    _case_reference: Mapped[FieldValue | None] = mapped_column("case_reference", EncryptedText())

    subject_name = personal("_subject_name")
    subject_personnummer = personal("_subject_personnummer")
    approximate_age = personal("_approximate_age")
    place = personal("_place")
    subject_description = personal("_subject_description")
    what_happened = personal("_what_happened")
    seen_or_said = personal("_seen_or_said")
    actions_taken = personal("_actions_taken")
    reporter_contact = personal("_reporter_contact")
    case_reference = personal("_case_reference")

    __table_args__ = (
        # The DPO's alert and the emergency service's list of overdue reports read the open
        # reports past their deadline, in its order: the index finds exactly those.
        Index("ix_concern_reports_status_acknowledge_by", "status", "acknowledge_by"),
        CheckConstraint(
            "status IN ('open', 'acknowledged', 'closed')", name="concern_status_known"
        ),
        CheckConstraint(
            "subject_kind IN ('known_child', 'described', 'youth')", name="concern_subject_known"
        ),
        CheckConstraint("(subject_kind = 'youth') = (youth_id IS NOT NULL)", name="youth_named"),
        CheckConstraint(
            "(subject_kind = 'known_child') = (child_id IS NOT NULL)", name="known_child_named"
        ),
        CheckConstraint(
            "status = 'open' OR acknowledged_at IS NOT NULL", name="acknowledged_has_time"
        ),
    )

    @property
    def holds_purge(self) -> bool:
        """An unacknowledged report is never purged (domain.md §5)."""
        return self.status == ConcernStatus.OPEN.value

    def key_scope(self) -> KeyScope:
        person = self.child_id or self.youth_id or self.id
        return KeyScope(person_id=person, holder=concern_holder(self.id))
