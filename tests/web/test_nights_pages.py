"""Programme C over HTTP: the registration desk registers a card inside the morning window and
refuses outside it with the next window; a new card is printable, and one like a card already
issued is held back until the desk confirms it is someone else; a shelter's staff check people
in and record no-shows, whose places go to the reserve; the coordinator keeps the shelters and
runs the allocation; the public result needs no login, names card numbers only and reads in
Romanian and Bulgarian; and staff of other programmes are refused the night pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.actors import Actor
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services.nights import people, registration, shelters
from tests.conftest import FrozenClock
from tests.factories import Account, Factory, csrf_token, log_in

# Wednesday 3 March 2027, 09:30 in Stockholm (winter time): inside the default window.
MORNING = datetime(2027, 3, 3, 8, 30, tzinfo=UTC)
DAY = date(2027, 3, 3)
CARD = re.compile(r'data-card="(\d{4} \d{4})"')


@dataclass
class Night:
    partner: Organisation
    staff: Account
    coordinator: Account
    shelter_id: str


@pytest.fixture
def morning(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return FrozenClock(monkeypatch, MORNING)


def _actor(account: Account, role: Role) -> Actor:
    user = account.user
    return Actor(user.id, user.username, user.organisation_id, frozenset({role}))


def _client(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    client.get("/login?lang=en")  # English remembered: the assertions read English words
    log_in(client, account)
    return client


def _night(app: Flask, factory: Factory, places: int = 2) -> Night:
    partner = factory.organisation("partner", name="Nattpartner (test)")
    staff = factory.account("night_staff", partner)
    coordinator = factory.account("night_coordinator")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        shelter = shelters.create_shelter(
            uow,
            _actor(coordinator, Role.NIGHT_COORDINATOR),
            shelters.NewShelter(partner.id, "Härbärget Testgatan", places, DAY),
            DAY,
        )
    return Night(partner, staff, coordinator, shelter.id)


def _cards(app: Flask, night: Night, *new: people.NewPerson) -> list[str]:
    """Cards issued and registered this morning, in the order given."""
    actor = _actor(night.staff, Role.NIGHT_STAFF)
    issued = []
    with app.app_context(), UnitOfWork(request_session()) as uow:
        settings = app.config["REFERRAL_SETTINGS"]
        for person in new:
            card = people.issue_card(uow, actor, person, DAY, someone_else=True)
            registration.register(uow, actor, card.card_number, settings, MORNING)
            issued.append(card.card_number)
    return issued


def _post(client: FlaskClient, path: str, data: dict[str, object], page: str) -> str:
    response = client.post(path, data={"csrf_token": csrf_token(client, page), **data})
    return response.get_data(as_text=True)


def test_the_desk_issues_a_printable_card_and_registers_it_inside_the_window(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    desk = _client(app, night.staff)
    home = desk.get("/").get_data(as_text=True)
    assert 'data-role="night_staff"' in home and 'href="/nights/desk"' in home
    page = desk.get("/nights/desk").get_data(as_text=True)
    assert 'data-open="yes"' in page and "autofocus" in page and 'inputmode="numeric"' in page
    (commitment,) = re.findall(r"data-commitment>([0-9a-f]{64})<", page)

    token = csrf_token(desk, "/nights/desk")
    issued = desk.post("/nights/desk/cards", data={"csrf_token": token, "card-gender": "woman"})
    assert issued.status_code == 200
    issued_page = issued.get_data(as_text=True)
    (card,) = set(CARD.findall(issued_page))
    assert "<svg" in issued_page and 'data-section="issued"' in issued_page

    registered = desk.post(
        "/nights/desk/registrations", data={"csrf_token": token, "card_number": card}
    )
    assert registered.status_code == 200 and "Location" not in registered.headers
    receipt = registered.get_data(as_text=True)
    assert f"Registered: card {card}" in receipt
    assert 'data-registered="1"' in receipt and DAY.isoformat() in receipt
    assert f'value="{card}"' not in receipt  # the typed number is not sent back
    # The commitment shown before anyone registered is the one still shown.
    assert commitment in receipt

    again = desk.post("/nights/desk/registrations", data={"csrf_token": token, "card_number": card})
    assert again.status_code == 422
    assert "registered this morning already" in again.get_data(as_text=True)

    mistyped = card[:-1] + str((int(card[-1]) + 1) % 10)
    wrong = desk.post(
        "/nights/desk/registrations", data={"csrf_token": token, "card_number": mistyped}
    )
    assert wrong.status_code == 422 and "check digit" in wrong.get_data(as_text=True)


def test_an_override_ranks_first_and_needs_its_reason(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    (card,) = _cards(app, night, people.NewPerson())
    desk = _client(app, night.staff)
    token = csrf_token(desk, "/nights/desk")
    missing = desk.post(
        "/nights/desk/registrations",
        data={
            "csrf_token": token,
            "card_number": card,
            "override_kind": "danger_to_life",
            "only_override": "1",
        },
    )
    assert missing.status_code == 422 and "reason" in missing.get_data(as_text=True)
    added = desk.post(
        "/nights/desk/registrations",
        data={
            "csrf_token": token,
            "card_number": card,
            "override_kind": "danger_to_life",
            "override_reason": "Hotad i natt.",
            "only_override": "1",
        },
    )
    assert added.status_code == 200
    assert 'data-override="danger_to_life"' in added.get_data(as_text=True)


def test_children_involved_needs_a_call_back_number_and_tells_socialjouren(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    socialjouren = factory.organisation("city", name="Socialjouren (natt-webbtest)")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        marked = uow.session.get(Organisation, socialjouren.id)
        assert marked is not None
        marked.social_emergency_service = True
        uow.commit()
    desk = _client(app, night.staff)
    token = csrf_token(desk, "/nights/desk")
    issued = desk.post("/nights/desk/cards", data={"csrf_token": token})
    (card_number,) = set(CARD.findall(issued.get_data(as_text=True)))
    children = {
        "csrf_token": token,
        "card_number": card_number,
        "override_kind": "children_involved",
        "override_reason": "Två barn sover ute i natt.",
    }
    refused = desk.post("/nights/desk/registrations", data=children)
    assert refused.status_code == 422
    assert 'id="reporter_contact-error"' in refused.get_data(as_text=True)
    told = desk.post(
        "/nights/desk/registrations", data={**children, "reporter_contact": "08-123 456 78"}
    )
    assert told.status_code == 200
    page = told.get_data(as_text=True)
    assert 'data-override="children_involved"' in page and "data-concern=" in page


def test_outside_the_window_registration_is_refused_with_the_next_window(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    (card,) = _cards(app, night, people.NewPerson())
    morning.move(hours=2)  # 11:30: the window closed at 11:00
    desk = _client(app, night.staff)
    page = desk.get("/nights/desk").get_data(as_text=True)
    assert 'data-open="no"' in page
    assert "2027-03-04, 09:00–11:00" in page  # the next window, Thursday's
    refused = desk.post(
        "/nights/desk/registrations",
        data={"csrf_token": csrf_token(desk, "/nights/desk"), "card_number": card},
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "The next window is 2027-03-04, 09:00-11:00" in text
    assert 'id="card_number-error"' in text  # beside the card field


def test_a_card_like_one_issued_is_held_back_until_the_desk_says_someone_else(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    desk = _client(app, night.staff)
    token = csrf_token(desk, "/nights/desk")
    person = {
        "csrf_token": token,
        "card-alias": "Ionela",
        "card-birth_year": "1990",
        "card-gender": "woman",
        "card-country_of_origin": "Rumänien",
    }
    first = desk.post("/nights/desk/cards", data=person)
    assert first.status_code == 200
    (first_card,) = set(CARD.findall(first.get_data(as_text=True)))

    held = desk.post("/nights/desk/cards", data=person)
    assert held.status_code == 409
    page = held.get_data(as_text=True)
    assert f'data-likely-card="{first_card}"' in page
    assert 'name="card-someone_else"' in page and "<svg" not in page

    second = desk.post("/nights/desk/cards", data={**person, "card-someone_else": "y"})
    assert second.status_code == 200
    (second_card,) = set(CARD.findall(second.get_data(as_text=True)))
    assert second_card != first_card

    found = desk.post(
        "/nights/desk/look-up", data={"csrf_token": token, "find-card_number": first_card}
    )
    assert found.status_code == 200 and "Ionela" in found.get_data(as_text=True)


def test_the_shelter_checks_people_in_and_gives_a_no_show_place_to_the_reserve(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory, places=2)
    cards = _cards(app, night, people.NewPerson(), people.NewPerson(), people.NewPerson())
    coordinator = _client(app, night.coordinator)
    ran = coordinator.post(
        "/nights/coordinator/allocation",
        data={"csrf_token": csrf_token(coordinator, "/nights/coordinator")},
    )
    assert ran.status_code == 302
    overview = coordinator.get("/nights/coordinator").get_data(as_text=True)
    assert "3 registered, 2 placed, 1 on the reserve list" in overview
    row = re.search(r'<tr data-day="2027-03-03">.*?</tr>', overview, re.S)
    assert row is not None and "<td data-placed>2</td>" in row.group(0)

    morning.move(hours=12)  # 21:30, after the evening's cut-off
    staff = _client(app, night.staff)
    index = staff.get("/nights/shelters").get_data(as_text=True)
    assert f"/nights/shelters/{night.shelter_id}/tonight" in index
    tonight = staff.get(f"/nights/shelters/{night.shelter_id}/tonight").get_data(as_text=True)
    placed = re.findall(
        r'data-place="([0-9a-f-]{36})" data-status="allocated">\s*<th scope="row">(\d{4} \d{4})',
        tonight,
    )
    assert len(placed) == 2
    (reserve,) = {c[:4] + " " + c[4:] for c in cards} - {card for _place, card in placed}
    (came_id, _came), (_gone_id, gone) = placed

    token = csrf_token(staff, f"/nights/shelters/{night.shelter_id}/tonight")
    checked = staff.post(
        f"/nights/places/{came_id}/check-in",
        data={"csrf_token": token, "shelter_id": night.shelter_id, "night": DAY.isoformat()},
    )
    assert checked.status_code == 302
    after = staff.get(checked.headers["Location"]).get_data(as_text=True)
    assert f'data-place="{came_id}" data-status="checked_in"' in after

    recorded = staff.post(
        f"/nights/shelters/{night.shelter_id}/no-shows",
        data={"csrf_token": token, "night": DAY.isoformat(), "card_numbers": [gone]},
    )
    assert recorded.status_code == 200
    text = recorded.get_data(as_text=True)
    assert f'data-moved-in="{reserve}"' in text
    assert re.search(rf'data-status="no_show">\s*<th scope="row">{gone}', text)

    looked_up = staff.post(
        "/nights/desk/look-up", data={"csrf_token": token, "find-card_number": reserve}
    ).get_data(as_text=True)
    assert re.search(r"data-shelter-tonight>[^<]+<", looked_up)
    assert "No place tonight" not in looked_up


def test_the_coordinator_adds_a_shelter_changes_a_night_and_runs_the_allocation(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    coordinator = _client(app, night.coordinator)
    home = coordinator.get("/").get_data(as_text=True)
    assert 'data-role="night_coordinator"' in home and 'href="/nights/coordinator"' in home
    token = csrf_token(coordinator, "/nights/coordinator")
    added = coordinator.post(
        "/nights/coordinator/shelters",
        data={
            "csrf_token": token,
            "shelter-organisation_id": night.partner.id,
            "shelter-name": "Kvinnohärbärget",
            "shelter-places": "4",
            "shelter-reserved_for_women": "4",
            "shelter-reserved_for_men": "0",
            "shelter-opens_on": DAY.isoformat(),
        },
    )
    assert added.status_code == 302
    page = coordinator.get("/nights/coordinator").get_data(as_text=True)
    assert "Kvinnohärbärget" in page

    too_many = coordinator.post(
        "/nights/coordinator/capacity",
        data={
            "csrf_token": token,
            "capacity-shelter_id": night.shelter_id,
            "capacity-night": DAY.isoformat(),
            "capacity-places": "1",
            "capacity-reserved_for_women": "1",
            "capacity-reserved_for_men": "1",
            "capacity-reason": "Kyla",
        },
    )
    assert too_many.status_code == 422
    assert "cannot be more than the places" in too_many.get_data(as_text=True)
    extra = coordinator.post(
        "/nights/coordinator/capacity",
        data={
            "csrf_token": token,
            "capacity-shelter_id": night.shelter_id,
            "capacity-night": DAY.isoformat(),
            "capacity-places": "10",
            "capacity-reserved_for_women": "0",
            "capacity-reserved_for_men": "0",
            "capacity-reason": "Sträng kyla i natt",
        },
    )
    assert extra.status_code == 302
    row = re.search(
        r'<tr data-day="2027-03-03">.*?</tr>',
        coordinator.get("/nights/coordinator").get_data(as_text=True),
        re.S,
    )
    assert row is not None and "<td>14</td>" in row.group(0)  # 10 tonight + the new 4

    _cards(app, night, people.NewPerson())
    ran = coordinator.post("/nights/coordinator/allocation", data={"csrf_token": token})
    assert ran.status_code == 302
    twice = coordinator.post("/nights/coordinator/allocation", data={"csrf_token": token})
    assert "allocated already" in coordinator.get(twice.headers["Location"]).get_data(as_text=True)


def test_exclusions_are_set_listed_reviewed_and_lifted(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    (card,) = _cards(app, night, people.NewPerson())
    staff = _client(app, night.staff)
    token = csrf_token(staff, "/nights/exclusions")
    set_ = staff.post(
        "/nights/exclusions",
        data={
            "csrf_token": token,
            "exclude-shelter_id": night.shelter_id,
            "exclude-card_number": card,
            "exclude-reason": "Hot mot personal.",
            "exclude-expires_on": "2027-03-10",
        },
    )
    assert set_.status_code == 302
    page = staff.get("/nights/exclusions").get_data(as_text=True)
    (exclusion_id,) = re.findall(r'data-exclusion="([0-9a-f-]{36})" data-active="yes"', page)
    assert "Hot mot personal." in page and f"{card[:4]} {card[4:]}" in page
    staff.post(f"/nights/exclusions/{exclusion_id}/review", data={"csrf_token": token})
    assert "asked for 2027-03-03" in staff.get("/nights/exclusions").get_data(as_text=True)
    staff.post(f"/nights/exclusions/{exclusion_id}/lift", data={"csrf_token": token})
    assert exclusion_id not in staff.get("/nights/exclusions").get_data(as_text=True)
    assert exclusion_id in staff.get("/nights/exclusions?all=1").get_data(as_text=True)


def test_the_public_result_needs_no_login_and_names_card_numbers_only(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory, places=1)
    anyone = app.test_client()
    before = anyone.get("/nights/result?lang=en")
    assert before.status_code == 200
    (commitment,) = re.findall(r"data-commitment>([0-9a-f]{64})<", before.get_data(as_text=True))

    cards = _cards(
        app,
        night,
        people.NewPerson("Ionela", 1990, "woman", "Rumänien"),
        people.NewPerson("Petar", 1985, "man", "Bulgarien"),
    )
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registration.set_override(
            uow,
            _actor(night.staff, Role.NIGHT_STAFF),
            cards[1],
            registration.Override("danger_to_life", "Hotad av en fordringsägare."),
            app.config["REFERRAL_SETTINGS"],
            MORNING,
        )
    coordinator = _client(app, night.coordinator)
    coordinator.post(
        "/nights/coordinator/allocation",
        data={"csrf_token": csrf_token(coordinator, "/nights/coordinator")},
    )

    after = anyone.get(f"/nights/result/{DAY.isoformat()}?lang=en")
    assert after.status_code == 200
    page = after.get_data(as_text=True)
    printed = [f"{c[:4]} {c[4:]}" for c in cards]
    # The override first; the page does not say who got a place.
    assert page.index(f'data-card="{printed[1]}"') < page.index(f'data-card="{printed[0]}"')
    assert "data-outcome" not in page
    assert f'<code class="seed" data-commitment>{commitment}</code>' in page
    assert re.search(r"data-seed>[0-9a-f]{64}<", page)
    assert "HMAC-SHA256(seed, card number)" in page
    for private in ("Ionela", "Petar", "Härbärget Testgatan", "fordringsägare", "danger_to_life"):
        assert private not in page

    romanian = anyone.get(f"/nights/result/{DAY.isoformat()}?lang=ro").get_data(as_text=True)
    assert '<html lang="ro">' in romanian and "Locuri de noapte" in romanian
    assert printed[0] in romanian
    bulgarian = anyone.get(f"/nights/result/{DAY.isoformat()}?lang=bg").get_data(as_text=True)
    assert '<html lang="bg">' in bulgarian and "Места за нощуване" in bulgarian
    # Romanian and Bulgarian are for the result page only: elsewhere the choice is Swedish.
    assert '<html lang="sv">' in anyone.get("/login?lang=ro").get_data(as_text=True)
    assert '<html lang="sv">' in anyone.get("/login").get_data(as_text=True)
    assert anyone.get("/nights/result/2027-02-30").status_code == 404


def test_staff_of_other_programmes_are_refused_the_night_pages(
    app: Flask, factory: Factory, morning: FrozenClock
) -> None:
    night = _night(app, factory)
    leader = _client(app, factory.account("group_leader", night.partner))
    for path in (
        "/nights/desk",
        "/nights/shelters",
        f"/nights/shelters/{night.shelter_id}/tonight",
        "/nights/coordinator",
        "/nights/exclusions",
    ):
        assert leader.get(path).status_code == 403, path
    refused = leader.post("/nights/desk/cards", data={"csrf_token": csrf_token(leader, "/")})
    assert refused.status_code == 403
    # Night staff are not coordinators, and another partner's staff do not see the list.
    staff = _client(app, night.staff)
    assert staff.get("/nights/coordinator").status_code == 403
    other = _client(app, factory.account("night_staff", factory.organisation("partner")))
    assert other.get(f"/nights/shelters/{night.shelter_id}/tonight").status_code == 404
