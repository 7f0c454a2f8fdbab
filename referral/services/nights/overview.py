"""The coordinator's overview of Programme C: for each recent registration day, the places
offered, the people registered, placed and turned away, and the no-shows of its first night.
Counts only, nothing about a person, so nothing here is written to the access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from referral.actors import Actor
from referral.db.models import Organisation
from referral.db.nights import AllocationRun, NightPlace, PlaceStatus
from referral.db.uow import UnitOfWork
from referral.policy import Permission, require
from referral.roles import OrganisationKind
from referral.services.nights import capacity


@dataclass(frozen=True)
class DayLine:
    day: date
    capacity: int  # places offered on the day's own night, over every shelter open then
    registered: int | None  # None: no allocation was run that day
    placed: int | None
    turned_away: int | None
    no_shows: int


@dataclass(frozen=True)
class Keeper:
    """An organisation that may keep a shelter (a partner or the city), by id and name."""

    id: str
    name: str


def capacity_on(uow: UnitOfWork, night: date) -> int:
    """The places offered on `night`, over every shelter open then."""
    return sum(
        capacity.places_on(uow, shelter, [night])[night].places
        for shelter in capacity.shelters_open(uow, [night])
    )


def recent_days(uow: UnitOfWork, actor: Actor, today: date, days: int = 14) -> list[DayLine]:
    """The last `days` days up to today, newest first: each one's places and, for the days
    an allocation was run, how many registered, were placed and were turned away."""
    require(actor, Permission.NIGHT_COORDINATE)
    first = today - timedelta(days=days - 1)
    runs = {
        run.day: run
        for run in uow.session.scalars(
            select(AllocationRun).where(AllocationRun.day >= first, AllocationRun.day <= today)
        )
    }
    no_shows = {
        night: int(n)
        for night, n in uow.session.execute(
            select(NightPlace.night, func.count())
            .where(
                NightPlace.night >= first,
                NightPlace.night <= today,
                NightPlace.status == PlaceStatus.NO_SHOW.value,
            )
            .group_by(NightPlace.night)
        )
    }
    lines = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        run = runs.get(day)
        lines.append(
            DayLine(
                day=day,
                capacity=capacity_on(uow, day),
                registered=run.registered if run else None,
                placed=run.placed if run else None,
                turned_away=run.turned_away if run else None,
                no_shows=no_shows.get(day, 0),
            )
        )
    return lines


def shelter_keepers(uow: UnitOfWork, actor: Actor) -> list[Keeper]:
    """The organisations a shelter may belong to (partners and the city), for the
    coordinator's form."""
    require(actor, Permission.NIGHT_COORDINATE)
    rows = uow.session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind != OrganisationKind.DISTRICT.value)
        .order_by(Organisation.name)
    )
    return [Keeper(id, name) for id, name in rows]
