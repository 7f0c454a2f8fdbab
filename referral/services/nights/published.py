"""What the registration page publishes: before the allocation, the window and the seed's
commitment; after it, the seed, the ranking by card number with each person's terms, and the
counts placed and turned away. Nothing else: no alias, no shelter, no grounds of an override
(only that there was one), not who got a place nor why not, so that a card number read over
someone's shoulder tells no more than the ranking anyone can recompute. Public by design;
nothing here is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from config import Settings
from referral import card_numbers
from referral.db.nights import AllocationRun, RegistrationDay
from referral.db.uow import UnitOfWork
from referral.night_calendar import WindowTimes
from referral.services.nights.allocation import result_from_json
from referral.services.nights.registration import window_of


@dataclass(frozen=True)
class PublishedLine:
    rank: int
    card_number: str  # as printed: "1234 5678"
    override: bool
    at_cap: bool
    days_since_last_night: int
    nights_last_30_days: int
    draw: str
    # Not who got a place: a card turned away above one placed would tell anyone that the
    # one was excluded or the other took a place reserved for their gender. The desk and the
    # shelter tell each person theirs.


@dataclass(frozen=True)
class PublishedDay:
    day: date
    window: WindowTimes | None
    commitment: str | None
    # When the seed was drawn: before the window opened (by the previous morning's run or
    # the timer), which anyone can hold against the first registration.
    commitment_drawn_at: datetime | None
    seed: str | None  # revealed with the result
    algorithm_version: str | None
    inputs_digest: str | None
    nights: tuple[date, ...]
    registered: int | None
    placed: int | None
    turned_away: int | None
    lines: tuple[PublishedLine, ...]


def published_day(uow: UnitOfWork, settings: Settings, day: date) -> PublishedDay:
    window = window_of(settings).window_on(day)
    registration_day = uow.session.scalar(select(RegistrationDay).where(RegistrationDay.day == day))
    the_run = uow.session.scalar(
        select(AllocationRun).where(AllocationRun.day == day, AllocationRun.purged_at.is_(None))
    )
    if registration_day is None or the_run is None or the_run.result is None:
        return PublishedDay(
            day,
            window,
            registration_day.commitment if registration_day else None,
            registration_day.opened_at if registration_day else None,
            None,
            None,
            None,
            (),
            None,
            None,
            None,
            (),
        )
    result = result_from_json(the_run.result)
    lines = tuple(
        PublishedLine(
            rank=person.rank,
            card_number=card_numbers.display(person.card_number),
            override=person.terms.override_reason is not None,
            at_cap=person.terms.at_cap,
            days_since_last_night=person.terms.days_since_last_night,
            nights_last_30_days=person.terms.nights_last_30_days,
            draw=person.terms.draw,
        )
        for person in result.ranking
    )
    return PublishedDay(
        day=day,
        window=window,
        commitment=registration_day.commitment,
        commitment_drawn_at=registration_day.opened_at,
        seed=registration_day.revealed_seed,
        algorithm_version=the_run.algorithm_version,
        inputs_digest=the_run.inputs_digest,
        nights=result.nights,
        registered=the_run.registered,
        placed=the_run.placed,
        turned_away=the_run.turned_away,
        lines=lines,
    )
