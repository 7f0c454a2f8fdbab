"""Programme B's figures for a period (outreach to unaccompanied youths and link cases).

From what a youth's purge leaves: encounters stay as anonymous counts with their clear age
band and gender (recorded for the follow-up, seed 000), link cases keep their authority and
outcome, findings their times, concern reports their filing and acknowledgement."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from referral.db.concern import ConcernReport, SubjectKind
from referral.db.outreach import Encounter, Finding, LinkCase, LinkStep, LinkStepKind, Youth
from referral.db.uow import UnitOfWork
from referral.services import kept_statistics as kept
from referral.services.reports.periods import Period

PROGRAMME = "B"
GENDERS = ("girl", "boy", "other", "unknown")
AGE_BANDS = ("under_15", "15_17", "18_20", "unknown")
OPEN = "open"


@dataclass
class FactsB:
    encounters_by_age: Counter[tuple[str, str]] = field(default_factory=Counter)
    encounters_by_place: Counter[tuple[str, str]] = field(default_factory=Counter)
    link_cases: Counter[tuple[str, str]] = field(default_factory=Counter)
    concern_filed: Counter[tuple[str, str]] = field(default_factory=Counter)
    hours_to_acknowledge: list[float] = field(default_factory=list)
    youths_by_age: Counter[tuple[str, str]] = field(default_factory=Counter)
    youths_by_country: Counter[tuple[str, str]] = field(default_factory=Counter)
    identified_encounters: int = 0
    findings: Counter[tuple[str, str]] = field(default_factory=Counter)
    hours_to_notification: list[float] = field(default_factory=list)

    @property
    def girls_met(self) -> int:
        return sum(n for (_band, gender), n in self.encounters_by_age.items() if gender == "girl")

    @property
    def encounters(self) -> int:
        return sum(self.encounters_by_age.values())


def _hours(delta: timedelta) -> float:
    return delta / timedelta(hours=1)


def collect(uow: UnitOfWork, period: Period) -> FactsB:
    db = uow.session
    facts = FactsB()
    for gender, age_band, place in db.execute(
        select(Encounter.gender, Encounter.age_band, Encounter.place).where(
            Encounter.occurred_on >= period.first_day, Encounter.occurred_on <= period.last_day
        )
    ):
        facts.encounters_by_age[(age_band or "unknown", gender or "unknown")] += 1
        facts.encounters_by_place[(place, gender or "unknown")] += 1
    _youths(uow, period, facts)
    # Link cases opened in the period: where to, and how they had ended when it did.
    cases = list(
        db.execute(
            select(LinkCase.id, LinkCase.authority, LinkCase.outcome).where(
                LinkCase.created_at >= period.starts_at, LinkCase.created_at < period.ends_at
            )
        )
    )
    closed_in_time = set(
        db.scalars(
            select(LinkStep.case_id).where(
                LinkStep.case_id.in_([case_id for case_id, _, _ in cases]),
                LinkStep.step == LinkStepKind.CLOSED.value,
                LinkStep.recorded_at < period.ends_at,
            )
        )
    )
    for case_id, authority, outcome in cases:
        ended = outcome if case_id in closed_in_time and outcome else OPEN
        facts.link_cases[(authority, ended)] += 1
    reports = {
        report.id: report
        for report in db.scalars(
            select(ConcernReport).where(ConcernReport.subject_kind == SubjectKind.YOUTH.value)
        )
    }
    for report in reports.values():
        if not (period.starts_at <= report.filed_at < period.ends_at):
            continue
        facts.concern_filed[("acknowledged" if report.acknowledged_at else "waiting", "count")] += 1
        if report.acknowledged_at is not None:
            facts.hours_to_acknowledge.append(_hours(report.acknowledged_at - report.filed_at))
    # A found youth: the wait ends when the district acknowledges the report that told it.
    for found_at, report_id in db.execute(
        select(Finding.found_at, Finding.concern_report_id).where(
            Finding.found_at >= period.starts_at, Finding.found_at < period.ends_at
        )
    ):
        told = reports.get(report_id) if report_id else None
        if told is not None and told.acknowledged_at is not None:
            facts.findings[("acknowledged", "count")] += 1
            facts.hours_to_notification.append(_hours(told.acknowledged_at - found_at))
        else:
            facts.findings[("waiting", "count")] += 1
    return facts


def _youths(uow: UnitOfWork, period: Period, facts: FactsB) -> None:
    """The youths met with their identity recorded in the period, and those encounters:
    the youths on record read here, those purged since from the counts their purge kept (a
    purged youth's encounters stay, anonymous, so the identified ones are told apart by the
    kept count)."""
    db = uow.session
    met = select(Encounter.youth_id).where(
        Encounter.youth_id.is_not(None),
        Encounter.occurred_on >= period.first_day,
        Encounter.occurred_on <= period.last_day,
    )
    youths = list(db.scalars(select(Youth).where(Youth.purged_at.is_(None), Youth.id.in_(met))))
    tallies = kept.youth_tallies_of(db, youths)
    for table, counts in (
        (kept.YOUTHS_BY_AGE, facts.youths_by_age),
        (kept.YOUTHS_BY_COUNTRY, facts.youths_by_country),
    ):
        counts.update(kept.live(tallies, period, table))
        counts.update(kept.kept(db, PROGRAMME, period, table))
    identified = kept.live(tallies, period, kept.IDENTIFIED_ENCOUNTERS)
    identified.update(kept.kept(db, PROGRAMME, period, kept.IDENTIFIED_ENCOUNTERS))
    facts.identified_encounters = identified[("identified", "count")]


def encounter_kinds(facts: FactsB) -> Counter[tuple[str, str]]:
    """The period's encounters, anonymous and identified (their sum is every encounter)."""
    return Counter(
        {
            ("identified", "count"): facts.identified_encounters,
            ("anonymous", "count"): facts.encounters - facts.identified_encounters,
        }
    )
