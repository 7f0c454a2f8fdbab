"""Programme C's figures for a period (night places): what the stored allocation runs and
the nights keep after a person's purge (counts per morning, per shelter and night)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from referral.db.nights import (
    AllocationRun,
    NightPerson,
    NightPlace,
    NightRegistration,
    RegistrationDay,
    Shelter,
)
from referral.db.uow import UnitOfWork
from referral.services import kept_statistics as kept
from referral.services.reports.periods import Period

PROGRAMME = "C"
# Each registration of a morning ends in a place or in being turned away (or held a place
# already): the columns add up to the people placed or turned away, never twice.
MORNING_COUNTS = ("placed", "turned_away")
GENDERS = ("woman", "man", "other", "unknown")
AGE_BANDS = ("under_18", "18_29", "30_49", "50_64", "65_plus", "unknown")


@dataclass
class FactsC:
    mornings: Counter[tuple[str, str]] = field(default_factory=Counter)  # (YYYY-MM, count)
    nights_by_shelter: Counter[tuple[str, str]] = field(default_factory=Counter)
    shelters: dict[str, str] = field(default_factory=dict)  # id → name
    runs: int = 0
    registered: int = 0
    people_by_age: Counter[tuple[str, str]] = field(default_factory=Counter)
    people_by_country: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def people(self) -> int:
        return sum(self.people_by_age.values())

    @property
    def women(self) -> int:
        return sum(n for (_band, gender), n in self.people_by_age.items() if gender == "woman")


def collect(uow: UnitOfWork, period: Period) -> FactsC:
    db = uow.session
    facts = FactsC()
    for day, registered, placed, turned_away in db.execute(
        select(
            AllocationRun.day,
            AllocationRun.registered,
            AllocationRun.placed,
            AllocationRun.turned_away,
        ).where(AllocationRun.day >= period.first_day, AllocationRun.day <= period.last_day)
    ):
        month = day.strftime("%Y-%m")
        facts.runs += 1
        facts.registered += registered
        facts.mornings[(month, "placed")] += placed
        facts.mornings[(month, "turned_away")] += turned_away
    for shelter_id, status in db.execute(
        select(NightPlace.shelter_id, NightPlace.status).where(
            NightPlace.night >= period.first_day, NightPlace.night <= period.last_day
        )
    ):
        facts.nights_by_shelter[(shelter_id, status)] += 1
    _people(uow, period, facts)
    shelter_ids = {shelter_id for shelter_id, _ in facts.nights_by_shelter}
    facts.shelters = {
        s.id: s.name for s in db.scalars(select(Shelter).where(Shelter.id.in_(shelter_ids)))
    }
    return facts


def _people(uow: UnitOfWork, period: Period, facts: FactsC) -> None:
    """The people who registered in the period, by age band, gender and country: those on
    record read here, those purged since from the counts their purge kept."""
    db = uow.session
    registered = (
        select(NightRegistration.person_id)
        .join(RegistrationDay, RegistrationDay.id == NightRegistration.day_id)
        .where(RegistrationDay.day >= period.first_day, RegistrationDay.day <= period.last_day)
    )
    people = list(
        db.scalars(
            select(NightPerson).where(
                NightPerson.purged_at.is_(None), NightPerson.id.in_(registered)
            )
        )
    )
    tallies = kept.night_tallies_of(db, people)
    for table, counts in (
        (kept.NIGHT_PEOPLE_BY_AGE, facts.people_by_age),
        (kept.NIGHT_PEOPLE_BY_COUNTRY, facts.people_by_country),
    ):
        counts.update(kept.live(tallies, period, table))
        counts.update(kept.kept(db, PROGRAMME, period, table))
