"""The shelters of Programme C: the coordinator keeps them and their places per night (with a
reason for a night's change). Capacity is never cut below the places already given (issue 14,
"nothing lost"). A shelter's list for tonight and check-in: referral.services.nights.tonight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.models import Organisation
from referral.db.nights import CapacityChange, NightPlace, Shelter
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _, ngettext
from referral.policy import Permission, can, organisation_scope, require
from referral.roles import OrganisationKind
from referral.services.nights.capacity import GIVEN, Places, given_by_kind, is_open
from referral.services.nights.people import optional_text

MAX_NAME = 120
MAX_REASON = 300
# Far above any shelter in Stockholm: catches a typo (and a number the column cannot hold).
MAX_PLACES = 1000
_KINDS = ("women", "men", "unreserved")


@dataclass(frozen=True)
class NewShelter:
    organisation_id: str
    name: str
    places: int
    opens_on: date | None
    reserved_for_women: int = 0
    reserved_for_men: int = 0
    closes_on: date | None = None


@dataclass(frozen=True)
class ShelterChange:
    """The usual places and the closing date: what changes over a shelter's season."""

    places: int
    reserved_for_women: int = 0
    reserved_for_men: int = 0
    closes_on: date | None = None


@dataclass(frozen=True)
class ShelterView:
    id: str
    organisation_id: str
    organisation_name: str
    name: str
    places: Places
    opens_on: date
    closes_on: date | None


@dataclass(frozen=True)
class CapacityView:
    id: str
    shelter_id: str
    night: date
    places: Places
    reason: str
    given: int


def _places(places: int, women: int, men: int) -> Places:
    for value, field in (
        (places, "places"),
        (women, "reserved_for_women"),
        (men, "reserved_for_men"),
    ):
        if not 0 <= value <= MAX_PLACES:
            raise InvalidInput(_("Give a number from 0 to %(n)s.", n=MAX_PLACES), field=field)
    if women + men > places:
        raise InvalidInput(
            _("The places reserved for women and for men cannot be more than the places."),
            field="places",
        )
    return Places(places, women, men)


# Shelters are planned a season or two ahead, capacity a few weeks: a date further off is a
# typing error (and 9999-12-31 has no next night).
PLANNING_YEARS = 2


def within_reach(day: date | None, field: str, today: date) -> date | None:
    """`day`, unless it is further ahead than anyone plans (422 naming `field`)."""
    if day is not None and day > today + timedelta(days=366 * PLANNING_YEARS):
        raise InvalidInput(_("At most %(n)s years ahead.", n=PLANNING_YEARS), field=field)
    return day


def _closing(opens_on: date, closes_on: date | None, today: date) -> date | None:
    within_reach(closes_on, "closes_on", today)
    if closes_on is not None and closes_on < opens_on:
        raise InvalidInput(_("A shelter cannot close before it opens."), field="closes_on")
    # The nights that have passed stay as they were: a closing date is set ahead of time.
    if closes_on is not None and closes_on < today:
        raise InvalidInput(_("A closing date cannot be in the past."), field="closes_on")
    return closes_on


def _refuse_below_given(given: dict[str, int], places: Places, night: date) -> None:
    """409 unless every kind of place still holds what is given of it that night."""
    if all(given.get(kind, 0) <= places.of_kind(kind) for kind in _KINDS):
        return
    raise Conflict(
        ngettext(
            "%(num)s place is already given on %(night)s (%(women)s for women, %(men)s for "
            "men, %(other)s unreserved): the places cannot be fewer.",
            "%(num)s places are already given on %(night)s (%(women)s for women, %(men)s for "
            "men, %(other)s unreserved): the places cannot be fewer.",
            sum(given.values()),
            night=night.isoformat(),
            women=given.get("women", 0),
            men=given.get("men", 0),
            other=given.get("unreserved", 0),
        ),
        field="places",
    )


def _view(shelter: Shelter, organisation_name: str) -> ShelterView:
    return ShelterView(
        id=shelter.id,
        organisation_id=shelter.organisation_id,
        organisation_name=organisation_name,
        name=shelter.name,
        places=Places(shelter.places, shelter.reserved_for_women, shelter.reserved_for_men),
        opens_on=shelter.opens_on,
        closes_on=shelter.closes_on,
    )


def _coordinated(uow: UnitOfWork, shelter_id: str | None) -> Shelter:
    """A shelter for the coordinator, whose reach is every shelter of the partnership (a
    shelter is otherwise its own organisation's only). Locked until commit, so that two
    changes of one shelter's places take turns and each checks what the other gave."""
    found = (
        uow.session.get(Shelter, shelter_id, with_for_update=True, populate_existing=True)
        if shelter_id
        else None
    )
    if found is None:
        raise NotFound(_("No such shelter."), field="shelter_id")
    return found


def _record(uow: UnitOfWork, actor: Actor, action: Action, shelter: Shelter) -> None:
    record(uow.session, actor, action, object_type="night_shelter", object_id=shelter.id)


def create_shelter(uow: UnitOfWork, actor: Actor, new: NewShelter, today: date) -> ShelterView:
    """Add a partner's (or the city's) shelter with its usual places per night."""
    require(actor, Permission.NIGHT_COORDINATE)
    organisation = (
        uow.session.get(Organisation, new.organisation_id) if new.organisation_id else None
    )
    if organisation is None:
        raise NotFound(_("No such organisation."), field="organisation_id")
    if organisation.kind == OrganisationKind.DISTRICT.value:
        raise InvalidInput(
            _("Night shelters are kept by a partner or the city, not by a district."),
            field="organisation_id",
        )
    name = optional_text(new.name, "name", MAX_NAME)
    if name is None:
        raise InvalidInput(_("This field is required."), field="name")
    places = _places(new.places, new.reserved_for_women, new.reserved_for_men)
    if new.opens_on is None:
        raise InvalidInput(_("This field is required."), field="opens_on")
    within_reach(new.opens_on, "opens_on", today)
    shelter = Shelter(
        organisation_id=organisation.id,
        name=name,
        places=places.places,
        reserved_for_women=places.reserved_for_women,
        reserved_for_men=places.reserved_for_men,
        opens_on=new.opens_on,
        closes_on=_closing(new.opens_on, new.closes_on, today),
        created_by=actor.user_id,
    )
    uow.session.add(shelter)
    uow.session.flush()
    _record(uow, actor, Action.NIGHT_SHELTER_CHANGE, shelter)
    view = _view(shelter, organisation.name)
    uow.commit()
    return view


def update_shelter(
    uow: UnitOfWork, actor: Actor, shelter_id: str, change: ShelterChange, today: date
) -> ShelterView:
    """Change a shelter's usual places or closing date. Refused (409) when a night from today
    on that keeps the usual places would have fewer of a kind than are given there, or when
    the shelter would close before a night with places given."""
    require(actor, Permission.NIGHT_COORDINATE)
    shelter = _coordinated(uow, shelter_id)
    usual = _places(change.places, change.reserved_for_women, change.reserved_for_men)
    closes_on = _closing(shelter.opens_on, change.closes_on, today)
    given = select(NightPlace.night).where(
        NightPlace.shelter_id == shelter.id,
        NightPlace.night >= today,
        NightPlace.status.in_(GIVEN),
    )
    last = uow.session.scalar(given.order_by(NightPlace.night.desc()).limit(1))
    if closes_on is not None and last is not None and last > closes_on:
        raise Conflict(
            _("Places are given on %(night)s: the shelter cannot close before.", night=last),
            field="closes_on",
        )
    # A night the coordinator changed keeps its own places; the others take the new usual.
    own_change = (
        select(CapacityChange.id)
        .where(CapacityChange.shelter_id == shelter.id, CapacityChange.night == NightPlace.night)
        .exists()
    )
    for night in uow.session.scalars(given.where(~own_change).distinct()).all():
        _refuse_below_given(given_by_kind(uow, shelter.id, night), usual, night)
    shelter.places = usual.places
    shelter.reserved_for_women = usual.reserved_for_women
    shelter.reserved_for_men = usual.reserved_for_men
    shelter.closes_on = closes_on
    uow.session.flush()
    _record(uow, actor, Action.NIGHT_SHELTER_CHANGE, shelter)
    organisation = uow.session.get(Organisation, shelter.organisation_id)
    view = _view(shelter, organisation.name if organisation else "")
    uow.commit()
    return view


def shelters(uow: UnitOfWork, actor: Actor) -> list[ShelterView]:
    """The coordinator's every shelter; a night worker's own organisation's. Nothing
    personal, so nothing logged."""
    query = select(Shelter, Organisation.name).join(
        Organisation, Organisation.id == Shelter.organisation_id
    )
    if not can(actor, Permission.NIGHT_COORDINATE):
        require(actor, Permission.NIGHT_SHELTER_KEEP)
        scope = organisation_scope(actor)
        if scope is not None:
            query = query.where(Shelter.organisation_id == scope)
    rows = uow.session.execute(query.order_by(Shelter.name, Shelter.id))
    return [_view(shelter, organisation_name) for shelter, organisation_name in rows]


def change_capacity(
    uow: UnitOfWork,
    actor: Actor,
    shelter_id: str,
    night: date,
    places: int,
    reserved_for_women: int,
    reserved_for_men: int,
    reason: str,
    today: date,
) -> CapacityView:
    """Change one night's places (extra places in cold weather, fewer when staff are short),
    with a reason about the night. The latest change for a night stands."""
    require(actor, Permission.NIGHT_COORDINATE)
    shelter = _coordinated(uow, shelter_id)
    if night < today:
        raise InvalidInput(_("A night that has passed cannot be changed."), field="night")
    within_reach(night, "night", today)
    if not is_open(shelter, night):
        raise InvalidInput(_("The shelter is not open that night."), field="night")
    wanted = _places(places, reserved_for_women, reserved_for_men)
    cleaned = optional_text(reason, "reason", MAX_REASON)
    if cleaned is None:
        raise InvalidInput(_("Say why the places change that night."), field="reason")
    given = given_by_kind(uow, shelter.id, night)
    _refuse_below_given(given, wanted, night)
    change = CapacityChange(
        shelter_id=shelter.id,
        night=night,
        places=wanted.places,
        reserved_for_women=wanted.reserved_for_women,
        reserved_for_men=wanted.reserved_for_men,
        reason=cleaned,
        changed_by=actor.user_id,
    )
    uow.session.add(change)
    uow.session.flush()
    _record(uow, actor, Action.NIGHT_CAPACITY_CHANGE, shelter)
    view = CapacityView(change.id, shelter.id, night, wanted, cleaned, sum(given.values()))
    uow.commit()
    return view
