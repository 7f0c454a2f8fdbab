"""Exclusions from a night shelter: the shelter's own staff exclude a card holder for a time
(at most a year), with a reason; the person may ask for a review at any desk; the shelter or
the coordinator lift it. Each exclusion listed is on the access log under the person's key
scope first. Another partner's staff find nothing; bad input names the field and writes
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from referral import card_numbers
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.nights import Exclusion
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from referral.services.nights import exclusions, people, shelters
from referral.services.nights.shelters import NewShelter
from tests.factories import Factory

TODAY = date(2027, 1, 12)
NOW = datetime(2027, 1, 12, 14, 0, tzinfo=UTC)
IN_A_MONTH = TODAY + timedelta(days=30)


@dataclass
class World:
    coordinator: Actor  # the city's central officer
    staff: Actor  # night staff of the partner that keeps the shelter
    other_staff: Actor  # night staff of another partner, which keeps a shelter of its own
    group_leader: Actor  # the same partner, another programme
    shelter: shelters.ShelterView
    other_shelter: shelters.ShelterView
    card: people.PersonCard


def _actor(organisation: Organisation, role: Role) -> Actor:
    return Actor(
        f"test-{role.value}-{organisation.id[:6]}",
        role.value,
        organisation.id,
        frozenset({role}),
    )


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


@pytest.fixture
def world(uow: UnitOfWork, factory: Factory) -> World:
    city, partner, other = (factory.organisation(k) for k in ("city", "partner", "partner"))
    coordinator = _actor(city, Role.NIGHT_COORDINATOR)

    def shelter(organisation: Organisation, name: str) -> shelters.ShelterView:
        new = NewShelter(organisation.id, name, 20, TODAY - timedelta(days=60))
        return shelters.create_shelter(uow, coordinator, new, TODAY)

    staff = _actor(partner, Role.NIGHT_STAFF)
    return World(
        coordinator=coordinator,
        staff=staff,
        other_staff=_actor(other, Role.NIGHT_STAFF),
        group_leader=_actor(partner, Role.GROUP_LEADER),
        shelter=shelter(partner, "Härbärget A"),
        other_shelter=shelter(other, "Härbärget B"),
        card=people.issue_card(uow, staff, people.NewPerson(alias="Ion"), TODAY),
    )


def _exclude(
    uow: UnitOfWork,
    world: World,
    reason: str = "Hotade personal med kniv.",
    expires_on: date | None = IN_A_MONTH,
    card: str | None = None,
) -> exclusions.ExclusionView:
    return exclusions.exclude(
        uow,
        world.staff,
        world.shelter.id,
        card or world.card.card_number,
        reason,
        expires_on,
        TODAY,
    )


def _count(uow: UnitOfWork) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(Exclusion)) or 0)


def _logged(uow: UnitOfWork, action: str, exclusion_id: str) -> list[str | None]:
    """The subjects of the access log's entries of `action` on the exclusion."""
    return list(
        uow.session.scalars(
            select(AuditEntry.subject_id).where(
                AuditEntry.action == action, AuditEntry.object_id == exclusion_id
            )
        )
    )


def test_a_shelter_excludes_a_person_for_a_time_and_sees_it_listed(
    uow: UnitOfWork, world: World
) -> None:
    excluded = _exclude(uow, world, reason="Hotade personal\nmed kniv.")
    printed = f"{world.card.card_number[:4]} {world.card.card_number[4:]}"
    assert (excluded.card_number, excluded.shelter_name) == (printed, "Härbärget A")
    assert (excluded.starts_on, excluded.expires_on, excluded.active) == (TODAY, IN_A_MONTH, True)
    assert excluded.reason == "Hotade personal med kniv."  # one paragraph
    assert _logged(uow, "night_exclusion:set", excluded.id) == [world.card.id]
    (listed,) = exclusions.exclusions(uow, world.staff, TODAY)
    assert listed == excluded
    assert _logged(uow, "night_exclusion:read", excluded.id) == [world.card.id]
    # The coordinator sees every shelter's; another partner's staff see none of this one's.
    assert [e.id for e in exclusions.exclusions(uow, world.coordinator, TODAY)] == [excluded.id]
    assert exclusions.exclusions(uow, world.other_staff, TODAY) == []
    # The reason is sealed: the column holds no plaintext.
    (stored,) = uow.session.execute(text("SELECT reason FROM night_exclusions")).scalars()
    assert b"kniv" not in bytes(stored)


@pytest.mark.parametrize(
    ("reason", "expires_on", "field"),
    [
        ("   ", IN_A_MONTH, "reason"),
        ("x" * 501, IN_A_MONTH, "reason"),
        ("Hotade\x00personal", IN_A_MONTH, "reason"),
        ("Hot", None, "expires_on"),
        ("Hot", TODAY, "expires_on"),
        ("Hot", TODAY - timedelta(days=1), "expires_on"),
        ("Hot", TODAY + timedelta(days=366), "expires_on"),
    ],
)
def test_bad_exclusion_input_names_the_field_and_writes_nothing(
    uow: UnitOfWork, world: World, reason: str, expires_on: date | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _exclude(uow, world, reason, expires_on)
    assert refused.value.field == field
    assert _count(uow) == 0


def test_a_year_is_the_longest_exclusion(uow: UnitOfWork, world: World) -> None:
    assert _exclude(uow, world, expires_on=TODAY + timedelta(days=365)).active


def test_an_unknown_or_mistyped_card_names_the_card_field(uow: UnitOfWork, world: World) -> None:
    number = world.card.card_number
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as refused:
        _exclude(uow, world, card=mistyped)
    assert refused.value.field == "card_number"
    with pytest.raises(NotFound) as missing:
        _exclude(uow, world, card=card_numbers.new_card_number())  # valid, never issued
    assert missing.value.field == "card_number"
    assert _count(uow) == 0


def test_one_exclusion_in_force_per_person_and_shelter(uow: UnitOfWork, world: World) -> None:
    first = _exclude(uow, world)
    with pytest.raises(Conflict) as twice:
        _exclude(uow, world, expires_on=IN_A_MONTH + timedelta(days=30))
    assert twice.value.field == "card_number"
    assert _count(uow) == 1
    # Another shelter may exclude the same person; and once lifted, a new one may be set.
    exclusions.exclude(
        uow,
        world.other_staff,
        world.other_shelter.id,
        world.card.card_number,
        "Hot",
        IN_A_MONTH,
        TODAY,
    )
    exclusions.lift(uow, world.staff, first.id, NOW)
    assert _exclude(uow, world).active
    assert _count(uow) == 3


def test_only_the_shelters_own_staff_exclude_from_it(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(NotFound) as hidden:
        exclusions.exclude(
            uow,
            world.other_staff,
            world.shelter.id,
            world.card.card_number,
            "Hot",
            IN_A_MONTH,
            TODAY,
        )
    assert hidden.value.field == "shelter_id"
    for outsider in (world.coordinator, world.group_leader):
        with pytest.raises(NotPermitted):
            exclusions.exclude(
                uow, outsider, world.shelter.id, world.card.card_number, "Hot", IN_A_MONTH, TODAY
            )
    with pytest.raises(NotPermitted):
        exclusions.exclusions(uow, world.group_leader, TODAY)
    assert _count(uow) == 0


def test_the_person_asks_for_a_review_at_any_desk_once(uow: UnitOfWork, world: World) -> None:
    excluded = _exclude(uow, world)
    # At another partner's desk: recorded, but the reason stays with the shelter.
    asked = exclusions.request_review(uow, world.other_staff, excluded.id, NOW)
    assert (asked.review_requested_at, asked.reason) == (NOW, None)
    assert _logged(uow, "night_exclusion:review", excluded.id) == [world.card.id]
    with pytest.raises(Conflict) as twice:
        exclusions.request_review(uow, world.staff, excluded.id, NOW)
    assert twice.value.field == "exclusion_id"
    (listed,) = exclusions.exclusions(uow, world.staff, TODAY)
    assert (listed.review_requested_at, listed.reason) == (NOW, "Hotade personal med kniv.")
    with pytest.raises(NotPermitted):
        exclusions.request_review(uow, world.group_leader, excluded.id, NOW)


def test_a_lifted_exclusion_takes_no_review_request(uow: UnitOfWork, world: World) -> None:
    excluded = _exclude(uow, world)
    exclusions.lift(uow, world.coordinator, excluded.id, NOW)
    with pytest.raises(Conflict):
        exclusions.request_review(uow, world.staff, excluded.id, NOW)
    assert uow.session.get(Exclusion, excluded.id).review_requested_at is None  # type: ignore[union-attr]


def test_the_shelter_or_the_coordinator_lifts_an_exclusion_once(
    uow: UnitOfWork, world: World
) -> None:
    excluded = _exclude(uow, world)
    with pytest.raises(NotFound) as hidden:
        exclusions.lift(uow, world.other_staff, excluded.id, NOW)
    assert hidden.value.field == "exclusion_id"
    with pytest.raises(NotPermitted):
        exclusions.lift(uow, world.group_leader, excluded.id, NOW)
    lifted = exclusions.lift(uow, world.coordinator, excluded.id, NOW)
    assert (lifted.lifted_at, lifted.active) == (NOW, False)
    assert _logged(uow, "night_exclusion:lift", excluded.id) == [world.card.id]
    with pytest.raises(Conflict) as twice:
        exclusions.lift(uow, world.staff, excluded.id, NOW)
    assert twice.value.field == "exclusion_id"
    # Off the list in force; still on the history.
    assert exclusions.exclusions(uow, world.staff, TODAY) == []
    (past,) = exclusions.exclusions(uow, world.staff, TODAY, include_past=True)
    assert (past.id, past.active) == (excluded.id, False)


def test_the_shelters_own_staff_lift_their_exclusion(uow: UnitOfWork, world: World) -> None:
    excluded = _exclude(uow, world)
    assert exclusions.lift(uow, world.staff, excluded.id, NOW).lifted_at == NOW


def test_an_expired_exclusion_leaves_the_list_in_force(uow: UnitOfWork, world: World) -> None:
    excluded = _exclude(uow, world)
    assert [e.id for e in exclusions.exclusions(uow, world.staff, IN_A_MONTH)] == [excluded.id]
    later = IN_A_MONTH + timedelta(days=1)
    assert exclusions.exclusions(uow, world.staff, later) == []
    (past,) = exclusions.exclusions(uow, world.staff, later, include_past=True)
    assert not past.active
