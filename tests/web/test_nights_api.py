"""Programme C over the JSON API: the desk issues and looks up cards (by POST, never in a
URL) and registers people in the weekday morning window; the coordinator runs the allocation
and keeps the shelters; the published result needs no login and names card numbers only.
Bad input is a problem document naming the field, and writes nothing; other roles are kept
out of the night routes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from config import Settings
from referral import card_numbers
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.nights import (
    AllocationRun,
    CapacityChange,
    Exclusion,
    NightPerson,
    NightPlace,
    NightRegistration,
    Shelter,
)
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from tests.conftest import FrozenClock
from tests.factories import ApiClient, Factory, api_client

# Wednesday 3 March 2027, a working day: the window is 09:00-11:00 Stockholm (08-10 UTC).
DAY = date(2027, 3, 3)
BEFORE_WINDOW = datetime(2027, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Stockholm
IN_WINDOW = datetime(2027, 3, 3, 8, 30, tzinfo=UTC)
AFTER_WINDOW = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
EVENING = datetime(2027, 3, 3, 20, 30, tzinfo=UTC)  # 21:30, after the no-show time
FRIDAY_NOON = datetime(2027, 3, 5, 11, 0, tzinfo=UTC)

ALIAS = "Hemlig Qzvx"
COUNTRY = "Rumänien"
SHELTER_NAME = "Härbärget Qwyx"
OVERRIDE_REASON = "Hotad till livet Zqx"
NIGHTS = "/api/v1/nights"


class _Lowest:
    """A random source that always draws the first card number there is."""

    def randbelow(self, exclusive_upper_bound: int, /) -> int:
        return 0


UNISSUED = card_numbers.new_card_number(_Lowest())  # valid, and never drawn in these tests


@pytest.fixture
def settings(settings_with: Callable[..., Settings]) -> Settings:
    """Sessions that outlive the days the frozen clock is moved through."""
    return settings_with(session_idle_minutes=7 * 24 * 60, session_absolute_hours=7 * 24)


@dataclass
class World:
    app: Flask
    factory: Factory
    clock: FrozenClock
    partner: Organisation
    city: Organisation
    shelter_id: str
    staff: ApiClient  # night staff of the partner keeping the shelter

    @cached_property
    def coordinator(self) -> ApiClient:
        """Logged in on first use: a login is slow (password hashing)."""
        return api_client(self.app, self.factory.account("night_coordinator", self.city))

    def issue(self, **person: object) -> str:
        response = self.staff.post(f"{NIGHTS}/cards", person)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["card_number"])

    def register(self, card: str, **override: object) -> TestResponse:
        return self.staff.post(f"{NIGHTS}/registrations", {"card_number": card, **override})

    def run(self) -> TestResponse:
        return self.coordinator.post(f"{NIGHTS}/allocations")


def _add_shelter(app: Flask, organisation_id: str, places: int) -> str:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        shelter = Shelter(
            organisation_id=organisation_id,
            name=SHELTER_NAME,
            places=places,
            opens_on=date(2026, 11, 1),
            created_by="test",
        )
        uow.session.add(shelter)
        uow.commit()
        return shelter.id


@pytest.fixture
def world(app: Flask, factory: Factory, monkeypatch: pytest.MonkeyPatch) -> World:
    clock = FrozenClock(monkeypatch, IN_WINDOW)
    partner = factory.organisation("partner")
    city = factory.organisation("city")
    return World(
        app=app,
        factory=factory,
        clock=clock,
        partner=partner,
        city=city,
        shelter_id=_add_shelter(app, partner.id, places=2),
        staff=api_client(app, factory.account("night_staff", partner)),
    )


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(model)) or 0)


def _actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(request_session().scalars(select(AuditEntry.action)))


def _values(document: object) -> list[object]:
    """Every value in a JSON document, however deep."""
    if isinstance(document, dict):
        return [v for value in document.values() for v in _values(value)]
    if isinstance(document, list):
        return [v for value in document for v in _values(value)]
    return [document]


def _assert_problem(response: TestResponse, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == status
    assert field in problem["errors"], problem
    assert field in problem["detail"]
    return problem


def _printed(card: str) -> str:
    return card_numbers.display(card)


# --- Cards -----------------------------------------------------------------------------------


def test_a_card_is_issued_and_looked_up_by_its_number_in_a_post_body(world: World) -> None:
    issued = world.staff.post(
        f"{NIGHTS}/cards",
        {"alias": ALIAS, "birth_year": 1988, "gender": "woman", "country_of_origin": COUNTRY},
    )
    assert issued.status_code == 201, issued.get_json()
    card = issued.get_json()
    assert set(card) == {
        "id",
        "card_number",
        "alias",
        "birth_year",
        "gender",
        "country_of_origin",
        "shelter_tonight",
    }
    assert card_numbers.normalise(card["card_number"]) == card["card_number"]
    assert (card["alias"], card["birth_year"], card["country_of_origin"]) == (
        ALIAS,
        1988,
        COUNTRY,
    )

    found = world.staff.post(
        f"{NIGHTS}/cards/look-up", {"card_number": _printed(card["card_number"])}
    )
    assert found.status_code == 200
    assert found.get_json() == card
    assert _actions(world.app).count("night_person:issue_card") == 1
    assert _actions(world.app).count("night_person:read") == 1

    _assert_problem(
        world.staff.post(f"{NIGHTS}/cards/look-up", {"card_number": UNISSUED}), 404, "card_number"
    )
    wrong = card["card_number"][:-1] + str((int(card["card_number"][-1]) + 1) % 10)
    mistyped = world.staff.post(f"{NIGHTS}/cards/look-up", {"card_number": wrong})
    _assert_problem(mistyped, 422, "card_number")
    assert wrong not in mistyped.get_data(as_text=True)


@pytest.mark.asvs("V14.2.1")
def test_no_night_route_takes_a_card_number_in_its_url(app: Flask) -> None:
    night_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(NIGHTS)]
    assert night_rules
    for rule in night_rules:
        assert not any("card" in argument for argument in rule.arguments), rule.rule


def test_a_likely_holder_is_named_before_a_second_card_unless_it_is_someone_else(
    world: World,
) -> None:
    person = {"alias": ALIAS, "birth_year": 1990, "country_of_origin": COUNTRY}
    first = world.issue(**person)
    people_before = _count(world.app, NightPerson)

    again = world.staff.post(f"{NIGHTS}/cards", {**person, "alias": ALIAS.upper(), "gender": "man"})
    problem = _assert_problem(again, 409, "alias")
    assert _printed(first) in problem["detail"]
    assert _count(world.app, NightPerson) == people_before

    confirmed = world.staff.post(f"{NIGHTS}/cards", {**person, "someone_else": True})
    assert confirmed.status_code == 201
    assert confirmed.get_json()["card_number"] != first
    assert _count(world.app, NightPerson) == people_before + 1


# --- Registration ----------------------------------------------------------------------------


def test_registering_in_the_window_gives_a_receipt_for_tonight(world: World) -> None:
    desk = world.staff.get(f"{NIGHTS}/desk")
    assert desk.status_code == 200
    state = desk.get_json()
    assert state["open_now"] is True and state["registered"] == 0
    assert state["day"] == DAY.isoformat() and state["nights"] == [DAY.isoformat()]
    assert len(state["commitment"]) == 64

    card = world.issue()
    registered = world.register(card)
    assert registered.status_code == 201, registered.get_json()
    receipt = registered.get_json()
    assert set(receipt) == {
        "registration_id",
        "card_number",
        "day",
        "nights",
        "override_kind",
        "concern_report_reference",
    }
    assert receipt["card_number"] == _printed(card)
    assert (receipt["day"], receipt["nights"]) == (DAY.isoformat(), [DAY.isoformat()])
    assert receipt["override_kind"] is None
    assert world.staff.get(f"{NIGHTS}/desk").get_json()["registered"] == 1


def test_outside_the_window_registration_is_409_naming_the_next_window(world: World) -> None:
    card = world.issue()
    world.clock.moment = BEFORE_WINDOW
    early = _assert_problem(world.register(card), 409, "window")
    assert "2027-03-03" in early["detail"] and "09:00" in early["detail"]
    # Friday after the window: the next window is Monday's.
    world.clock.moment = FRIDAY_NOON
    late = _assert_problem(world.register(card), 409, "window")
    assert "2027-03-08" in late["detail"] and "09:00" in late["detail"]
    assert _count(world.app, NightRegistration) == 0


def test_an_unknown_card_is_404_and_a_second_registration_409_and_nothing_is_lost(
    world: World,
) -> None:
    _assert_problem(world.register(UNISSUED), 404, "card_number")
    assert _count(world.app, NightRegistration) == 0

    card = world.issue()
    assert world.register(card).status_code == 201
    world.clock.move(minutes=5)
    _assert_problem(world.register(_printed(card)), 409, "card_number")
    assert _count(world.app, NightRegistration) == 1


def test_an_override_ranks_first_and_its_grounds_are_never_published(world: World) -> None:
    cards = [world.issue() for _ in range(3)]
    for card in cards:
        assert world.register(card).status_code == 201
    override = {
        "card_number": cards[2],
        "override_kind": "danger_to_life",
        "override_reason": OVERRIDE_REASON,
    }
    set_later = world.staff.post(f"{NIGHTS}/registrations/override", override)
    assert set_later.status_code == 200, set_later.get_json()
    assert set_later.get_json()["override_kind"] == "danger_to_life"
    assert OVERRIDE_REASON not in set_later.get_data(as_text=True)
    twice = world.staff.post(f"{NIGHTS}/registrations/override", override)
    _assert_problem(twice, 409, "override_kind")

    no_reason = world.register(world.issue(), override_kind="danger_to_life")
    _assert_problem(no_reason, 422, "override_reason")
    assert _count(world.app, NightRegistration) == 3

    world.clock.moment = AFTER_WINDOW
    assert world.run().status_code == 201
    public = world.app.test_client().get(f"{NIGHTS}/results/{DAY.isoformat()}")
    first = public.get_json()["lines"][0]
    assert (first["card_number"], first["override"]) == (_printed(cards[2]), True)
    assert OVERRIDE_REASON not in public.get_data(as_text=True)
    assert "danger_to_life" not in public.get_data(as_text=True)


# --- The allocation and the published result -------------------------------------------------


def test_the_coordinator_runs_the_allocation_once_and_it_verifies(world: World) -> None:
    cards = [world.issue() for _ in range(3)]
    for card in cards:
        assert world.register(card).status_code == 201
    world.clock.moment = AFTER_WINDOW

    ran = world.run()
    assert ran.status_code == 201, ran.get_json()
    summary = ran.get_json()
    assert (summary["registered"], summary["placed"], summary["turned_away"]) == (3, 2, 1)
    assert summary["nights"] == [DAY.isoformat()]
    assert hashlib.sha256(bytes.fromhex(summary["seed"])).hexdigest() == summary["seed_commitment"]
    assert _count(world.app, NightPlace) == 2

    _assert_problem(world.run(), 409, "day")
    assert _count(world.app, AllocationRun) == 1
    _assert_problem(world.register(cards[0]), 409, "window")

    verified = world.coordinator.get(f"{NIGHTS}/allocations/{DAY.isoformat()}/verification")
    assert verified.status_code == 200
    assert verified.get_json() == {
        "day": DAY.isoformat(),
        "inputs_digest_matches": True,
        "commitment_matches": True,
        "result_matches": True,
        "ok": True,
    }
    yesterday = (DAY - timedelta(days=1)).isoformat()
    _assert_problem(
        world.coordinator.get(f"{NIGHTS}/allocations/{yesterday}/verification"), 404, "day"
    )
    _assert_problem(
        world.coordinator.get(f"{NIGHTS}/allocations/3-3-2027/verification"), 404, "day"
    )


def test_the_result_is_public_and_names_card_numbers_and_terms_only(world: World) -> None:
    anyone = world.app.test_client()  # not logged in
    before = anyone.get(f"{NIGHTS}/results/{DAY.isoformat()}")
    assert before.status_code == 200, before.get_data(as_text=True)
    shown = before.get_json()
    assert shown["lines"] == [] and shown["seed"] is None
    commitment = world.staff.get(f"{NIGHTS}/desk").get_json()["commitment"]
    assert anyone.get(f"{NIGHTS}/results/{DAY.isoformat()}").get_json()["commitment"] == commitment

    card = world.issue(alias=ALIAS, birth_year=1980, gender="woman", country_of_origin=COUNTRY)
    others = [world.issue() for _ in range(2)]
    world.register(card, override_kind="danger_to_life", override_reason=OVERRIDE_REASON)
    for other in others:
        world.register(other)
    world.clock.moment = AFTER_WINDOW
    assert world.run().status_code == 201

    audited = len(_actions(world.app))
    after = anyone.get(f"{NIGHTS}/results/{DAY.isoformat()}")
    assert after.status_code == 200
    assert len(_actions(world.app)) == audited  # a public page: nobody is read
    result = after.get_json()
    assert result["commitment"] == commitment
    assert hashlib.sha256(bytes.fromhex(result["seed"])).hexdigest() == commitment
    assert [line["rank"] for line in result["lines"]] == [1, 2, 3]
    assert {line["card_number"] for line in result["lines"]} == {
        _printed(c) for c in [card, *others]
    }
    assert set(result["lines"][0]) == {
        "rank",
        "card_number",
        "override",
        "at_cap",
        "days_since_last_night",
        "nights_last_30_days",
        "draw",
    }  # not who got a place: a card turned away above one placed tells of a restriction
    assert (result["placed"], result["turned_away"]) == (2, 1)
    raw = after.get_data(as_text=True)
    for never_shown in (
        ALIAS,
        COUNTRY,
        "woman",
        SHELTER_NAME,
        world.shelter_id,
        OVERRIDE_REASON,
        "danger_to_life",
    ):
        assert never_shown not in raw
    # The birth year as a value (as text it may turn up inside the hex of a draw or digest).
    assert 1980 not in _values(result) and "1980" not in _values(result)
    assert anyone.get(f"{NIGHTS}/desk").status_code == 401
    _assert_problem(anyone.get(f"{NIGHTS}/results/tomorrow"), 404, "day")


# --- Shelters, tonight's list, no-shows ------------------------------------------------------


def test_the_coordinator_keeps_shelters_and_capacity_never_falls_below_what_is_given(
    world: World,
) -> None:
    created = world.coordinator.post(
        f"{NIGHTS}/shelters",
        {
            "organisation_id": world.partner.id,
            "name": "Vinterhärbärget",
            "places": 4,
            "reserved_for_women": 2,
            "opens_on": DAY.isoformat(),
        },
    )
    assert created.status_code == 201, created.get_json()
    shelter = created.get_json()
    assert (shelter["places"], shelter["reserved_for_women"], shelter["reserved_for_men"]) == (
        4,
        2,
        0,
    )
    changed = world.coordinator.put(
        f"{NIGHTS}/shelters/{shelter['id']}",
        {"places": 6, "reserved_for_women": 2, "reserved_for_men": 0, "closes_on": None},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["places"] == 6
    partial = world.coordinator.put(f"{NIGHTS}/shelters/{shelter['id']}", {"places": 6})
    _assert_problem(partial, 422, "closes_on")
    listed = world.staff.get(f"{NIGHTS}/shelters")
    assert listed.status_code == 200
    assert {s["id"] for s in listed.get_json()} == {world.shelter_id, shelter["id"]}

    # The one shelter of two places is allocated in full tonight.
    for card in [world.issue() for _ in range(2)]:
        world.register(card)
    closed = world.coordinator.put(
        f"{NIGHTS}/shelters/{shelter['id']}",
        {"places": 0, "reserved_for_women": 0, "reserved_for_men": 0, "closes_on": None},
    )
    assert closed.status_code == 200  # nothing given there yet
    world.clock.moment = AFTER_WINDOW
    assert world.run().get_json()["placed"] == 2

    cut = {"night": DAY.isoformat(), "places": 1, "reason": "Personalbrist"}
    below = world.coordinator.post(f"{NIGHTS}/shelters/{world.shelter_id}/capacity", cut)
    _assert_problem(below, 409, "places")
    assert _count(world.app, CapacityChange) == 0
    usual = {"places": 1, "reserved_for_women": 0, "reserved_for_men": 0, "closes_on": None}
    _assert_problem(
        world.coordinator.put(f"{NIGHTS}/shelters/{world.shelter_id}", usual), 409, "places"
    )

    extra = {**cut, "places": 4, "reason": "Kall natt: extra platser"}
    raised = world.coordinator.post(f"{NIGHTS}/shelters/{world.shelter_id}/capacity", extra)
    assert raised.status_code == 201, raised.get_json()
    assert (raised.get_json()["places"], raised.get_json()["given"]) == (4, 2)


def test_the_shelter_lists_tonight_checks_in_and_hands_no_shows_to_the_reserve(
    world: World,
) -> None:
    cards = [world.issue(alias=f"Gäst {n}") for n in range(3)]
    for card in cards:
        world.register(card)
    world.clock.moment = AFTER_WINDOW
    assert world.run().status_code == 201

    listed = world.staff.get(f"{NIGHTS}/shelters/{world.shelter_id}/nights/{DAY.isoformat()}")
    assert listed.status_code == 200, listed.get_json()
    tonight = listed.get_json()
    assert (tonight["places"], tonight["given"], tonight["checked_in"]) == (2, 2, 0)
    assert len(tonight["people"]) == 2
    assert _actions(world.app).count("night_shelter:list") == 2
    arriving, absent = tonight["people"]

    checked = world.staff.post(f"{NIGHTS}/places/{arriving['place_id']}/check-in")
    assert checked.status_code == 200, checked.get_json()
    assert checked.get_json()["status"] == "checked_in"
    again = world.staff.post(f"{NIGHTS}/places/{arriving['place_id']}/check-in")
    _assert_problem(again, 409, "place_id")

    no_show_path = f"{NIGHTS}/shelters/{world.shelter_id}/nights/{DAY.isoformat()}/no-shows"
    too_early = world.staff.post(no_show_path, {"card_numbers": [absent["card_number"]]})
    _assert_problem(too_early, 409, "night")
    world.clock.moment = EVENING
    handed = world.staff.post(no_show_path, {"card_numbers": [absent["card_number"]]})
    assert handed.status_code == 200, handed.get_json()
    receipt = handed.get_json()
    assert receipt["forfeited"] == [absent["card_number"]]
    waiting = {_printed(c) for c in cards} - {arriving["card_number"], absent["card_number"]}
    assert receipt["moved_in"] == list(waiting)
    # The desk tells the one moved in where to go.
    (moved_in,) = receipt["moved_in"]
    looked_up = world.staff.post(f"{NIGHTS}/cards/look-up", {"card_number": moved_in})
    assert looked_up.get_json()["shelter_tonight"] == SHELTER_NAME


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_another_partners_staff_find_no_shelter_of_ours(world: World) -> None:
    other = api_client(
        world.app, world.factory.account("night_staff", world.factory.organisation("partner"))
    )
    assert other.get(f"{NIGHTS}/shelters").get_json() == []
    listed = other.get(f"{NIGHTS}/shelters/{world.shelter_id}/nights/{DAY.isoformat()}")
    assert listed.status_code == 404


# --- Exclusions ------------------------------------------------------------------------------


def test_an_exclusion_is_set_listed_reviewed_and_lifted(world: World) -> None:
    card = world.issue()
    body = {
        "shelter_id": world.shelter_id,
        "card_number": card,
        "reason": "Hot mot personal",
        "expires_on": (DAY + timedelta(days=14)).isoformat(),
    }
    excluded = world.staff.post(f"{NIGHTS}/exclusions", body)
    assert excluded.status_code == 201, excluded.get_json()
    exclusion = excluded.get_json()
    assert (exclusion["card_number"], exclusion["active"]) == (_printed(card), True)
    _assert_problem(world.staff.post(f"{NIGHTS}/exclusions", body), 409, "card_number")
    too_long = {**body, "expires_on": (DAY + timedelta(days=400)).isoformat()}
    _assert_problem(world.staff.post(f"{NIGHTS}/exclusions", too_long), 422, "expires_on")
    assert _count(world.app, Exclusion) == 1

    listed = world.staff.get(f"{NIGHTS}/exclusions")
    assert [e["id"] for e in listed.get_json()] == [exclusion["id"]]
    reviewed = world.staff.post(f"{NIGHTS}/exclusions/{exclusion['id']}/review")
    assert reviewed.status_code == 200
    assert reviewed.get_json()["review_requested_at"] is not None
    lifted = world.coordinator.post(f"{NIGHTS}/exclusions/{exclusion['id']}/lift")
    assert lifted.status_code == 200, lifted.get_json()
    assert lifted.get_json()["active"] is False
    assert world.staff.get(f"{NIGHTS}/exclusions").get_json() == []
    past = world.staff.get(f"{NIGHTS}/exclusions?include_past=true").get_json()
    assert [e["id"] for e in past] == [exclusion["id"]]


# --- Who may reach the night routes ----------------------------------------------------------

STAFF_ROUTES: list[tuple[str, str, dict[str, str] | None]] = [
    ("GET", "/desk", None),
    ("POST", "/cards", {}),
    ("POST", "/cards/look-up", {"card_number": UNISSUED}),
    ("POST", "/registrations", {"card_number": UNISSUED}),
    ("GET", "/shelters", None),
    ("GET", "/exclusions", None),
]
COORDINATOR_ROUTES: list[tuple[str, str, dict[str, str] | None]] = [
    ("POST", "/allocations", None),
    ("GET", f"/allocations/{DAY.isoformat()}/verification", None),
    ("POST", "/shelters", {}),
]


def _send(client: ApiClient, method: str, path: str, body: object) -> TestResponse:
    if method == "GET":
        return client.get(NIGHTS + path)
    return client.send(method, NIGHTS + path, body)


@pytest.mark.parametrize("role", ["group_leader", "social_worker", "link_worker"])
def test_other_roles_cannot_reach_the_night_routes(world: World, role: str) -> None:
    kind = {"group_leader": "partner", "social_worker": "district"}.get(role, "partner")
    other = api_client(world.app, world.factory.account(role, world.factory.organisation(kind)))
    people_before = _count(world.app, NightPerson)
    for method, path, body in [
        *STAFF_ROUTES,
        *COORDINATOR_ROUTES,
        ("GET", f"/shelters/{world.shelter_id}/nights/{DAY.isoformat()}", None),
    ]:
        response = _send(other, method, path, body)
        assert response.status_code == 403, (method, path, response.status_code)
    assert _count(world.app, NightPerson) == people_before


def test_night_staff_do_not_coordinate_and_the_coordinator_keeps_no_shelter_list(
    world: World,
) -> None:
    for method, path, body in COORDINATOR_ROUTES:
        assert _send(world.staff, method, path, body).status_code == 403, path
    capacity = {"night": DAY.isoformat(), "places": 9, "reason": "Kallt"}
    denied = world.staff.post(f"{NIGHTS}/shelters/{world.shelter_id}/capacity", capacity)
    assert denied.status_code == 403
    tonight = f"{NIGHTS}/shelters/{world.shelter_id}/nights/{DAY.isoformat()}"
    assert world.coordinator.get(tonight).status_code == 403
    # Nor do night staff reach another programme's records.
    assert world.staff.get("/api/v1/children").status_code == 403
    assert world.staff.get("/api/v1/outreach/youths").status_code == 403


def test_without_a_session_every_night_route_but_the_result_is_401(world: World) -> None:
    anyone = world.app.test_client()
    for method, path, body in [*STAFF_ROUTES, *COORDINATOR_ROUTES]:
        response = anyone.open(NIGHTS + path, method=method, json=body)
        assert response.status_code == 401, (method, path, response.status_code)
    assert anyone.get(f"{NIGHTS}/results/{DAY.isoformat()}").status_code == 200


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "unknown"),
    [
        ("/cards", {"alias": "A", "personnummer": "19900101-1234"}, "personnummer"),
        ("/cards/look-up", {"card_number": UNISSUED, "name": "A"}, "name"),
        ("/registrations", {"card_number": UNISSUED, "priority": 1}, "priority"),
        (
            "/registrations/override",
            {"card_number": UNISSUED, "override_kind": "danger_to_life", "override_reason": "R"}
            | {"shelter": "x"},
            "shelter",
        ),
        (
            "/exclusions",
            {"shelter_id": "x", "card_number": UNISSUED, "reason": "R", "expires_on": "2027-03-10"}
            | {"forever": True},
            "forever",
        ),
        (
            "/shelters/{shelter}/capacity",
            {"night": "2027-03-03", "places": 3, "reason": "R", "note": "n"},
            "note",
        ),
        (
            "/shelters/{shelter}/nights/2027-03-03/no-shows",
            {"card_numbers": [UNISSUED], "all": True},
            "all",
        ),
    ],
)
@pytest.mark.asvs("V15.3.3")
def test_unknown_json_fields_are_refused_and_nothing_is_written(
    world: World, path: str, body: dict[str, object], unknown: str
) -> None:
    client = world.coordinator if "capacity" in path else world.staff
    audited = len(_actions(world.app))
    response = client.post(NIGHTS + path.format(shelter=world.shelter_id), body)
    _assert_problem(response, 422, unknown)
    assert _count(world.app, NightPerson) == 0
    assert _count(world.app, NightRegistration) == _count(world.app, Exclusion) == 0
    assert _count(world.app, CapacityChange) == 0
    assert len(_actions(world.app)) == audited


def test_wrong_types_and_values_name_the_field(world: World) -> None:
    _assert_problem(world.staff.post(f"{NIGHTS}/cards", {"birth_year": "old"}), 422, "birth_year")
    _assert_problem(world.staff.post(f"{NIGHTS}/cards", {"gender": "unknown"}), 422, "gender")
    _assert_problem(world.staff.post(f"{NIGHTS}/cards/look-up", {}), 422, "card_number")
    kind = world.register(UNISSUED, override_kind="because", override_reason="R")
    _assert_problem(kind, 422, "override_kind")
    assert _count(world.app, NightPerson) == 0


@pytest.mark.asvs("V2.4.1")
def test_the_public_result_answers_one_address_at_most_sixty_times_a_minute(app: Flask) -> None:
    client = app.test_client()
    answers = [client.get(f"/api/v1/nights/results/{DAY.isoformat()}") for _ in range(60)]
    assert {r.status_code for r in answers} == {200}
    assert client.get(f"/api/v1/nights/results/{DAY.isoformat()}").status_code == 429
    assert client.get("/nights/result").status_code == 200  # the page counts on its own


@pytest.mark.parametrize(
    ("body", "field"),
    [({"birth_year": "1990"}, "birth_year"), ({"birth_year": 1990.5}, "birth_year")],
)
@pytest.mark.asvs("V15.3.5")
def test_a_number_written_as_text_or_with_a_fraction_is_refused(
    world: World, body: dict[str, object], field: str
) -> None:
    _assert_problem(world.staff.post(f"{NIGHTS}/cards", body), 422, field)


def test_a_day_written_as_a_week_or_beyond_the_calendar_is_no_such_day(world: World) -> None:
    anyone = world.app.test_client()
    for day in ("2027-W09-3", "9999-12-31", "0001-01-01", "2027-02-30"):
        assert anyone.get(f"{NIGHTS}/results/{day}").status_code == 404, day
        assert anyone.get(f"/nights/result/{day}").status_code == 404, day
