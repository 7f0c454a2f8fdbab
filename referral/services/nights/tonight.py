"""A shelter's list for a night, kept by the shelter's own staff: who is expected, who has
checked in and who did not come (each person listed is logged), and check-in as people come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select

from audit.actions import Action
from audit.record import Entry, record, record_many
from referral import card_numbers
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.encryption import session_cipher
from referral.db.nights import NightPerson, NightPlace, PlaceStatus, Shelter
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, NotFound
from referral.i18n import _
from referral.night_calendar import night_at
from referral.policy import Permission, require
from referral.services.loading import get_for
from referral.services.nights.capacity import GIVEN, Places, places_on


@dataclass(frozen=True)
class PlaceOnList:
    place_id: str
    card_number: str  # as printed on the card
    alias: str | None
    place_kind: str
    status: str
    from_reserve: bool


@dataclass(frozen=True)
class ShelterNight:
    shelter_id: str
    shelter_name: str
    night: date
    places: Places
    given: int  # allocated or checked in
    checked_in: int
    no_shows: int
    people: tuple[PlaceOnList, ...]


@dataclass(frozen=True)
class CheckedIn:
    place_id: str
    night: date
    card_number: str
    status: str


def places_with_people(shelter_id: str, night: date) -> Select[NightPlace, NightPerson]:
    """A shelter's places on a night, each with the person given it (the list and the
    no-shows narrow it further)."""
    return (
        select(NightPlace, NightPerson)
        .join(NightPerson, NightPerson.id == NightPlace.person_id)
        .where(NightPlace.shelter_id == shelter_id, NightPlace.night == night)
    )


def _card(person: NightPerson) -> str:
    assert person.card_number is not None  # a purged person is never listed
    return card_numbers.display(person.card_number)


def _place_entry(action: Action, place: NightPlace, person: NightPerson) -> Entry:
    return Entry(action, object_type="night_place", object_id=place.id, subject=person.key_scope())


def _record_place(
    uow: UnitOfWork, actor: Actor, action: Action, place: NightPlace, person: NightPerson
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type="night_place",
        object_id=place.id,
        subject=person.key_scope(),
    )


def tonight(uow: UnitOfWork, actor: Actor, shelter_id: str, night: date) -> ShelterNight:
    """A shelter's list for a night, for its own staff: each person listed is logged first."""
    require(actor, Permission.NIGHT_SHELTER_KEEP)
    shelter = get_for(
        uow, actor, Permission.NIGHT_SHELTER_KEEP, Shelter, shelter_id, field="shelter_id"
    )
    rows = list(
        uow.session.execute(
            places_with_people(shelter.id, night)
            .where(NightPerson.purged_at.is_(None))
            .order_by(NightPerson.card_number)
        )
    )
    # One entry per person listed, in one write; every person's key unwrapped at once.
    entries = [_place_entry(Action.NIGHT_LIST_READ, place, person) for place, person in rows]
    record_many(uow.session, actor, entries)
    session_cipher(uow.session).keys.load_many(uow.session, (p.data_key_id for _, p in rows))
    people = tuple(
        PlaceOnList(
            place_id=place.id,
            card_number=_card(person),
            alias=person.alias,
            place_kind=place.place_kind,
            status=place.status,
            from_reserve=place.from_reserve,
        )
        for place, person in rows
    )
    # Counted over every place of the night, those of people since purged too, so that the
    # figures agree with the capacity's (capacity.given_by_kind).
    counts: dict[str, int] = {
        status: int(n)
        for status, n in uow.session.execute(
            select(NightPlace.status, func.count())
            .where(NightPlace.shelter_id == shelter.id, NightPlace.night == night)
            .group_by(NightPlace.status)
        )
    }
    view = ShelterNight(
        shelter_id=shelter.id,
        shelter_name=shelter.name,
        night=night,
        places=places_on(uow, shelter, [night])[night],
        given=sum(counts.get(status, 0) for status in GIVEN),
        checked_in=counts.get(PlaceStatus.CHECKED_IN.value, 0),
        no_shows=counts.get(PlaceStatus.NO_SHOW.value, 0),
        people=people,
    )
    uow.commit()  # on record before anything is shown
    return view


def check_in(uow: UnitOfWork, actor: Actor, place_id: str, now: datetime) -> CheckedIn:
    """The person has come: their place is taken. Only the night the shelter is in (until
    06:00 the night that began the evening before: someone let in after midnight), at a
    shelter of the actor's own organisation."""
    require(actor, Permission.NIGHT_SHELTER_KEEP)
    place = get_for(
        uow, actor, Permission.NIGHT_SHELTER_KEEP, NightPlace, place_id, field="place_id", lock=True
    )
    shelter = uow.session.get(Shelter, place.shelter_id)
    assert shelter is not None  # a foreign key; require() without an object checks no scope
    person = uow.session.get(NightPerson, place.person_id) if place.person_id else None
    try:
        require(actor, Permission.NIGHT_SHELTER_KEEP, shelter)
    except NotFound as hidden:
        hidden.field = "place_id"  # as for a place that does not exist
        raise
    if person is None or person.purged_at is not None:
        raise NotFound(_("No such record."), field="place_id")
    if place.night != night_at(now):
        raise Conflict(_("Only tonight's places can be checked in."), field="place_id")
    if place.status == PlaceStatus.CHECKED_IN.value:
        raise Conflict(_("This place is checked in already."), field="place_id")
    if place.status == PlaceStatus.NO_SHOW.value:
        raise Conflict(
            _("This place was recorded as a no-show and has gone to the reserve list."),
            field="place_id",
        )
    place.status = PlaceStatus.CHECKED_IN.value
    place.changed_by, place.changed_at = actor.user_id, utcnow()
    uow.session.flush()
    _record_place(uow, actor, Action.NIGHT_CHECK_IN, place, person)
    view = CheckedIn(place.id, place.night, _card(person), place.status)
    uow.commit()
    return view
