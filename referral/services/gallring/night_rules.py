"""Programme C's retention (issue 14, seed 002 §3.2): a person's card, registrations, nights
and exclusions are purged a configured period (default 90 days) after their last entry; a
stored allocation run keeps its counts, and its inputs and result (card numbers, genders) go
with its key the same period after its day. What survives is what the cooperation group
asks for: nights given and turned away per shelter and night, and age band, gender and
country of origin as anonymous residues."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select, update

from config import Settings
from referral.clock import STOCKHOLM, local_day
from referral.db.nights import (
    NIGHTS_HOLDER,
    RUN_HOLDER,
    AllocationRun,
    Exclusion,
    NightPerson,
    NightPlace,
    NightRegistration,
)
from referral.db.uow import UnitOfWork
from referral.i18n import _l
from referral.services.gallring.residue import Residue, adult_age_band
from referral.services.gallring.rule_base import PurgeRule, Unit, locked, stamp_purged
from referral.services.kept_statistics import Tally, night_tallies_of


class NightPersonRule(PurgeRule):
    name = "night_person"
    programme = "C"
    anchor = NightPerson
    label = _l("Night places: a person's card, registrations and nights (Programme C)")
    help = _l(
        "IOP agreement (seed 002 §3.2) and GDPR art. 5.1 c and e: kept only while in use. "
        "Purged %(period)s after the last registration, night or exclusion; the nights "
        "given stay as counts per shelter and night."
    )
    basis = (
        "Seed 002 §3.2, GDPR art. 5.1 c, e: REFERRAL_NIGHTS_RETENTION_DAYS after the last "
        "registration, night or exclusion; nights stay as counts per shelter and night."
    )

    def retention(self, settings: Settings) -> dict[str, int]:
        return {"days": settings.nights_retention_days}

    def _last_entries(self, uow: UnitOfWork, ids: Sequence[str] | None) -> dict[str, date]:
        """Each person's last day on record: the card, a registration, a night, an
        exclusion's expiry (an excluded person is kept until it has run out)."""
        last: dict[str, date] = {}
        people = select(NightPerson.id, NightPerson.issued_at).where(
            NightPerson.purged_at.is_(None)
        )
        if ids is not None:
            people = people.where(NightPerson.id.in_(ids))
        for person_id, issued_at in uow.session.execute(people):
            last[person_id] = local_day(issued_at)
        if not last:
            return last
        wanted = list(last)
        queries = (
            select(NightRegistration.person_id, func.max(NightRegistration.registered_at))
            .where(NightRegistration.person_id.in_(wanted))
            .group_by(NightRegistration.person_id),
            select(NightPlace.person_id, func.max(NightPlace.night))
            .where(NightPlace.person_id.in_(wanted))
            .group_by(NightPlace.person_id),
            select(Exclusion.person_id, func.max(Exclusion.expires_on))
            .where(Exclusion.person_id.in_(wanted))
            .group_by(Exclusion.person_id),
        )
        for query in queries:
            for row in uow.session.execute(query):
                owner: str | None = row[0]
                moment: date | datetime | None = row[1]
                if owner is None or moment is None:
                    continue
                day = local_day(moment) if isinstance(moment, datetime) else moment
                last[owner] = max(last[owner], day)
        return last

    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        for person_id, last in self._last_entries(uow, unit_ids).items():
            yield Unit(
                rule=self.name,
                unit_id=person_id,
                person_id=person_id,
                holders=(NIGHTS_HOLDER,),
                ended_at=datetime.combine(last, time(), tzinfo=STOCKHOLM),
                due_on=last + timedelta(days=settings.nights_retention_days),
            )

    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        found: dict[str, Residue] = {}
        for unit, person in locked(uow, NightPerson, units):
            last = unit.ended_at.date()
            found[unit.unit_id] = Residue(
                programme=self.programme,
                period=last.strftime("%Y-%m"),
                age_band=adult_age_band(person.birth_year, last),
                gender=person.gender,
                country_of_origin=person.country_of_origin,
            )
        return found

    def kept_tallies(self, uow: UnitOfWork, units: Sequence[Unit]) -> list[Tally]:
        # The registrations tie a person to the periods the report counts them in.
        return night_tallies_of(
            uow.session, [person for _, person in locked(uow, NightPerson, units)]
        )

    def remove(self, uow: UnitOfWork, units: Sequence[Unit]) -> None:
        ids = [unit.unit_id for unit in units]
        uow.session.execute(delete(NightRegistration).where(NightRegistration.person_id.in_(ids)))
        uow.session.execute(delete(Exclusion).where(Exclusion.person_id.in_(ids)))
        # The nights given stay, without the person: counts per shelter and night.
        uow.session.execute(
            update(NightPlace).where(NightPlace.person_id.in_(ids)).values(person_id=None)
        )

    def stamp(self, uow: UnitOfWork, units: Sequence[Unit], now: datetime) -> None:
        # One UPDATE (the erasure expired the rows): the card number goes with the person.
        uow.session.execute(
            update(NightPerson)
            .where(NightPerson.id.in_([unit.unit_id for unit in units]))
            .values(purged_at=now, card_number=None, likeness_index=None)
        )


class NightRunRule(PurgeRule):
    name = "night_run"
    programme = "C"
    anchor = AllocationRun
    label = _l("Night places: a day's allocation run, its inputs and ranking (Programme C)")
    help = _l(
        "GDPR art. 5.1 e: the run's inputs and ranking name card numbers; they are purged "
        "%(period)s after its day. Its counts (registered, placed, turned away) stay."
    )
    basis = (
        "GDPR art. 5.1 e: a run's inputs and ranking, REFERRAL_NIGHTS_RETENTION_DAYS after "
        "its day; the counts stay."
    )

    def retention(self, settings: Settings) -> dict[str, int]:
        return {"days": settings.nights_retention_days}

    def _units(
        self, uow: UnitOfWork, settings: Settings, today: date, unit_ids: Sequence[str] | None
    ) -> Iterator[Unit]:
        query = select(AllocationRun.id, AllocationRun.day).where(AllocationRun.purged_at.is_(None))
        if unit_ids is not None:
            query = query.where(AllocationRun.id.in_(unit_ids))
        for run_id, day in uow.session.execute(query):
            yield Unit(
                rule=self.name,
                unit_id=run_id,
                person_id=run_id,
                holders=(RUN_HOLDER,),
                ended_at=datetime.combine(day, time(), tzinfo=STOCKHOLM),
                due_on=day + timedelta(days=settings.nights_retention_days),
            )

    def residues(self, uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, Residue]:
        return {
            unit.unit_id: Residue(
                programme=self.programme, period=unit.ended_at.date().strftime("%Y-%m")
            )
            for unit in units
        }

    def stamp(self, uow: UnitOfWork, units: Sequence[Unit], now: datetime) -> None:
        stamp_purged(uow, AllocationRun, units, now)
