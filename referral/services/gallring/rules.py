"""What each record holder keeps, and for how long: one declaration per record type.

A purge rule names its units (one person's data under one holder: a partner's file on one
participation, one youth's outreach record…), when each one's retention ends, what statistics
keep of it, and what to delete beyond the generic erasure (services.gallring.erasure). The
engine (services.gallring.engine) asks every rule in RULES, so a record type that lands later
declares its rule here and is planned, held and purged like the others. A kept record (the
district's files on children placed in family homes, the access log) is declared in KEPT, so
the plan says why it stays.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel.speaklater import LazyString
from sqlalchemy import Row, Select, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from config import Settings
from referral.clock import local_day
from referral.db.audit_log import AuditEntry
from referral.db.base import chunks, one_of
from referral.db.concern import ConcernReport, ConcernStatus, SubjectKind, concern_holder
from referral.db.groups import Enrolment, Group
from referral.db.interest import InterestRegistration, InterestStatus, interest_holder
from referral.db.outreach import (
    DismissedPair,
    Encounter,
    Finding,
    LinkCase,
    LinkStep,
    LinkStepKind,
    Youth,
    YouthConsent,
    YouthLink,
    outreach_holder,
)
from referral.db.people import Child, PartnerFile, PartnerNote, partner_file_holder
from referral.db.referrals import Referral, ReferralEvent
from referral.db.retention import PurgeRecord
from referral.db.uow import UnitOfWork
from referral.i18n import _l
from referral.rules import Status, age_on
from referral.services.gallring.complaint_rules import ComplaintRule
from referral.services.gallring.night_rules import NightPersonRule, NightRunRule
from referral.services.gallring.residue import Residue, child_age_band, youth_age_band
from referral.services.gallring.rule_base import (
    PurgeRule,
    Unit,
    in_session,
    locked,
    not_purged,
    stamp_purged,
    years_later,
)
from referral.services.kept_statistics import Tally, youth_tallies_of
from referral.services.outreach import youth_age
from referral.services.returned_files import partner_reports, returned_referrals
from referral.services.sharing import birth_date_of

# --- Programme A: the partner's file on one participation ----------------------------------

# A referral's id, its child, when it was completed, its status, and when it last reached
# an end.
_Ended = tuple[str, str, datetime | None, str, datetime | None]
# A referral the partner has had: these are its ends (cancelled never reached the partner).
PARTICIPATION_ENDS = (Status.COMPLETED, Status.DECLINED, Status.WITHDRAWN)
_ENDED = [status.value for status in PARTICIPATION_ENDS]


class PartnerFileRule(PurgeRule):
    name = "partner_file"
    programme = "A"
    anchor = Referral
    label = _l("The partner's file on a participation (Programme A)")
    help = _l(
        "IOP agreement (seed 004): when the participation ends, the partner's documentation is "
        "purged or returned to social services. What social services must keep is returned to "
        "the district the night after the end; the partner's file is purged %(period)s after "
        "the end."
    )
    basis = (
        "IOP agreement (seed 004): when the participation ends the partner's documentation is "
        "purged or returned to social services; returned the night after the end, purged "
        "REFERRAL_PARTNER_RETENTION_DAYS after the end."
    )

    def _query(self, db: Session, unit_ids: Sequence[str] | None = None) -> Select[_Ended]:
        ending = select(ReferralEvent.referral_id, func.max(ReferralEvent.at).label("at")).where(
            ReferralEvent.to_status.in_(_ENDED)
        )
        if unit_ids is not None:  # units read afresh in their purge: their own events only
            ending = ending.where(one_of(db, ReferralEvent.referral_id, unit_ids))
        ended = ending.group_by(ReferralEvent.referral_id).subquery()
        query = select(
            Referral.id, Referral.child_id, Referral.completed_at, Referral.status, ended.c.at
        ).outerjoin(ended, ended.c.referral_id == Referral.id)
        if unit_ids is None:
            return query.where(Referral.status.in_(_ENDED), not_purged(self.name, Referral.id))
        # By id only, the status checked as the rows come (_from_rows): given both, SQLite
        # read every ended referral through the status index to find the batch's hundred.
        # Whether one was purged meanwhile is asked apart (_units).
        return query.where(one_of(db, Referral.id, unit_ids))

    def _from_rows(
        self, db: Session, rows: Sequence[Row[_Ended]], settings: Settings
    ) -> Iterator[Unit]:
        files: dict[str, list[str]] = {}
        for chunk in chunks([row.id for row in rows]):
            for referral_id, file_id in db.execute(
                select(PartnerFile.referral_id, PartnerFile.id).where(
                    one_of(db, PartnerFile.referral_id, chunk)
                )
            ):
                files.setdefault(str(referral_id), []).append(file_id)
        days = timedelta(days=settings.partner_retention_days)
        for row in rows:
            ended_at = row.completed_at or row.at
            if ended_at is None or row.status not in _ENDED:
                continue
            yield Unit(
                rule=self.name,
                unit_id=row.id,
                person_id=row.child_id,
                holders=tuple(partner_file_holder(f) for f in sorted(files.get(row.id, []))),
                ended_at=ended_at,
                due_on=local_day(ended_at) + days,
            )

    def retention(self, settings: Settings) -> dict[str, int]:
        return {"days": settings.partner_retention_days}

    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        db = uow.session
        rows = list(db.execute(self._query(db, unit_ids)))
        if unit_ids is not None:
            # Purged already, by a run racing this one: asked by id. As an anti-join in the
            # query, PostgreSQL's planner (its statistics saying the purge records are few)
            # compared each unit with every purge record of the run so far.
            purged = set(
                db.scalars(
                    select(PurgeRecord.unit_id).where(
                        PurgeRecord.rule == self.name, one_of(db, PurgeRecord.unit_id, unit_ids)
                    )
                )
            )
            rows = [row for row in rows if row.id not in purged]
        return self._from_rows(db, rows, settings)

    def _referrals(self, uow: UnitOfWork, units: Sequence[Unit]) -> list[Referral]:
        return [referral for _unit, referral in locked(uow, Referral, units)]

    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        db = uow.session
        referrals = {r.id: r for r in self._referrals(uow, units)}
        children = in_session(db, Child, {r.child_id for r in referrals.values()})
        formats: dict[str, str] = {}
        for chunk in chunks(list(referrals)):
            for referral_id, group_format in db.execute(
                select(Enrolment.referral_id, Group.format)
                .join(Group, Enrolment.group_id == Group.id)
                .where(one_of(db, Enrolment.referral_id, chunk))
            ):
                formats.setdefault(referral_id, group_format)
        found: dict[str, Residue] = {}
        for unit in units:
            referral = referrals[unit.unit_id]  # locked by the purge
            child = children[referral.child_id]  # a foreign key
            ended_on = local_day(unit.ended_at)
            found[unit.unit_id] = Residue(
                programme=referral.programme,
                period=ended_on.strftime("%Y-%m"),
                format=formats.get(referral.id) or referral.preferred_format,
                age_band=child_age_band(age_on(birth_date_of(child), ended_on)),
                gender=child.gender,
                district_id=referral.district_id,
                outcome=referral.status,
            )
        return found

    def needing_return(self, uow: UnitOfWork, units: Sequence[Unit]) -> set[str]:
        """A participation that began (an enrolment), or one a concern report was filed from:
        social services keep its summary, attendance and reports. A referral declined or
        withdrawn before any of that leaves nothing to return."""
        referrals = self._referrals(uow, units)
        reported = partner_reports(uow, referrals)
        needing = {referral_id for referral_id, found in reported.items() if found}
        for chunk in chunks([unit.unit_id for unit in units]):
            needing.update(
                uow.session.scalars(
                    select(Enrolment.referral_id).where(
                        one_of(uow.session, Enrolment.referral_id, chunk)
                    )
                )
            )
        return needing

    def unreturned(self, uow: UnitOfWork, units: Sequence[Unit]) -> list[Unit]:
        returned = returned_referrals(uow, [unit.unit_id for unit in units])
        return [unit for unit in units if unit.unit_id not in returned]

    def remove(self, uow: UnitOfWork, units: Sequence[Unit]) -> None:
        db = uow.session
        for chunk in chunks([unit.unit_id for unit in units]):
            files = select(PartnerFile.id).where(one_of(db, PartnerFile.referral_id, chunk))
            db.execute(delete(PartnerNote).where(PartnerNote.file_id.in_(files)))
            db.execute(delete(PartnerFile).where(one_of(db, PartnerFile.referral_id, chunk)))


# --- Programme A: interest registrations -----------------------------------------------------


class InterestRule(PurgeRule):
    name = "interest"
    programme = "A"
    anchor = InterestRegistration
    label = _l("Interest registrations (Programme A)")
    help = _l(
        "GDPR art. 5.1 c and e: the partner's note of a family home's call is kept only until "
        "the district has decided. Purged %(period)s after the decision."
    )
    basis = (
        "GDPR art. 5.1 c, e: the partner's note of a family home's call is kept only until the "
        "district has decided; REFERRAL_INTEREST_RETENTION_DAYS after the decision."
    )

    def _rows(self, uow: UnitOfWork, unit_ids: Sequence[str] | None) -> list[InterestRegistration]:
        decided = [InterestStatus.CONFIRMED.value, InterestStatus.DECLINED.value]
        query = select(InterestRegistration).where(
            InterestRegistration.decided_at.is_not(None),
            InterestRegistration.purged_at.is_(None),
        )
        if unit_ids is None:
            return list(uow.session.scalars(query.where(InterestRegistration.status.in_(decided))))
        # By id, the status checked here: given both, SQLite reads every decided registration
        # through the status index to find the batch's (as PartnerFileRule._query).
        query = query.where(one_of(uow.session, InterestRegistration.id, unit_ids))
        return [row for row in uow.session.scalars(query) if row.status in decided]

    def _unit(self, row: InterestRegistration, settings: Settings) -> Unit:
        assert row.decided_at is not None
        return Unit(
            rule=self.name,
            unit_id=row.id,
            person_id=row.id,
            holders=(interest_holder(row.id),),
            ended_at=row.decided_at,
            due_on=local_day(row.decided_at) + timedelta(days=settings.interest_retention_days),
        )

    def retention(self, settings: Settings) -> dict[str, int]:
        return {"days": settings.interest_retention_days}

    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        return (self._unit(row, settings) for row in self._rows(uow, unit_ids))

    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        found: dict[str, Residue] = {}
        for unit, row in locked(uow, InterestRegistration, units):
            found[unit.unit_id] = Residue(
                programme=self.programme,
                period=local_day(unit.ended_at).strftime("%Y-%m"),
                district_id=row.district_id,
                outcome=row.status,
            )
        return found

    def stamp(self, uow: UnitOfWork, units: Sequence[Unit], now: datetime) -> None:
        stamp_purged(uow, InterestRegistration, units, now)


# --- Programme B: an outreach organisation's record of a youth ------------------------------


# Every time something is recorded about a youth: an encounter (made, or linked later), a
# finding, a consent given or revoked, a concern report filed, acknowledged or closed.
_YOUTH_ENTRIES: tuple[tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]], ...] = (
    (Encounter.youth_id, Encounter.created_at),
    (Encounter.youth_id, Encounter.linked_at),
    (Finding.youth_id, Finding.found_at),
    (YouthConsent.youth_id, YouthConsent.recorded_at),
    (YouthConsent.youth_id, YouthConsent.revoked_at),
    (ConcernReport.youth_id, ConcernReport.filed_at),
    (ConcernReport.youth_id, ConcernReport.acknowledged_at),
    (ConcernReport.youth_id, ConcernReport.closed_at),
)


class YouthRule(PurgeRule):
    name = "outreach_youth"
    programme = "B"
    anchor = Youth
    label = _l("Outreach records of youths (Programme B)")
    help = _l(
        "IOP agreement (seed 003), GDPR art. 5.1 e: purged %(period)s after the last entry, "
        "once no link case is open and no consent runs. Encounters stay as anonymous counts."
    )
    basis = (
        "IOP agreement (seed 003), GDPR art. 5.1 e: once no link case is open and no consent "
        "runs, REFERRAL_OUTREACH_RETENTION_DAYS after the last entry; encounters stay as "
        "anonymous counts."
    )

    def _candidates(
        self, uow: UnitOfWork, today: date, unit_ids: Sequence[str] | None
    ) -> list[Youth]:
        open_case = (
            select(LinkCase.id)
            .where(LinkCase.youth_id == Youth.id, LinkCase.step != LinkStepKind.CLOSED.value)
            .exists()
        )
        live_consent = (
            select(YouthConsent.id)
            .where(
                YouthConsent.youth_id == Youth.id,
                YouthConsent.revoked_at.is_(None),
                YouthConsent.valid_until >= today,
            )
            .exists()
        )
        query = select(Youth).where(Youth.purged_at.is_(None), ~open_case, ~live_consent)
        if unit_ids is not None:
            query = query.where(one_of(uow.session, Youth.id, unit_ids))
        return list(uow.session.scalars(query))

    def _last_entries(self, db: Session, ids: list[str]) -> dict[str, datetime]:
        """The last thing recorded about each youth beyond its registration (_YOUTH_ENTRIES,
        and the steps of its link cases)."""
        last: dict[str, datetime] = {}

        def later(youth_id: str, moment: datetime | None) -> None:
            if moment is not None and (youth_id not in last or moment > last[youth_id]):
                last[youth_id] = moment

        for chunk in chunks(ids):
            for youth_column, moment_column in _YOUTH_ENTRIES:
                for youth_id, moment in db.execute(
                    select(youth_column, func.max(moment_column))
                    .where(one_of(db, youth_column, chunk))
                    .group_by(youth_column)
                ):
                    later(str(youth_id), moment)
            for youth_id, moment in db.execute(
                select(LinkCase.youth_id, func.max(LinkStep.recorded_at))
                .join(LinkStep, LinkStep.case_id == LinkCase.id)
                .where(one_of(db, LinkCase.youth_id, chunk))
                .group_by(LinkCase.youth_id)
            ):
                later(youth_id, moment)
        return last

    def _make(self, uow: UnitOfWork, settings: Settings, youths: list[Youth]) -> Iterator[Unit]:
        last = self._last_entries(uow.session, [y.id for y in youths])
        days = timedelta(days=settings.outreach_retention_days)
        for youth in youths:
            ended_at = max(youth.created_at, last.get(youth.id, youth.created_at))
            yield Unit(
                rule=self.name,
                unit_id=youth.id,
                person_id=youth.id,
                holders=(outreach_holder(youth.organisation_id),),
                ended_at=ended_at,
                due_on=local_day(ended_at) + days,
            )

    def retention(self, settings: Settings) -> dict[str, int]:
        return {"days": settings.outreach_retention_days}

    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        return self._make(uow, settings, self._candidates(uow, today, unit_ids))

    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        found: dict[str, Residue] = {}
        for unit, youth in locked(uow, Youth, units):
            ended_on = local_day(unit.ended_at)
            known_age = youth.birth_date or youth.birth_year
            found[unit.unit_id] = Residue(
                programme=self.programme,
                period=ended_on.strftime("%Y-%m"),
                age_band=youth_age_band(youth_age(youth, ended_on) if known_age else None),
                gender=youth.gender,
                district_id=youth.district_id,
                country_of_origin=youth.country_of_origin,
            )
        return found

    def kept_tallies(self, uow: UnitOfWork, units: Sequence[Unit]) -> list[Tally]:
        # Which encounters were the youth's goes below: the report's tallies of it stay.
        return youth_tallies_of(uow.session, [youth for _, youth in locked(uow, Youth, units)])

    def remove(self, uow: UnitOfWork, units: Sequence[Unit]) -> None:
        # The encounters become anonymous counts (who was met where and when is about the
        # youth); which records were judged to be one youth is about identity: it goes.
        db = uow.session
        for ids in chunks([unit.unit_id for unit in units]):
            db.execute(
                update(Encounter)
                .where(one_of(db, Encounter.youth_id, ids))
                .values(youth_id=None, linked_by=None, linked_at=None)
            )
            either = or_(one_of(db, YouthLink.first_id, ids), one_of(db, YouthLink.second_id, ids))
            db.execute(delete(YouthLink).where(either))
            db.execute(
                delete(DismissedPair).where(
                    or_(
                        one_of(db, DismissedPair.first_id, ids),
                        one_of(db, DismissedPair.second_id, ids),
                    )
                )
            )

    def stamp(self, uow: UnitOfWork, units: Sequence[Unit], now: datetime) -> None:
        stamp_purged(uow, Youth, units, now)


# --- Concern reports: the receiver's record -------------------------------------------------


class ConcernReportRule(PurgeRule):
    name = "concern_report"
    programme = None
    anchor = ConcernReport
    label = _l("Concern reports received by social services")
    help = _l(
        "SoL 12 kap. 1 §: purged with the case file %(period)s after the last entry; a "
        "report about a child placed in a family home is kept (12 kap. 2 §); an "
        "unacknowledged report is never purged."
    )
    basis = (
        "SoL 12 kap. 1 §: a report social services received is purged with its case file, "
        "REFERRAL_DISTRICT_RETENTION_YEARS after the last entry; a report about a child placed "
        "in a family home is kept (12 kap. 2 §); an unacknowledged one is never purged."
    )

    def _rows(self, uow: UnitOfWork, unit_ids: Sequence[str] | None) -> list[ConcernReport]:
        query = select(ConcernReport).where(
            ConcernReport.status != ConcernStatus.OPEN.value,
            ConcernReport.subject_kind != SubjectKind.KNOWN_CHILD.value,
            ConcernReport.purged_at.is_(None),
        )
        if unit_ids is not None:
            query = query.where(one_of(uow.session, ConcernReport.id, unit_ids))
        return list(uow.session.scalars(query))

    def _unit(self, report: ConcernReport, settings: Settings) -> Unit:
        last = report.closed_at or report.acknowledged_at or report.filed_at
        return Unit(
            rule=self.name,
            unit_id=report.id,
            person_id=report.key_scope().person_id,
            holders=(concern_holder(report.id),),
            ended_at=last,
            due_on=years_later(local_day(last), settings.district_retention_years),
        )

    def retention(self, settings: Settings) -> dict[str, int]:
        return {"years": settings.district_retention_years}

    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        return (self._unit(row, settings) for row in self._rows(uow, unit_ids))

    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        return {
            unit.unit_id: Residue(
                programme="B" if report.subject_kind == SubjectKind.YOUTH.value else None,
                period=local_day(report.filed_at).strftime("%Y-%m"),
                district_id=report.receiving_organisation_id,
                outcome=report.status,
            )
            for unit, report in locked(uow, ConcernReport, units)
        }

    def stamp(self, uow: UnitOfWork, units: Sequence[Unit], now: datetime) -> None:
        stamp_purged(uow, ConcernReport, units, now)


RULES: tuple[PurgeRule, ...] = (
    PartnerFileRule(),
    InterestRule(),
    YouthRule(),
    ConcernReportRule(),
    NightPersonRule(),
    NightRunRule(),
    ComplaintRule(),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}


# --- What is kept, and why ---------------------------------------------------------------


@dataclass(frozen=True)
class KeptRecord:
    name: str
    basis: str  # in English, as the plan command prints it
    count: int
    label: LazyString  # the page's name for it, and its basis there
    help: LazyString


def kept_records(uow: UnitOfWork) -> list[KeptRecord]:
    """The records no rule purges, counted, with the reason they stay."""
    db = uow.session
    children = db.scalar(select(func.count()).select_from(Child)) or 0
    family_home_reports = (
        db.scalar(
            select(func.count())
            .select_from(ConcernReport)
            .where(ConcernReport.subject_kind == SubjectKind.KNOWN_CHILD.value)
        )
        or 0
    )
    encounters = (
        db.scalar(select(func.count()).select_from(Encounter).where(Encounter.youth_id.is_(None)))
        or 0
    )
    entries = db.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return [
        KeptRecord(
            "district_record",
            "SoL 12 kap. 2 §: the district's files on children placed in family homes are kept "
            "(the district's own rule; the partner's purge never touches them).",
            children,
            _l("The districts' records of children placed in family homes"),
            _l(
                "SoL 12 kap. 2 §: kept. The district's own rule; the partner's purge never "
                "touches it."
            ),
        ),
        KeptRecord(
            "family_home_concern_reports",
            "SoL 12 kap. 2 §: a concern report about a child placed in a family home is part "
            "of the child's file, which is kept.",
            family_home_reports,
            _l("Concern reports about children placed in family homes"),
            _l("SoL 12 kap. 2 §: part of the child's file, which is kept."),
        ),
        KeptRecord(
            "anonymous_encounters",
            "Seed 003 follow-up: anonymous encounters hold no identity and are kept as counts.",
            encounters,
            _l("Anonymous encounters (counts only)"),
            _l("They name no one: kept as counts for the follow-up."),
        ),
        KeptRecord(
            "access_log",
            "Kept longer than the data it describes, pseudonymous: its sealed details die with "
            "the subject's keys (domain.md §5).",
            entries,
            _l("The access log (pseudonymous)"),
            _l(
                "Kept longer than the data it describes; its sealed details die with the "
                "person's keys."
            ),
        ),
    ]
