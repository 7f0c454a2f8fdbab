"""Complaints and suggestions (synpunkter och klagomål): what was written, the optional
contact and the response are sealed under a key of the complaint's own, and purged a
configured period (default two years) after the response. The clear columns the report
counts (programme, kind, category, channel, when received, when answered, the outcome) stay
on the stamped row, so the summary is the same before and after a purge. An unanswered
complaint is not purged: it waits for its response, like an unacknowledged concern report."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from config import Settings
from referral.clock import STOCKHOLM, local_day
from referral.db.complaints import Complaint, complaint_holder
from referral.db.uow import UnitOfWork
from referral.i18n import _l
from referral.services.gallring.residue import Residue
from referral.services.gallring.rule_base import PurgeRule, Unit, locked, stamp_purged


class ComplaintRule(PurgeRule):
    name = "complaint"
    programme = None
    anchor = Complaint
    label = _l("Complaints and suggestions: what was written, the contact and the response")
    help = _l(
        "IOP agreements (seed 000 §4.2, seed 002 §4.1) and GDPR art. 5.1 c and e: kept for the "
        "follow-up, then purged %(period)s after the response. Category, kind, dates and "
        "outcome stay for the report; an unanswered complaint waits for its response."
    )
    basis = (
        "Seed 000 §4.2, seed 002 §4.1, GDPR art. 5.1 c, e: REFERRAL_COMPLAINT_RETENTION_DAYS "
        "after the response; category, kind, dates and outcome stay for the report."
    )

    def retention(self, settings: Settings) -> dict[str, int]:
        return {"days": settings.complaint_retention_days}

    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        query = select(Complaint.id, Complaint.responded_on).where(
            Complaint.purged_at.is_(None), Complaint.responded_on.is_not(None)
        )
        if unit_ids is not None:
            query = query.where(Complaint.id.in_(unit_ids))
        days = timedelta(days=settings.complaint_retention_days)
        for complaint_id, responded_on in uow.session.execute(query):
            if responded_on is None:  # answered, by the query
                continue
            yield Unit(
                rule=self.name,
                unit_id=complaint_id,
                person_id=complaint_id,
                holders=(complaint_holder(complaint_id),),
                ended_at=datetime.combine(responded_on, time(), tzinfo=STOCKHOLM),
                due_on=responded_on + days,
            )

    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        return {
            unit.unit_id: Residue(
                programme=complaint.programme,
                period=local_day(complaint.received_at).strftime("%Y-%m"),
                outcome=complaint.outcome,
            )
            for unit, complaint in locked(uow, Complaint, units)
        }

    def stamp(self, uow: UnitOfWork, units: Sequence[Unit], now: datetime) -> None:
        stamp_purged(uow, Complaint, units, now)
