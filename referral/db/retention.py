"""Retention and purge (gallring, domain.md §5): what has been purged, the runs that purged
it, and the legal holds that stop a purge.

A purge record is what remains of a purged person-holder: which rule purged it, when, and
only what statistics need (programme, period, format, age band, gender, district, country of
origin), never identity. Its unique (rule, unit) pair is what makes a purge happen once, even
when two runs race for the same unit.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from referral.db.base import Base, UtcDateTime, new_id, utcnow
from referral.db.encryption import EncryptedRecord, EncryptedText, FieldValue, personal
from referral.scopes import KeyScope


def hold_holder(hold_id: str) -> str:
    return f"hold:{hold_id}"


class Purgeable:
    """Rows that outlive their person's purge as anonymous statistics: stamped, and then
    found by no list and opened by no one (services.loading.get_for answers 404)."""

    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PurgeRecord(Base):
    __tablename__ = "gallring_purges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    rule: Mapped[str] = mapped_column(String(30))
    # The unit the rule purges (a referral, a youth, an interest registration, a report).
    unit_id: Mapped[str] = mapped_column(String(36))
    # Pseudonymous: the person's id, meaningless once every key of theirs is gone.
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("gallring_runs.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    purged_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    keys_shredded: Mapped[int] = mapped_column(Integer)
    # What statistics keep (never identity): each optional, as the rule knows it.
    programme: Mapped[str | None] = mapped_column(String(30))
    period: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM of completion
    format: Mapped[str | None] = mapped_column(String(20))
    age_band: Mapped[str | None] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(10))
    district_id: Mapped[str | None] = mapped_column(String(36))
    country_of_origin: Mapped[str | None] = mapped_column(String(60))
    outcome: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (UniqueConstraint("rule", "unit_id", name="one_purge_per_unit"),)


class KeptCount(Base):
    """Counts that outlive the people they count: when a purge removes what links a person
    to a period (a night person's registrations, a youth's encounters), the report's
    tallies of that person for each published period are kept here first, in the purge's
    own transaction, so that the activity report (services.reports) is the same after the
    purge as before it. A count, never a person: no id of anyone is stored."""

    __tablename__ = "kept_counts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    programme: Mapped[str] = mapped_column(String(1))
    period: Mapped[str] = mapped_column(String(12))  # services.reports.periods.Period.key
    table_key: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str] = mapped_column(String(80))
    column_key: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer)
    kept_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (Index("ix_kept_counts_lookup", "programme", "period", "table_key"),)


class RunStatus:
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"  # killed half-way: the next run found it and finished its work


class GallringRun(Base):
    """One `flask gallring run` (or the page's button): a run killed half-way stays
    "running" with the count it reached; the next run finishes its work."""

    __tablename__ = "gallring_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    started_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=RunStatus.RUNNING)
    due: Mapped[int] = mapped_column(Integer, default=0)
    purged: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    # Files returned to social services (for participations that ended, due or not yet).
    returned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Units whose purge raised (rolled back and logged; the next run tries them again).
    failed: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'finished', 'interrupted')", name="run_status_known"
        ),
    )


class LegalHold(EncryptedRecord, Base):
    """A hold set by the DPO or an administrator, with a reason: while it stands, the unit is
    not purged. The reason may name the person (a supervisory case, a court), so it is sealed
    under a key of the hold's own."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    rule: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[str] = mapped_column(String(36), index=True)
    person_id: Mapped[str] = mapped_column(String(36))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Nullable only for the purge of the record it held (the reason may name the person).
    _reason: Mapped[FieldValue | None] = mapped_column("reason", EncryptedText())

    reason = personal("_reason")

    @property
    def live(self) -> bool:
        return self.released_at is None

    def key_scope(self) -> KeyScope:
        return KeyScope(person_id=self.person_id, holder=hold_holder(self.id))
