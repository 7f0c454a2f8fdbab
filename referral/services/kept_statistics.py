"""The activity report's tallies of people whose link to a period a purge removes.

A night person's registrations, and which encounters were a youth's, go when the person is
purged; what the report counted of them must not. So the tallies are one function of a
person and the days they were seen (`night_person_tallies`, `youth_tallies`): the report
applies it to the people still on record, and the purge applies it to the people it is
about to purge and keeps the result as counts (db.retention.KeptCount). The report adds the
two, and so reads the same before and after a purge run.

A tally is counted once per published period (the half-year and the year) in which the
person was seen, with the profile the period gives: the age band on the period's last day."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from referral.db.base import new_id, utcnow
from referral.db.encryption import session_cipher
from referral.db.nights import NightPerson, NightRegistration, RegistrationDay
from referral.db.outreach import Encounter, Youth
from referral.db.retention import KeptCount
from referral.services.age_bands import adult_age_band, youth_age_band
from referral.services.outreach import youth_age
from referral.services.reports.periods import Period, PeriodKind

NIGHT_PEOPLE_BY_AGE = "night_people_by_age_gender"
NIGHT_PEOPLE_BY_COUNTRY = "night_people_by_country_gender"
YOUTHS_BY_AGE = "youths_by_age_gender"
YOUTHS_BY_COUNTRY = "youths_by_country_gender"
IDENTIFIED_ENCOUNTERS = "identified_encounters"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Tally:
    programme: str
    period: str  # Period.key
    table: str
    row: str
    column: str


def published_periods(day: date) -> tuple[Period, Period]:
    """The half-year and the year a day is reported in."""
    if day.month >= 11:
        half = Period(PeriodKind.WINTER, day.year + 1)
    elif day.month <= 4:
        half = Period(PeriodKind.WINTER, day.year)
    else:
        half = Period(PeriodKind.SUMMER, day.year)
    return half, Period(PeriodKind.YEAR, day.year)


def _periods(days: Iterable[date]) -> list[Period]:
    return sorted({p for day in days for p in published_periods(day)}, key=lambda p: p.key)


def country_key(value: str | None) -> str:
    """A typed country, folded so that "rumänien " and "Rumänien" are one row."""
    text = " ".join((value or "").split())
    return text[:1].upper() + text[1:].lower() if text else UNKNOWN


def night_person_tallies(person: NightPerson, days: Iterable[date]) -> list[Tally]:
    found: list[Tally] = []
    gender = person.gender or UNKNOWN
    for period in _periods(days):
        band = adult_age_band(person.birth_year, period.last_day)
        found.append(Tally("C", period.key, NIGHT_PEOPLE_BY_AGE, band, gender))
        country = country_key(person.country_of_origin)
        found.append(Tally("C", period.key, NIGHT_PEOPLE_BY_COUNTRY, country, gender))
    return found


def youth_tallies(youth: Youth, days: Sequence[date]) -> list[Tally]:
    """A youth met with their identity recorded: counted once per period, and each of those
    encounters counted as identified."""
    found: list[Tally] = []
    gender = youth.gender or UNKNOWN
    known_age = youth.birth_date or youth.birth_year
    for period in _periods(days):
        # Aged as the law is applied (services.outreach.youth_age), as the purge's residue.
        band = youth_age_band(youth_age(youth, period.last_day) if known_age else None)
        found.append(Tally("B", period.key, YOUTHS_BY_AGE, band, gender))
        country = country_key(youth.country_of_origin)
        found.append(Tally("B", period.key, YOUTHS_BY_COUNTRY, country, gender))
    for day in days:
        for period in published_periods(day):
            found.append(Tally("B", period.key, IDENTIFIED_ENCOUNTERS, "identified", "count"))
    return found


# --- What ties people to days ------------------------------------------------------------------


def registration_days(db: Session, person_ids: Sequence[str]) -> dict[str, list[date]]:
    found: dict[str, list[date]] = defaultdict(list)
    if person_ids:
        for person_id, day in db.execute(
            select(NightRegistration.person_id, RegistrationDay.day)
            .join(RegistrationDay, RegistrationDay.id == NightRegistration.day_id)
            .where(NightRegistration.person_id.in_(list(person_ids)))
        ):
            found[person_id].append(day)
    return found


def identified_encounter_days(db: Session, youth_ids: Sequence[str]) -> dict[str, list[date]]:
    found: dict[str, list[date]] = defaultdict(list)
    if youth_ids:
        for youth_id, day in db.execute(
            select(Encounter.youth_id, Encounter.occurred_on).where(
                Encounter.youth_id.in_(list(youth_ids))
            )
        ):
            found[str(youth_id)].append(day)
    return found


def night_tallies_of(db: Session, people: Sequence[NightPerson]) -> list[Tally]:
    session_cipher(db).keys.load_many(db, (p.data_key_id for p in people))
    days = registration_days(db, [p.id for p in people])
    return [t for p in people for t in night_person_tallies(p, days.get(p.id, []))]


def youth_tallies_of(db: Session, youths: Sequence[Youth]) -> list[Tally]:
    session_cipher(db).keys.load_many(db, (y.data_key_id for y in youths))
    days = identified_encounter_days(db, [y.id for y in youths])
    return [t for y in youths for t in youth_tallies(y, days.get(y.id, []))]


# --- Kept, and read back --------------------------------------------------------------------


def keep(db: Session, tallies: Iterable[Tally]) -> None:
    """The tallies of people about to be purged, as counts (one row per distinct tally)."""
    counted = Counter(tallies)
    if counted:
        now = utcnow()
        db.execute(
            insert(KeptCount),
            [
                {
                    "id": new_id(),
                    "programme": t.programme,
                    "period": t.period,
                    "table_key": t.table,
                    "row_key": t.row,
                    "column_key": t.column,
                    "count": n,
                    "kept_at": now,
                }
                for t, n in sorted(counted.items(), key=lambda item: repr(item[0]))
            ],
        )


def kept(db: Session, programme: str, period: Period, table: str) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for row, column, n in db.execute(
        select(KeptCount.row_key, KeptCount.column_key, func.sum(KeptCount.count))
        .where(
            KeptCount.programme == programme,
            KeptCount.period == period.key,
            KeptCount.table_key == table,
        )
        .group_by(KeptCount.row_key, KeptCount.column_key)
    ):
        found[(row, column)] += int(n)
    return found


def live(tallies: Iterable[Tally], period: Period, table: str) -> Counter[tuple[str, str]]:
    wanted = [t for t in tallies if t.period == period.key and t.table == table]
    return Counter((t.row, t.column) for t in wanted)
