"""Programme C, night places: cards issued once per person, registration only in the weekday
morning window and once a morning, the seed's commitment on show before anyone registers,
the allocation run once and stored so that it reruns to the same result, overrides first,
no-shows handed to the reserve, and never two places for one person on one night."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from config import Settings
from referral import card_numbers
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.concern import ConcernReport
from referral.db.models import Organisation
from referral.db.nights import (
    AllocationRun,
    NightPerson,
    NightPlace,
    NightRegistration,
    PlaceStatus,
    Shelter,
)
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from referral.services.nights import allocation, no_shows, people, published, registration
from referral.services.nights.capacity import GIVEN
from referral.services.nights.people import NewPerson
from referral.services.nights.registration import Override
from tests.conftest import FrozenClock
from tests.factories import Factory

# Wednesday 3 March 2027, a working day: the window is 09:00-11:00 Stockholm (08-10 UTC).
DAY = date(2027, 3, 3)
IN_WINDOW = datetime(2027, 3, 3, 8, 30, tzinfo=UTC)
AFTER_WINDOW = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
EVENING = datetime(2027, 3, 3, 20, 30, tzinfo=UTC)  # 21:30 in Stockholm


@dataclass
class World:
    desk: Actor  # night staff of a partner (the desk and its shelter)
    coordinator: Actor  # the city's central officer
    shelter_id: str
    settings: Settings


def _actor(factory: Factory, role: Role, organisation: Organisation) -> Actor:
    account = factory.account(role.value, organisation)
    return Actor(account.user.id, account.username, organisation.id, frozenset({role}))


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


def _shelter(uow: UnitOfWork, organisation_id: str, places: int, women: int = 0) -> str:
    shelter = Shelter(
        organisation_id=organisation_id,
        name=f"Natthärbärge {places}",
        places=places,
        reserved_for_women=women,
        opens_on=date(2026, 11, 1),
        created_by="test",
    )
    uow.session.add(shelter)
    uow.commit()
    return shelter.id


@pytest.fixture
def world(uow: UnitOfWork, factory: Factory, settings: Settings) -> World:
    partner = factory.organisation("partner")
    city = factory.organisation("city", name="Socialjouren (natt-test)")
    marked = uow.session.get(Organisation, city.id)
    assert marked is not None
    marked.social_emergency_service = True
    uow.commit()
    return World(
        _actor(factory, Role.NIGHT_STAFF, partner),
        _actor(factory, Role.NIGHT_COORDINATOR, city),
        _shelter(uow, partner.id, places=2),
        settings,
    )


def _card(uow: UnitOfWork, world: World, **person: object) -> str:
    return people.issue_card(uow, world.desk, NewPerson(**person), DAY).card_number  # type: ignore[arg-type]


class _Lowest:
    """A random source that always draws the first card number there is."""

    def randbelow(self, exclusive_upper_bound: int, /) -> int:
        return 0


UNISSUED = card_numbers.new_card_number(_Lowest())  # valid, and never drawn in these tests


def _placed(uow: UnitOfWork, night: date, *, from_reserve: bool = False) -> set[str]:
    """The cards with a place on `night` (as the desk reads them: the public page does not
    say who got one)."""
    query = (
        select(NightPerson.card_number)
        .join(NightPlace, NightPlace.person_id == NightPerson.id)
        .where(NightPlace.night == night, NightPlace.status.in_(GIVEN))
    )
    if from_reserve:
        query = query.where(NightPlace.from_reserve.is_(True))
    return {card_numbers.display(card) for card in uow.session.scalars(query) if card}


def _count(uow: UnitOfWork, model: type) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_card_is_issued_once_and_found_again_by_its_number(uow: UnitOfWork, world: World) -> None:
    issued = people.issue_card(uow, world.desk, NewPerson("Ana P", 1988, "woman", "Rumänien"), DAY)
    assert len(issued.card_number) == 8
    found = people.look_up(uow, world.desk, f"{issued.card_number[:4]} {issued.card_number[4:]}")
    assert (found.id, found.alias, found.birth_year) == (issued.id, "Ana P", 1988)

    with pytest.raises(people.LikelyCardHolder) as likely:
        people.issue_card(uow, world.desk, NewPerson("ana  p", 1988, None, "rumänien"), DAY)
    assert likely.value.cards == [issued.card_number]
    second = people.issue_card(
        uow, world.desk, NewPerson("ana  p", 1988, None, "rumänien"), DAY, someone_else=True
    )
    assert second.card_number != issued.card_number


def test_a_mistyped_or_unknown_card_is_refused_naming_the_card_field(
    uow: UnitOfWork, world: World
) -> None:
    card = _card(uow, world)
    mistyped = card[:-1] + str((int(card[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as refused:
        people.look_up(uow, world.desk, mistyped)
    assert refused.value.field == "card_number"
    assert mistyped not in str(refused.value)
    with pytest.raises(NotFound) as unknown:
        people.look_up(uow, world.desk, UNISSUED)
    assert unknown.value.field == "card_number"


def test_the_commitment_is_shown_before_anyone_registers_and_the_seed_matches_it(
    uow: UnitOfWork, world: World
) -> None:
    before = registration.desk_state(uow, world.settings, IN_WINDOW - timedelta(hours=1))
    assert before.commitment is not None and before.registered == 0 and not before.open_now
    registration.register(uow, world.desk, _card(uow, world), world.settings, IN_WINDOW)
    summary = allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    assert hashlib.sha256(bytes.fromhex(summary.seed)).hexdigest() == before.commitment
    shown = published.published_day(uow, world.settings, DAY)
    assert shown.seed == summary.seed and shown.commitment == before.commitment


def test_registration_outside_the_window_is_refused_with_the_next_window(
    uow: UnitOfWork, world: World
) -> None:
    card = _card(uow, world)
    with pytest.raises(registration.OutsideWindow) as early:
        registration.register(uow, world.desk, card, world.settings, IN_WINDOW - timedelta(hours=1))
    assert "2027-03-03, 09:00-11:00" in str(early.value)
    # Friday after the window: the next window is Monday's.
    with pytest.raises(registration.OutsideWindow) as late:
        registration.register(
            uow, world.desk, card, world.settings, datetime(2027, 3, 5, 12, tzinfo=UTC)
        )
    assert "2027-03-08, 09:00-11:00" in str(late.value)
    assert _count(uow, NightRegistration) == 0


@pytest.mark.asvs("V2.3.2")
def test_a_second_registration_the_same_morning_is_refused_and_nothing_is_lost(
    uow: UnitOfWork, world: World
) -> None:
    card = _card(uow, world)
    registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    with pytest.raises(Conflict) as twice:
        registration.register(
            uow, world.desk, card, world.settings, IN_WINDOW + timedelta(minutes=5)
        )
    assert twice.value.field == "card_number"
    assert _count(uow, NightRegistration) == 1


def test_whoever_had_a_place_recently_ranks_after_those_who_had_none(
    uow: UnitOfWork, world: World
) -> None:
    cards = [_card(uow, world) for _ in range(3)]
    for card in cards:
        registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    first = allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    assert (first.registered, first.placed, first.turned_away) == (3, 2, 1)
    (turned_away,) = {card_numbers.display(c) for c in cards} - _placed(uow, DAY)
    # The next morning the one turned away ranks first and gets a place.
    next_day = IN_WINDOW + timedelta(days=1)
    for card in cards:
        registration.register(uow, world.desk, card, world.settings, next_day)
    allocation.run_allocation(
        uow, world.coordinator, world.settings, AFTER_WINDOW + timedelta(days=1)
    )
    second = published.published_day(uow, world.settings, DAY + timedelta(days=1))
    assert second.lines[0].card_number == turned_away
    assert second.lines[0].days_since_last_night == world.settings.nights_days_since_cap
    assert turned_away in _placed(uow, DAY + timedelta(days=1))


def test_the_allocation_runs_once_and_closes_the_morning(uow: UnitOfWork, world: World) -> None:
    card = _card(uow, world)
    registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    allocation.run_allocation(uow, world.coordinator, world.settings, IN_WINDOW)
    with pytest.raises(Conflict):
        allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    with pytest.raises(Conflict) as closed:
        registration.register(
            uow, world.desk, _card(uow, world), world.settings, IN_WINDOW + timedelta(minutes=1)
        )
    assert closed.value.field == "window"
    assert _count(uow, AllocationRun) == 1


def test_only_the_coordinator_runs_the_allocation(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(NotPermitted):
        allocation.run_allocation(uow, world.desk, world.settings, AFTER_WINDOW)


def test_a_stored_run_reruns_to_the_same_result_and_a_changed_one_does_not(
    uow: UnitOfWork, world: World
) -> None:
    for _ in range(4):
        registration.register(uow, world.desk, _card(uow, world), world.settings, IN_WINDOW)
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    assert allocation.verify_run(uow, world.coordinator, DAY).ok

    stored = uow.session.scalar(select(AllocationRun).where(AllocationRun.day == DAY))
    assert stored is not None and stored.result is not None
    stored.result = stored.result.replace('"rank":1', '"rank":0', 1)
    uow.commit()
    tampered = allocation.verify_run(uow, world.coordinator, DAY)
    assert tampered.inputs_digest_matches and tampered.commitment_matches
    assert not tampered.result_matches and not tampered.ok


def test_an_override_ranks_first_and_children_involved_reports_to_socialjouren(
    uow: UnitOfWork, world: World
) -> None:
    cards = [_card(uow, world) for _ in range(3)]
    for card in cards[:2]:
        registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    receipt = registration.register(
        uow,
        world.desk,
        cards[2],
        world.settings,
        IN_WINDOW,
        Override("children_involved", "Två barn sover ute i natt", "08-123 456 78"),
    )
    assert receipt.concern_report_reference is not None
    report = uow.session.scalar(select(ConcernReport))
    assert report is not None and report.routing == "no_known_district"
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    lines = published.published_day(uow, world.settings, DAY).lines
    assert lines[0].card_number.replace(" ", "") == cards[2]
    assert lines[0].override is True


def test_an_override_needs_its_reason_and_a_call_back_number_for_children(
    uow: UnitOfWork, world: World
) -> None:
    card = _card(uow, world)
    with pytest.raises(InvalidInput) as no_reason:
        registration.register(
            uow, world.desk, card, world.settings, IN_WINDOW, Override("danger_to_life", " ")
        )
    assert no_reason.value.field == "override_reason"
    with pytest.raises(InvalidInput) as no_contact:
        registration.register(
            uow, world.desk, card, world.settings, IN_WINDOW, Override("children_involved", "Barn")
        )
    assert no_contact.value.field == "reporter_contact"
    assert _count(uow, NightRegistration) == _count(uow, ConcernReport) == 0


def test_the_published_ranking_names_cards_only(uow: UnitOfWork, world: World) -> None:
    card = _card(uow, world, alias="Hemlig Alias", gender="woman", country_of_origin="Bulgarien")
    registration.register(
        uow, world.desk, card, world.settings, IN_WINDOW, Override("danger_to_life", "Hotad")
    )
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    shown = repr(published.published_day(uow, world.settings, DAY))
    for secret in ("Hemlig", "woman", "Bulgarien", "Hotad", "danger_to_life", world.shelter_id):
        assert secret not in shown


def test_a_no_show_after_the_evening_time_gives_the_place_to_the_reserve(
    uow: UnitOfWork, world: World, frozen_clock: FrozenClock
) -> None:
    cards = [_card(uow, world) for _ in range(3)]
    for card in cards:
        registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    placed = sorted(_placed(uow, DAY))
    (waiting,) = {card_numbers.display(c) for c in cards} - set(placed)

    with pytest.raises(Conflict) as too_early:
        no_shows.record_no_shows(
            uow, world.desk, world.shelter_id, DAY, [placed[0]], world.settings, AFTER_WINDOW
        )
    assert too_early.value.field == "night"
    with pytest.raises(Conflict) as too_late:  # 06:30 the next morning: the night is over
        no_shows.record_no_shows(
            uow,
            world.desk,
            world.shelter_id,
            DAY,
            [placed[0]],
            world.settings,
            datetime(2027, 3, 4, 5, 30, tzinfo=UTC),
        )
    assert too_late.value.field == "night"
    receipt = no_shows.record_no_shows(
        uow, world.desk, world.shelter_id, DAY, [placed[0]], world.settings, EVENING
    )
    assert receipt.forfeited == (placed[0],) and receipt.moved_in == (waiting,)
    assert _placed(uow, DAY, from_reserve=True) == {waiting}
    statuses = sorted(uow.session.scalars(select(NightPlace.status).where(NightPlace.night == DAY)))
    assert statuses == [PlaceStatus.ALLOCATED, PlaceStatus.ALLOCATED, PlaceStatus.NO_SHOW]
    # A no-show counts as a night not had: the next morning they rank as if they had none.
    for card in cards:
        registration.register(uow, world.desk, card, world.settings, IN_WINDOW + timedelta(days=1))
    allocation.run_allocation(
        uow, world.coordinator, world.settings, AFTER_WINDOW + timedelta(days=1)
    )
    terms = {
        line.card_number: line.days_since_last_night
        for line in published.published_day(uow, world.settings, DAY + timedelta(days=1)).lines
    }
    assert terms[placed[0]] == world.settings.nights_days_since_cap
    assert terms[waiting] == 1


def test_another_partners_shelter_cannot_record_no_shows(
    uow: UnitOfWork, world: World, factory: Factory
) -> None:
    other = _actor(factory, Role.NIGHT_STAFF, factory.organisation("partner"))
    with pytest.raises(NotFound):
        no_shows.record_no_shows(
            uow, other, world.shelter_id, DAY, [UNISSUED], world.settings, EVENING
        )


@pytest.mark.asvs("V2.3.4")
def test_the_database_refuses_two_places_for_one_person_on_one_night(
    uow: UnitOfWork, world: World, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    second_shelter = _shelter(uow, partner.id, places=5)
    registration.register(uow, world.desk, _card(uow, world), world.settings, IN_WINDOW)
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    place = uow.session.scalar(select(NightPlace))
    assert place is not None
    uow.session.add(
        NightPlace(
            run_id=place.run_id,
            person_id=place.person_id,
            shelter_id=second_shelter if place.shelter_id != second_shelter else world.shelter_id,
            night=place.night,
            place_kind="unreserved",
        )
    )
    with pytest.raises(IntegrityError):
        uow.session.flush()
    uow.rollback()


def test_places_reserved_for_women_go_to_women(
    uow: UnitOfWork, world: World, factory: Factory
) -> None:
    shelter = uow.session.get(Shelter, world.shelter_id)
    assert shelter is not None
    shelter.places, shelter.reserved_for_women = 1, 1
    uow.commit()
    man = _card(uow, world, gender="man")
    woman = _card(uow, world, gender="woman")
    for card in (man, woman):
        registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    assert _placed(uow, DAY) == {card_numbers.display(woman)}
    # The run keeps why; the published ranking does not say (it would tell his gender).
    stored = uow.session.scalar(select(AllocationRun).where(AllocationRun.day == DAY))
    assert stored is not None and stored.result is not None
    (waiting,) = allocation.result_from_json(stored.result).reserve
    assert (waiting.card_number, waiting.reason) == (man, "no_place_open_to_them")


def test_every_registration_and_the_run_are_in_the_access_log(
    uow: UnitOfWork, world: World
) -> None:
    card = _card(uow, world)
    registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    actions = list(uow.session.scalars(select(AuditEntry.action)))
    # The card, the registration, the run, and the run's read of the one person registered.
    assert actions.count("night_person:issue_card") == 1
    assert actions.count("night_registration:record") == 1
    assert actions.count("night_allocation:run") == 2


def test_the_timer_opens_the_morning_allocates_once_and_the_run_verifies(
    uow: UnitOfWork, world: World, runner: FlaskCliRunner, frozen_clock: FrozenClock
) -> None:
    frozen_clock.moment = datetime(2027, 3, 6, 7, 0, tzinfo=UTC)  # a Saturday
    assert "not a registration day" in runner.invoke(args=["nights", "open"]).output
    frozen_clock.moment = IN_WINDOW - timedelta(hours=1)
    opened = runner.invoke(args=["nights", "open"])
    assert opened.exit_code == 0 and "commitment is on show" in opened.output
    registration.register(uow, world.desk, _card(uow, world), world.settings, IN_WINDOW)

    frozen_clock.moment = AFTER_WINDOW
    allocated = runner.invoke(args=["nights", "allocate"])
    assert allocated.exit_code == 0, allocated.output
    assert "1 registered, 1 placed, 0 turned away" in allocated.output
    again = runner.invoke(args=["nights", "allocate"])
    assert again.exit_code == 1 and "allocated already" in again.output

    verified = runner.invoke(args=["nights", "verify-run", DAY.isoformat()])
    assert verified.exit_code == 0, verified.output
    assert "verifies" in verified.output
    missing = runner.invoke(args=["nights", "verify-run", "2027-03-02"])
    assert missing.exit_code == 1 and "No allocation" in missing.output


def test_the_desk_tells_each_person_their_shelter_and_the_public_page_tells_no_one(
    uow: UnitOfWork, world: World
) -> None:
    cards = [_card(uow, world) for _ in range(3)]
    for card in cards:
        registration.register(uow, world.desk, card, world.settings, IN_WINDOW)
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    shelter = uow.session.get(Shelter, world.shelter_id)
    assert shelter is not None
    told = {card: people.look_up(uow, world.desk, card, DAY).shelter_tonight for card in cards}
    assert sorted(told.values(), key=str) == [shelter.name, shelter.name, None]
    assert people.look_up(uow, world.desk, cards[0]).shelter_tonight is None  # no night asked
    published_fields = set(published.PublishedLine.__dataclass_fields__)
    assert published_fields == {
        "rank",
        "card_number",
        "override",
        "at_cap",
        "days_since_last_night",
        "nights_last_30_days",
        "draw",
    }


def test_a_run_commits_the_next_mornings_draw_before_its_window_opens(
    uow: UnitOfWork, world: World, frozen_clock: FrozenClock
) -> None:
    registration.register(uow, world.desk, _card(uow, world), world.settings, IN_WINDOW)
    frozen_clock.moment = AFTER_WINDOW
    allocation.run_allocation(uow, world.coordinator, world.settings, AFTER_WINDOW)
    tomorrow = published.published_day(uow, world.settings, DAY + timedelta(days=1))
    assert tomorrow.commitment is not None and tomorrow.seed is None
    assert tomorrow.commitment_drawn_at is not None
    assert tomorrow.commitment_drawn_at == AFTER_WINDOW  # the day before its window
    # Friday's run commits Monday's.
    friday = datetime(2027, 3, 5, 8, 30, tzinfo=UTC)
    registration.register(uow, world.desk, _card(uow, world), world.settings, friday)
    allocation.run_allocation(uow, world.coordinator, world.settings, friday)
    assert published.published_day(uow, world.settings, date(2027, 3, 8)).commitment
    assert published.published_day(uow, world.settings, date(2027, 3, 6)).commitment is None
