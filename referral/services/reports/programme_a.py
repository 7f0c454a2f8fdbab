"""Programme A's figures for a period (support groups for children placed in family homes).

Built only from what the partner-file purge leaves: the referrals and their events, the
groups, enrolments and attendance, the consent decisions and the concern reports stay, and
so does the district's record of each child (kept: SoL 12 kap. 2 §). A child's gender and
age band are read from that record, inside the service: no child's data leaves it, only the
counts (producing the report is one access-log entry).

Each count is of an event in the period (a referral sent, a child placed, a consent
decided), and a status is the one the referral had when the period ended, so a past
period's report does not drift as cases move on."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from referral.clock import local_day
from referral.db.concern import ConcernReport
from referral.db.encryption import session_cipher
from referral.db.groups import Attendance, Enrolment, Group, GroupSession
from referral.db.models import Organisation
from referral.db.people import Child, ConsentRecord
from referral.db.referrals import Referral, ReferralEvent
from referral.db.uow import UnitOfWork
from referral.rules import Decision, Status, age_on
from referral.services.age_bands import child_age_band
from referral.services.referrals import PROGRAMME as REFERRAL_PROGRAMME
from referral.services.reports.periods import Period
from referral.services.sharing import birth_date_of

# Every referral is to Programme A's support groups (services.referrals.PROGRAMME).
PROGRAMME = REFERRAL_PROGRAMME
GENDERS = ("girl", "boy", "other", "unknown")
AGE_BANDS = ("7_9", "10_12", "13_15", "16_18")
# A place that was taken: the child was placed in a group.
PLACED = Status.PLACED.value
LAPSED = "lapsed"
CONSENT_OUTCOMES = (Decision.GIVEN.value, Decision.REFUSED.value, Decision.WITHDRAWN.value, LAPSED)
GROUP_SIZES = ("under_5", "5_8", "over_8")


@dataclass
class Profile:
    gender: str
    age_band: str


@dataclass
class FactsA:
    """Counts keyed by (row, column), and the raw figures the headlines are computed from."""

    referrals_by_status: Counter[tuple[str, str]] = field(default_factory=Counter)
    placed_by_age: Counter[tuple[str, str]] = field(default_factory=Counter)
    placed_by_district: Counter[tuple[str, str]] = field(default_factory=Counter)
    groups_by_format: Counter[tuple[str, str]] = field(default_factory=Counter)
    consents: Counter[tuple[str, str]] = field(default_factory=Counter)
    concern_filed: Counter[tuple[str, str]] = field(default_factory=Counter)
    attendance_present: int = 0
    attendance_marked: int = 0
    attending_children: int = 0
    hours_to_acknowledge: list[float] = field(default_factory=list)
    districts: dict[str, str] = field(default_factory=dict)  # id → name

    @property
    def girls_placed(self) -> int:
        return sum(n for (_band, gender), n in self.placed_by_age.items() if gender == "girl")

    @property
    def children_placed(self) -> int:
        return sum(self.placed_by_age.values())


def in_order(history: list[ReferralEvent]) -> list[ReferralEvent]:
    """A referral's steps in the order taken: each step leaves the status the one before
    reached. (Steps taken in one moment share a timestamp, and ids are random.)"""
    by_origin: dict[str | None, list[ReferralEvent]] = defaultdict(list)
    for event in sorted(history, key=lambda e: e.at):
        by_origin[event.from_status].append(event)
    ordered: list[ReferralEvent] = []
    status: str | None = None
    while by_origin.get(status):
        step = by_origin[status].pop(0)
        ordered.append(step)
        status = step.to_status
    return ordered


def _in(period: Period, moment: datetime) -> bool:
    return period.starts_at <= moment < period.ends_at


def _profiles(uow: UnitOfWork, *days: dict[str, datetime]) -> list[dict[str, Profile]]:
    """For each map of child → moment, each child's gender and age band on that moment's
    day (the district's record, read in the service): the children of all the maps read,
    and their keys loaded, once."""
    db = uow.session
    wanted = sorted({child_id for on in days for child_id in on})
    children = {c.id: c for c in db.scalars(select(Child).where(Child.id.in_(wanted)))}
    session_cipher(db).keys.load_many(db, (child.data_key_id for child in children.values()))
    return [
        {
            child_id: Profile(
                gender=children[child_id].gender or "unknown",
                age_band=child_age_band(
                    age_on(birth_date_of(children[child_id]), local_day(moment))
                ),
            )
            for child_id, moment in on.items()
        }
        for on in days
    ]


def collect(uow: UnitOfWork, period: Period) -> FactsA:
    db = uow.session
    facts = FactsA()
    referrals = {
        r.id: r for r in db.scalars(select(Referral).where(Referral.programme == PROGRAMME))
    }
    events: dict[str, list[ReferralEvent]] = defaultdict(list)
    for event in db.scalars(
        select(ReferralEvent).where(
            ReferralEvent.referral_id.in_(list(referrals)), ReferralEvent.at < period.ends_at
        )
    ):
        events[event.referral_id].append(event)
    events = {referral_id: in_order(history) for referral_id, history in events.items()}
    # Sent: the referral left the draft in the period; its status when the period ended.
    sent: dict[str, str] = {}
    placed: dict[str, datetime] = {}
    for referral_id, history in events.items():
        submitted = [e for e in history if e.to_status == Status.SUBMITTED.value]
        if submitted and _in(period, submitted[0].at):
            sent[referral_id] = history[-1].to_status
        first_placed = [e for e in history if e.to_status == PLACED]
        if first_placed and _in(period, first_placed[0].at):
            placed[referral_id] = first_placed[0].at
    # A child's profile on the day counted: the day sent, or the day placed.
    on: dict[str, datetime] = {}
    for referral_id in sent:
        on[referrals[referral_id].child_id] = next(
            e.at for e in events[referral_id] if e.to_status == Status.SUBMITTED.value
        )
    placed_children: dict[str, datetime] = {}
    for referral_id, moment in sorted(placed.items(), key=lambda item: item[1]):
        placed_children.setdefault(referrals[referral_id].child_id, moment)
    profiles, at_placement = _profiles(uow, on, placed_children)
    for referral_id, status in sent.items():
        profile = profiles[referrals[referral_id].child_id]
        facts.referrals_by_status[(status, profile.gender)] += 1
    district_of = {referrals[r].child_id: referrals[r].district_id for r in placed}
    for child_id in placed_children:
        profile = at_placement[child_id]
        facts.placed_by_age[(profile.age_band, profile.gender)] += 1
        facts.placed_by_district[(district_of[child_id], profile.gender)] += 1
    facts.districts = {
        o.id: o.name
        for o in db.scalars(
            select(Organisation).where(Organisation.id.in_(set(district_of.values())))
        )
    }
    _groups(uow, period, facts)
    _consents(uow, period, facts)
    _concerns(uow, period, facts)
    return facts


def _size(enrolled: int) -> str:
    return "under_5" if enrolled < 5 else "5_8" if enrolled <= 8 else "over_8"


def _groups(uow: UnitOfWork, period: Period, facts: FactsA) -> None:
    """Groups that started in the period, by format and size; attendance at the sessions
    held in it."""
    db = uow.session
    groups = list(
        db.scalars(
            select(Group).where(
                Group.start_date >= period.first_day, Group.start_date <= period.last_day
            )
        )
    )
    enrolled: Counter[str] = Counter(
        db.scalars(select(Enrolment.group_id).where(Enrolment.group_id.in_([g.id for g in groups])))
    )
    for group in groups:
        facts.groups_by_format[(group.format, _size(enrolled[group.id]))] += 1
    marks = db.execute(
        select(Attendance.present, Attendance.enrolment_id)
        .join(GroupSession, GroupSession.id == Attendance.session_id)
        .where(GroupSession.day >= period.first_day, GroupSession.day <= period.last_day)
    ).all()
    facts.attendance_marked = len(marks)
    facts.attendance_present = sum(1 for present, _ in marks if present)
    facts.attending_children = len({enrolment for _, enrolment in marks})


def _consents(uow: UnitOfWork, period: Period, facts: FactsA) -> None:
    """Consent decisions recorded for the period's days, and consents that lapsed in it (ran
    out with no later decision by the same party before they did)."""
    db = uow.session
    records = list(
        db.scalars(select(ConsentRecord).order_by(ConsentRecord.decided_on, ConsentRecord.id))
    )
    by_party: dict[tuple[str, str], list[ConsentRecord]] = defaultdict(list)
    for record in records:
        by_party[(record.child_id, record.party)].append(record)
        if period.contains(record.decided_on):
            facts.consents[(record.decision, "count")] += 1
    for history in by_party.values():
        for i, record in enumerate(history):
            if record.decision != Decision.GIVEN.value or not period.contains(record.valid_until):
                continue
            later = history[i + 1 :]
            if not any(r.decided_on <= record.valid_until for r in later):
                facts.consents[(LAPSED, "count")] += 1


def _concerns(uow: UnitOfWork, period: Period, facts: FactsA) -> None:
    """Concern reports filed from the programme's participations in the period: filed and
    acknowledged, and how long acknowledgement took."""
    db = uow.session
    reports = db.scalars(
        select(ConcernReport)
        .join(Referral, Referral.id == ConcernReport.referral_id)
        .where(
            Referral.programme == PROGRAMME,
            ConcernReport.filed_at >= period.starts_at,
            ConcernReport.filed_at < period.ends_at,
        )
    )
    for report in reports:
        facts.concern_filed[("acknowledged" if report.acknowledged_at else "waiting", "count")] += 1
        if report.acknowledged_at is not None:
            waited = report.acknowledged_at - report.filed_at
            facts.hours_to_acknowledge.append(waited / timedelta(hours=1))
