"""Programme C's shelters: the city's coordinator adds a partner's shelter and changes its
places, for the season or for one cold night with a reason, but never below the places
already given; a shelter's own staff see tonight's list and check people in, each person
listed on the access log first. Another partner's staff find nothing; bad input names the
field and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.base import utcnow
from referral.db.models import Organisation
from referral.db.nights import (
    AllocationRun,
    CapacityChange,
    NightPerson,
    NightPlace,
    RegistrationDay,
    Shelter,
)
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from referral.services.nights import people, shelters, tonight
from referral.services.nights.capacity import Places, places_on
from referral.services.nights.shelters import NewShelter, ShelterChange
from tests.factories import Factory

TODAY = date(2027, 1, 12)
# Stockholm is UTC+1 in January.
EVENING = datetime(2027, 1, 12, 20, 0, tzinfo=UTC)  # 21:00 on TODAY
SMALL_HOURS = datetime(2027, 1, 12, 0, 30, tzinfo=UTC)  # 01:30 on TODAY: last night still
MORNING_AFTER_NIGHT = datetime(2027, 1, 12, 6, 0, tzinfo=UTC)  # 07:00 on TODAY
TOMORROW = TODAY + timedelta(days=1)
YESTERDAY = TODAY - timedelta(days=1)


@dataclass
class World:
    coordinator: Actor  # the city's central officer
    partner: Organisation
    staff: Actor  # night staff of the partner that keeps the shelter
    other_staff: Actor  # night staff of another partner
    group_leader: Actor  # the same partner, another programme


def _actor(organisation: Organisation, role: Role) -> Actor:
    return Actor(
        f"test-{role.value}-{organisation.id[:6]}", role.value, organisation.id, frozenset({role})
    )


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


@pytest.fixture
def world(factory: Factory) -> World:
    city, partner, other = (factory.organisation(k) for k in ("city", "partner", "partner"))
    return World(
        coordinator=_actor(city, Role.NIGHT_COORDINATOR),
        partner=partner,
        staff=_actor(partner, Role.NIGHT_STAFF),
        other_staff=_actor(other, Role.NIGHT_STAFF),
        group_leader=_actor(partner, Role.GROUP_LEADER),
    )


def _new(world: World, **changes: Any) -> NewShelter:
    usual = NewShelter(world.partner.id, "Natthärbärget Test", 10, TODAY - timedelta(days=30))
    return replace(usual, **{"reserved_for_women": 2, "reserved_for_men": 2, **changes})


def _shelter(uow: UnitOfWork, world: World, **changes: Any) -> shelters.ShelterView:
    return shelters.create_shelter(uow, world.coordinator, _new(world, **changes), TODAY)


def _count(uow: UnitOfWork, model: type) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _actions(uow: UnitOfWork, object_id: str) -> list[str]:
    return list(
        uow.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == object_id)
            .order_by(AuditEntry.sequence)
        )
    )


def give_places(
    uow: UnitOfWork, staff: Actor, shelter_id: str, night: date, kinds: list[str]
) -> list[tuple[str, people.PersonCard]]:
    """Places given on `night` to new card holders, one of each kind in `kinds`, as an
    allocation run would leave them: (place id, card)."""
    cards = [people.issue_card(uow, staff, people.NewPerson(), TODAY) for _kind in kinds]
    day = RegistrationDay(day=night, commitment="c" * 64, seed="5eed" * 16)
    uow.session.add(day)
    uow.session.flush()
    run = AllocationRun(
        day_id=day.id,
        day=night,
        algorithm_version="test",
        inputs_digest="d" * 64,
        seed="5eed" * 16,
        seed_commitment="c" * 64,
        registered=len(kinds),
        placed=len(kinds),
        turned_away=0,
        ran_by="test",
    )
    uow.session.add(run)
    uow.session.flush()
    places = [
        NightPlace(
            run_id=run.id, person_id=card.id, shelter_id=shelter_id, night=night, place_kind=kind
        )
        for card, kind in zip(cards, kinds, strict=True)
    ]
    uow.session.add_all(places)
    uow.commit()
    return [(place.id, card) for place, card in zip(places, cards, strict=True)]


# --- shelters ------------------------------------------------------------------------------


def test_the_coordinator_adds_a_partners_shelter_which_only_that_partners_staff_see(
    uow: UnitOfWork, world: World
) -> None:
    added = _shelter(uow, world, name="  Härbärget   Test  ", closes_on=date(2027, 4, 30))
    assert (added.name, added.places) == ("Härbärget Test", Places(10, 2, 2))
    assert added.organisation_name == world.partner.name
    assert [s.id for s in shelters.shelters(uow, world.coordinator)] == [added.id]
    assert [s.id for s in shelters.shelters(uow, world.staff)] == [added.id]
    assert shelters.shelters(uow, world.other_staff) == []
    assert _actions(uow, added.id) == ["night_shelter:change"]


def test_only_the_coordinator_keeps_shelters(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(NotPermitted):
        shelters.create_shelter(uow, world.staff, _new(world), TODAY)
    with pytest.raises(NotPermitted):
        shelters.shelters(uow, world.group_leader)
    assert _count(uow, Shelter) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Härbärget\x00"}, "name"),
        ({"places": -1, "reserved_for_women": 0, "reserved_for_men": 0}, "places"),
        ({"places": 1_000_000}, "places"),
        ({"reserved_for_women": -1}, "reserved_for_women"),
        ({"reserved_for_men": -1}, "reserved_for_men"),
        ({"places": 3}, "places"),  # 2 + 2 reserved do not fit in 3
        ({"opens_on": None}, "opens_on"),
        ({"closes_on": TODAY - timedelta(days=31)}, "closes_on"),  # before it opens
        ({"closes_on": YESTERDAY}, "closes_on"),  # a closing date in the past
        ({"organisation_id": ""}, "organisation_id"),
    ],
)
def test_bad_shelter_input_names_the_field_and_writes_nothing(
    uow: UnitOfWork, world: World, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises((InvalidInput, NotFound)) as refused:
        _shelter(uow, world, **changes)
    assert refused.value.field == field
    assert _count(uow, Shelter) == 0


def test_a_district_keeps_no_night_shelter(uow: UnitOfWork, world: World, factory: Factory) -> None:
    district = factory.organisation("district")
    with pytest.raises(InvalidInput) as refused:
        _shelter(uow, world, organisation_id=district.id)
    assert refused.value.field == "organisation_id"
    assert _count(uow, Shelter) == 0


def test_the_usual_places_change_but_never_below_what_a_coming_night_has_given(
    uow: UnitOfWork, world: World
) -> None:
    shelter = _shelter(uow, world)
    give_places(uow, world.staff, shelter.id, TOMORROW, ["women", "women", "unreserved"])
    give_places(uow, world.staff, shelter.id, YESTERDAY, ["men", "men"])  # has passed
    with pytest.raises(Conflict) as too_few:
        shelters.update_shelter(uow, world.coordinator, shelter.id, ShelterChange(10, 1, 0), TODAY)
    assert too_few.value.field == "places"
    assert "3 places are already given" in too_few.value.message
    with pytest.raises(Conflict) as closing:
        shelters.update_shelter(
            uow, world.coordinator, shelter.id, ShelterChange(10, 2, 2, TODAY), TODAY
        )
    assert closing.value.field == "closes_on"
    assert shelters.shelters(uow, world.coordinator)[0].places == Places(10, 2, 2)
    # Last night's men's places have passed: the men's reserved places may go.
    changed = shelters.update_shelter(
        uow, world.coordinator, shelter.id, ShelterChange(6, 2, 0, TOMORROW), TODAY
    )
    assert (changed.places, changed.closes_on) == (Places(6, 2, 0), TOMORROW)
    assert _actions(uow, shelter.id) == ["night_shelter:change"] * 2


def test_a_night_with_its_own_capacity_keeps_it_when_the_usual_places_change(
    uow: UnitOfWork, world: World
) -> None:
    shelter = _shelter(uow, world)
    give_places(uow, world.staff, shelter.id, TOMORROW, ["women", "women"])
    shelters.change_capacity(
        uow, world.coordinator, shelter.id, TOMORROW, 12, 4, 0, "Kall natt", TODAY
    )
    shelters.update_shelter(uow, world.coordinator, shelter.id, ShelterChange(8, 0, 0), TODAY)
    row = uow.session.get(Shelter, shelter.id)
    assert row is not None
    assert places_on(uow, row, [TOMORROW, TOMORROW + timedelta(days=1)]) == {
        TOMORROW: Places(12, 4, 0),
        TOMORROW + timedelta(days=1): Places(8, 0, 0),
    }


# --- one night's capacity ------------------------------------------------------------------


def test_the_coordinator_adds_places_for_a_cold_night_and_the_latest_change_stands(
    uow: UnitOfWork, world: World
) -> None:
    shelter = _shelter(uow, world)
    first = shelters.change_capacity(
        uow, world.coordinator, shelter.id, TOMORROW, 14, 2, 2, "Minus 15 grader i natt", TODAY
    )
    assert (first.places, first.reason, first.given) == (
        Places(14, 2, 2),
        "Minus 15 grader i natt",
        0,
    )
    shelters.change_capacity(
        uow, world.coordinator, shelter.id, TOMORROW, 16, 2, 2, "Ännu kallare", TODAY
    )
    row = uow.session.get(Shelter, shelter.id)
    assert row is not None
    assert places_on(uow, row, [TODAY, TOMORROW]) == {
        TODAY: Places(10, 2, 2),
        TOMORROW: Places(16, 2, 2),
    }
    assert _count(uow, CapacityChange) == 2
    assert _actions(uow, shelter.id) == ["night_shelter:change"] + ["night_shelter:capacity"] * 2


def test_a_nights_capacity_is_never_below_what_is_given_of_each_kind(
    uow: UnitOfWork, world: World
) -> None:
    shelter = _shelter(uow, world)
    give_places(uow, world.staff, shelter.id, TODAY, ["women", "women", "men", "unreserved"])
    for places, women, men in ((3, 0, 0), (10, 1, 2), (10, 2, 0)):
        with pytest.raises(Conflict) as refused:
            shelters.change_capacity(
                uow,
                world.coordinator,
                shelter.id,
                TODAY,
                places,
                women,
                men,
                "Personalbrist",
                TODAY,
            )
        assert refused.value.field == "places"
        assert "4 places are already given" in refused.value.message
    assert _count(uow, CapacityChange) == 0
    fewer = shelters.change_capacity(
        uow, world.coordinator, shelter.id, TODAY, 4, 2, 1, "Personalbrist", TODAY
    )
    assert (fewer.places, fewer.given) == (Places(4, 2, 1), 4)


@pytest.mark.parametrize(
    ("night", "reason", "field"),
    [
        (YESTERDAY, "Kall natt", "night"),
        (TODAY + timedelta(days=200), "Kall natt", "night"),  # after the shelter closes
        (date(2027, 5, 1), "Kall natt", "night"),  # the day after it closes
        (TOMORROW, "  ", "reason"),
        (TOMORROW, "x" * 301, "reason"),
        (TOMORROW, "Kall\x07natt", "reason"),
    ],
)
def test_a_bad_capacity_change_names_the_field_and_writes_nothing(
    uow: UnitOfWork, world: World, night: date, reason: str, field: str
) -> None:
    shelter = _shelter(uow, world, closes_on=date(2027, 4, 30))
    with pytest.raises(InvalidInput) as refused:
        shelters.change_capacity(uow, world.coordinator, shelter.id, night, 12, 2, 2, reason, TODAY)
    assert refused.value.field == field
    assert _count(uow, CapacityChange) == 0


def test_no_places_are_changed_before_a_shelter_opens(uow: UnitOfWork, world: World) -> None:
    shelter = _shelter(uow, world, opens_on=TODAY + timedelta(days=7))
    with pytest.raises(InvalidInput) as refused:
        shelters.change_capacity(uow, world.coordinator, shelter.id, TOMORROW, 12, 2, 2, "x", TODAY)
    assert refused.value.field == "night"
    assert _count(uow, CapacityChange) == 0


def test_only_the_coordinator_changes_a_nights_capacity(uow: UnitOfWork, world: World) -> None:
    shelter = _shelter(uow, world)
    with pytest.raises(NotPermitted):
        shelters.change_capacity(uow, world.staff, shelter.id, TODAY, 12, 2, 2, "Kall", TODAY)
    with pytest.raises(NotFound) as unknown:
        shelters.change_capacity(uow, world.coordinator, "no-such", TODAY, 12, 2, 2, "x", TODAY)
    assert unknown.value.field == "shelter_id"
    assert _count(uow, CapacityChange) == 0


# --- tonight's list and check-in -----------------------------------------------------------


def test_the_shelters_staff_see_tonights_list_each_person_logged(
    uow: UnitOfWork, world: World
) -> None:
    shelter = _shelter(uow, world)
    given = give_places(uow, world.staff, shelter.id, TODAY, ["women", "unreserved", "men"])
    purged = uow.session.get(NightPerson, given[2][1].id)
    assert purged is not None
    purged.purged_at, purged.card_number = utcnow(), None  # as the purge leaves a person
    uow.commit()
    night = tonight.tonight(uow, world.staff, shelter.id, TODAY)
    assert (night.shelter_name, night.places, night.given) == (shelter.name, Places(10, 2, 2), 3)
    listed = {p.place_id: p for p in night.people}
    assert set(listed) == {given[0][0], given[1][0]}
    first = listed[given[0][0]]
    assert first.card_number == f"{given[0][1].card_number[:4]} {given[0][1].card_number[4:]}"
    assert (first.place_kind, first.status, first.from_reserve) == ("women", "allocated", False)
    entries = uow.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "night_shelter:list")
    ).all()
    assert sorted(e.subject_id or "" for e in entries) == sorted(c.id for _p, c in given[:2])


def test_tonights_list_is_the_shelters_own_staffs_only(uow: UnitOfWork, world: World) -> None:
    shelter = _shelter(uow, world)
    give_places(uow, world.staff, shelter.id, TODAY, ["women"])
    with pytest.raises(NotFound) as hidden:
        tonight.tonight(uow, world.other_staff, shelter.id, TODAY)
    assert hidden.value.field == "shelter_id"
    for outsider in (world.group_leader, world.coordinator):
        with pytest.raises(NotPermitted):
            tonight.tonight(uow, outsider, shelter.id, TODAY)
    assert not uow.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "night_shelter:list")
    ).all()


def test_a_person_is_checked_in_once_tonight_or_after_midnight_but_not_the_next_day(
    uow: UnitOfWork, world: World
) -> None:
    shelter = _shelter(uow, world)
    ((tonight_place, card),) = give_places(uow, world.staff, shelter.id, TODAY, ["men"])
    ((last_night_place, _card),) = give_places(uow, world.staff, shelter.id, YESTERDAY, ["men"])
    checked = tonight.check_in(uow, world.staff, tonight_place, EVENING)
    assert (checked.status, checked.night) == ("checked_in", TODAY)
    assert tonight.tonight(uow, world.staff, shelter.id, TODAY).checked_in == 1
    with pytest.raises(Conflict) as twice:
        tonight.check_in(uow, world.staff, tonight_place, EVENING)
    assert twice.value.field == "place_id"
    # At 07:00 last night is over: too late to say the person came.
    with pytest.raises(Conflict):
        tonight.check_in(uow, world.staff, last_night_place, MORNING_AFTER_NIGHT)
    # Let in at 01:30: the calendar day is already the next one, the night is not.
    assert tonight.check_in(uow, world.staff, last_night_place, SMALL_HOURS).status == "checked_in"
    (entry,) = uow.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "night_place:check_in", AuditEntry.object_id == tonight_place
        )
    )
    assert entry.subject_id == card.id


@pytest.mark.parametrize("night", [TODAY - timedelta(days=2), TOMORROW])
def test_only_tonights_places_are_checked_in(uow: UnitOfWork, world: World, night: date) -> None:
    shelter = _shelter(uow, world)
    ((place_id, _card),) = give_places(uow, world.staff, shelter.id, night, ["women"])
    with pytest.raises(Conflict) as refused:
        tonight.check_in(uow, world.staff, place_id, EVENING)
    assert refused.value.field == "place_id"
    assert uow.session.get(NightPlace, place_id).status == "allocated"  # type: ignore[union-attr]


def test_a_no_show_place_cannot_be_checked_in(uow: UnitOfWork, world: World) -> None:
    shelter = _shelter(uow, world)
    ((place_id, _card),) = give_places(uow, world.staff, shelter.id, TODAY, ["women"])
    place = uow.session.get(NightPlace, place_id)
    assert place is not None
    place.status = "no_show"
    uow.commit()
    with pytest.raises(Conflict):
        tonight.check_in(uow, world.staff, place_id, EVENING)
    assert uow.session.get(NightPlace, place_id).status == "no_show"  # type: ignore[union-attr]


def test_another_partners_staff_cannot_check_in_at_this_shelter(
    uow: UnitOfWork, world: World
) -> None:
    shelter = _shelter(uow, world)
    ((place_id, _card),) = give_places(uow, world.staff, shelter.id, TODAY, ["women"])
    with pytest.raises(NotFound) as hidden:
        tonight.check_in(uow, world.other_staff, place_id, EVENING)
    assert hidden.value.field == "place_id"
    with pytest.raises(NotPermitted):
        tonight.check_in(uow, world.group_leader, place_id, EVENING)
    assert uow.session.get(NightPlace, place_id).status == "allocated"  # type: ignore[union-attr]
    assert not _actions(uow, place_id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"opens_on": date(9999, 12, 31)}, "opens_on"),
        ({"closes_on": TODAY + timedelta(days=3 * 366)}, "closes_on"),
    ],
)
def test_a_shelter_is_not_planned_years_ahead(
    uow: UnitOfWork, world: World, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _shelter(uow, world, **changes)
    assert refused.value.field == field
    assert _count(uow, Shelter) == 0


def test_a_nights_capacity_is_not_changed_years_ahead(uow: UnitOfWork, world: World) -> None:
    shelter = _shelter(uow, world)
    with pytest.raises(InvalidInput) as refused:
        shelters.change_capacity(
            uow,
            world.coordinator,
            shelter.id,
            TODAY + timedelta(days=3 * 366),
            12,
            0,
            0,
            "Långt fram",
            TODAY,
        )
    assert refused.value.field == "night"
