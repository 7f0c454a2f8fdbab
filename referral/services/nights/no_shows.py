"""No-shows: a place not taken by the configured time that evening goes to the next person
on the reserve list, in ranking order (referral.night_allocation.fill_no_shows). The no-show
is recorded and counts as a night not had; the run itself is never changed, only the places
it gave."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from sqlalchemy import select

from audit.actions import Action
from audit.record import Entry, record_many
from config import Settings
from referral import card_numbers
from referral.actors import Actor
from referral.clock import STOCKHOLM
from referral.db.nights import AllocationRun, NightPerson, NightPlace, PlaceStatus, Shelter
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput
from referral.i18n import _
from referral.night_allocation import AllocationResult, Placement, fill_no_shows, inputs_from_json
from referral.night_calendar import night_ends_at
from referral.policy import Permission, require
from referral.services.loading import get_for
from referral.services.nights import capacity
from referral.services.nights.allocation import result_from_json
from referral.services.nights.people import card_number_of
from referral.services.nights.tonight import places_with_people


@dataclass(frozen=True)
class NoShowReceipt:
    night: date
    forfeited: tuple[str, ...]  # card numbers as printed
    moved_in: tuple[str, ...]
    left_empty: int


def _no_show_time(settings: Settings, night: date) -> datetime:
    return datetime.combine(night, time.fromisoformat(settings.nights_no_show_at), STOCKHOLM)


def _current(
    uow: UnitOfWork, stored: AllocationResult, run_id: str
) -> tuple[AllocationResult, dict[str, NightPerson]]:
    """The run's result as it stands after earlier no-shows: its places now, and its
    reserve less those already given a place from it."""
    rows = list(
        uow.session.execute(
            select(NightPlace, NightPerson)
            .join(NightPerson, NightPerson.id == NightPlace.person_id)
            .where(NightPlace.run_id == run_id, NightPlace.status.in_(capacity.GIVEN))
        )
    )
    people = {person.card_number: person for _place, person in rows if person.card_number}
    nights: dict[tuple[str, str, str], list[date]] = defaultdict(list)
    for place, person in rows:
        if person.card_number:
            nights[(person.card_number, place.shelter_id, place.place_kind)].append(place.night)
    rank_of = {p.card_number: p.rank for p in stored.ranking}
    placements = sorted(
        (
            Placement(card, shelter_id, kind, tuple(sorted(held)))  # type: ignore[arg-type]
            for (card, shelter_id, kind), held in nights.items()
        ),
        key=lambda p: rank_of.get(p.card_number, 0),
    )
    holding = {p.card_number for p in placements}
    ever_placed = holding | {p.card_number for p in stored.placements}
    current = replace(
        stored,
        placements=tuple(placements),
        reserve=tuple(u for u in stored.reserve if u.card_number not in ever_placed),
    )
    return current, people


def record_no_shows(
    uow: UnitOfWork,
    actor: Actor,
    shelter_id: str,
    night: date,
    cards: list[str],
    settings: Settings,
    now: datetime,
) -> NoShowReceipt:
    """The shelter's staff record who did not come tonight; their places go to the reserve."""
    require(actor, Permission.NIGHT_SHELTER_KEEP)
    shelter = get_for(
        uow, actor, Permission.NIGHT_SHELTER_KEEP, Shelter, shelter_id, field="shelter"
    )
    if not cards:
        raise InvalidInput(_("Choose who did not come."), field="card_numbers")
    numbers = sorted({card_number_of(raw, "card_numbers") for raw in cards})
    from_time = _no_show_time(settings, night)
    if now < from_time:
        raise Conflict(
            _(
                "A place counts as not taken only from %(time)s that evening.",
                time=settings.nights_no_show_at,
            ),
            field="night",
        )
    # Once the night is over, a freed place helps no one: giving it to the reserve would
    # count a night nobody had against them (a no-show is recorded while the night lasts).
    if now >= night_ends_at(night):
        raise Conflict(_("This night is over."), field="night")
    places = list(
        uow.session.execute(
            places_with_people(shelter.id, night)
            .where(NightPerson.card_number.in_(numbers))
            .with_for_update()
        )
    )
    found = {person.card_number: place for place, person in places}
    for number in numbers:
        place = found.get(number)
        if place is None or place.status == PlaceStatus.NO_SHOW:
            raise Conflict(
                _("Card %(card)s has no place here tonight.", card=card_numbers.display(number)),
                field="card_numbers",
            )
        if place.status == PlaceStatus.CHECKED_IN:
            raise Conflict(
                _("Card %(card)s has checked in tonight.", card=card_numbers.display(number)),
                field="card_numbers",
            )
    run_ids = {place.run_id for place, _person in places}
    the_run = uow.session.get(AllocationRun, run_ids.pop(), with_for_update=True)
    assert the_run is not None and not run_ids  # one allocation covers a night
    if the_run.inputs is None or the_run.result is None:
        raise Conflict(_("This night's allocation has been purged."), field="night")
    inputs = inputs_from_json(the_run.inputs)
    current, people = _current(uow, result_from_json(the_run.result), the_run.id)
    outcome = fill_no_shows(inputs, current, shelter.id, night, numbers)
    forfeited_ids = [people[card].id for card in outcome.forfeited]
    for place in uow.session.scalars(
        select(NightPlace).where(
            NightPlace.run_id == the_run.id,
            NightPlace.shelter_id == shelter.id,
            NightPlace.person_id.in_(forfeited_ids),
            NightPlace.night >= night,
        )
    ):
        place.status = PlaceStatus.NO_SHOW.value  # from tonight to the end of the allocation
        place.changed_by, place.changed_at = actor.user_id, now
    moved_people = _people_by_card(uow, [p.card_number for p in outcome.moved_in])
    uow.session.add_all(
        NightPlace(
            run_id=the_run.id,
            person_id=moved_people[placement.card_number].id,
            shelter_id=shelter.id,
            night=moved_night,
            place_kind=placement.place_kind,
            from_reserve=True,
            changed_by=actor.user_id,
            changed_at=now,
        )
        for placement in outcome.moved_in
        for moved_night in placement.nights
    )
    uow.session.flush()
    record_many(
        uow.session,
        actor,
        [
            *(
                Entry(
                    Action.NIGHT_NO_SHOW,
                    object_type="night_shelter",
                    object_id=shelter.id,
                    subject=people[card].key_scope(),
                )
                for card in outcome.forfeited
            ),
            *(
                Entry(
                    Action.NIGHT_FROM_RESERVE,
                    object_type="night_shelter",
                    object_id=shelter.id,
                    subject=moved_people[p.card_number].key_scope(),
                )
                for p in outcome.moved_in
            ),
        ],
    )
    receipt = NoShowReceipt(
        night,
        tuple(card_numbers.display(c) for c in outcome.forfeited),
        tuple(card_numbers.display(p.card_number) for p in outcome.moved_in),
        len(outcome.left_empty),
    )
    uow.commit()
    return receipt


def _people_by_card(uow: UnitOfWork, cards: list[str]) -> dict[str, NightPerson]:
    if not cards:
        return {}
    return {
        person.card_number: person
        for person in uow.session.scalars(
            select(NightPerson).where(NightPerson.card_number.in_(cards))
        )
        if person.card_number
    }
