"""A scene of every main page at a chosen size, for tests/integration/test_statement_counts.py.

`build_scene(app, factory, rows)` makes one district, one partner and the city's staff, and
`rows` of everything a main page lists: children under SoL with their custodian's consent,
shared with the partner and waiting for its answer (each consent ending within the lapse
warning); as many accepted and waiting for a group; a started group of `rows` children with
a visit and attendance each; a planned group of `rows - 3` and `rows - 3` empty ones (a group
holds 5 to 8, so `rows` is 5 to 8); one child with `rows` custodians who all consented and
`rows` referrals; `rows` notes in the partner's file on one referral; `rows` youths the link
worker met; a night shelter with `rows` places given to `rows` card holders; `rows` more
staff. Two scenes of different sizes differ only in how many rows each page lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Flask

from referral import clock
from referral.actors import Actor
from referral.clock import STOCKHOLM
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.night_calendar import is_registration_day
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import (
    activity_descriptions,
    children,
    consent,
    groups,
    outreach,
    partner_files,
    referrals,
)
from referral.services.nights import allocation, people, registration, shelters
from tests.factories import (
    SYSTEM,
    Account,
    Factory,
    invented_personnummer,
    placed_under_sol_with_consent,
    referred,
)

DESCRIPTION = "Statements-1"
# The started group and the planned one must each be a group the rules allow.
SMALLEST, LARGEST = 5, 8
ROLES = (
    Role.SOCIAL_WORKER,
    Role.GROUP_LEADER,
    Role.LINK_WORKER,
    Role.NIGHT_STAFF,
    Role.NIGHT_COORDINATOR,
    Role.DPO,
    Role.ADMIN,
)


@dataclass(frozen=True)
class Scene:
    rows: int
    accounts: dict[Role, Account]
    child_id: str  # the child with `rows` custodians
    referral_id: str  # a referral in the started group, with `rows` notes in the partner's file
    group_id: str  # the started group, with attendance
    youth_id: str
    shelter_id: str
    night: date  # the night the shelter's places were given


def actor_of(account: Account, role: Role) -> Actor:
    user = account.user
    return Actor(user.id, user.username, user.organisation_id, frozenset({role}))


def _accounts(
    factory: Factory, district: Organisation, partner: Organisation
) -> dict[Role, Account]:
    own = {Role.SOCIAL_WORKER: district, Role.GROUP_LEADER: partner, Role.LINK_WORKER: partner}
    own[Role.NIGHT_STAFF] = partner
    return {role: factory.account(role.value, own.get(role)) for role in ROLES}


def build_scene(app: Flask, factory: Factory, rows: int) -> Scene:
    assert SMALLEST <= rows <= LARGEST, "the started and the planned group must be allowed"
    district, partner = factory.organisation("district"), factory.organisation("partner")
    accounts = _accounts(factory, district, partner)
    for _ in range(rows):  # the administrator's list of staff
        factory.account(Role.SOCIAL_WORKER.value, district)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child_id, referral_id, group_id = _programme_a(uow, accounts, partner, rows)
        youth_id = _youths(uow, actor_of(accounts[Role.LINK_WORKER], Role.LINK_WORKER), rows)
        shelter_id, night = _night_places(app, uow, accounts, rows)
    return Scene(rows, accounts, child_id, referral_id, group_id, youth_id, shelter_id, night)


def _programme_a(
    uow: UnitOfWork, accounts: dict[Role, Account], partner: Organisation, rows: int
) -> tuple[str, str, str]:
    """The support groups' part of the scene: the child with `rows` custodians, the referral
    with `rows` notes and the started group, by id."""
    worker = actor_of(accounts[Role.SOCIAL_WORKER], Role.SOCIAL_WORKER)
    leader = actor_of(accounts[Role.GROUP_LEADER], Role.GROUP_LEADER)
    today = clock.today()
    description = activity_descriptions.NewDescription(
        activity_descriptions.SUPPORT_GROUP, partner.id, DESCRIPTION, "Om stödgrupperna."
    )
    activity_descriptions.publish(uow, SYSTEM, description)
    serials = iter(range(100, 1000))

    def shared_referral(name: str, lasting: int = 90) -> tuple[str, str]:
        born = invented_personnummer(today.year - 11, 5, 5, next(serials))
        child = children.register_child(uow, worker, children.NewChild(born, name))
        until = today + timedelta(days=lasting)
        placed_under_sol_with_consent(
            uow, worker, child.id, on=today, until=until, description=DESCRIPTION
        )
        return child.id, referred(uow, worker, child.id, partner.id, on=today)

    def accepted(name: str) -> str:
        referral_id = shared_referral(name)[1]
        referrals.respond(uow, leader, referral_id, accept=True, today=today)
        return referral_id

    # Waiting for the partner's answer, each consent ending within the lapse warning.
    waiting = [shared_referral(f"Väntande {n}", lasting=30) for n in range(rows)]
    for n in range(rows):
        accepted(f"Antagen {n}")
    started = [accepted(f"Deltagare {n}") for n in range(rows)]
    planned = [accepted(f"Placerad {n}") for n in range(rows - 3)]
    group_id = _started_group(uow, leader, started, today)
    _planned_group(uow, leader, planned, today, "Planerad grupp")
    for n in range(rows - 3):
        _planned_group(uow, leader, [], today, f"Tom grupp {n}")
    child_id = waiting[0][0]
    _more_custodians(uow, worker, child_id, rows - 1, today)
    for _ in range(rows - 1):  # drafts of more referrals, each with its history
        new = referrals.NewReferral(child_id, partner.id, "weekend")
        referrals.create_referral(uow, worker, new, today=today)
    for n in range(rows):
        partner_files.write_note(uow, leader, started[0], f"Anteckning {n}.", today)
    return child_id, started[0], group_id


def _started_group(uow: UnitOfWork, leader: Actor, referral_ids: list[str], today: date) -> str:
    """A weekly group that started today, each child visited and marked at its first meeting."""
    new = groups.NewGroup("Pågående grupp", "weekly", today, 7, 18, [leader.user_id])
    group_id = groups.create_group(uow, leader, new, today).group_id
    enrolments = [groups.enrol(uow, leader, group_id, r, today) for r in referral_ids]
    for enrolment in enrolments:
        visit = groups.NewVisit(enrolment.enrolment_id, "home", today)
        groups.record_visit(uow, leader, group_id, visit, today)
    started = groups.start_group(uow, leader, group_id, today)
    first = min(started.sessions, key=lambda s: s.number).session_id
    marks = {e.enrolment_id: n % 2 == 0 for n, e in enumerate(enrolments)}
    groups.record_attendance(uow, leader, group_id, first, marks, today)
    return group_id


def _planned_group(
    uow: UnitOfWork, leader: Actor, referral_ids: list[str], today: date, name: str
) -> None:
    """A weekly group starting in a week (on the group leader's start page), with a place for
    each of `referral_ids`."""
    start = today + timedelta(days=7)
    new = groups.NewGroup(name, "weekly", start, 7, 18, [leader.user_id])
    group_id = groups.create_group(uow, leader, new, today).group_id
    for referral_id in referral_ids:
        groups.enrol(uow, leader, group_id, referral_id, today)


def _more_custodians(
    uow: UnitOfWork, worker: Actor, child_id: str, count: int, today: date
) -> None:
    """`count` more custodians of the child, each of whom consented as the first one did."""
    for n in range(count):
        added = consent.add_guardian(
            uow, worker, child_id, f"Vårdnadshavare {n}", None, True, today=today
        )
        given = consent.ConsentInput(
            party=added.id,
            decision="given",
            categories=("name", "age", "participation"),
            decided_on=today,
            valid_until=today + timedelta(days=90),
            method="written",
            description_version=DESCRIPTION,
        )
        consent.record_consent(uow, worker, child_id, given, today=today)


def _youths(uow: UnitOfWork, link_worker: Actor, count: int) -> str:
    """`count` youths, each met once; the first one's id."""
    today = clock.today()
    ids = []
    for n in range(count):
        youth = outreach.register_youth(uow, link_worker, outreach.NewYouth(f"Ung {n}"), today)
        met = outreach.NewEncounter(today, "sergels_torg", youth_id=youth.id)
        outreach.record_encounter(uow, link_worker, met, today)
        ids.append(youth.id)
    return ids[0]


def _night_places(
    app: Flask, uow: UnitOfWork, accounts: dict[Role, Account], count: int
) -> tuple[str, date]:
    """A shelter of `count` places, all given by the last registration day's allocation to the
    `count` card holders registered that morning."""
    staff = actor_of(accounts[Role.NIGHT_STAFF], Role.NIGHT_STAFF)
    coordinator = actor_of(accounts[Role.NIGHT_COORDINATOR], Role.NIGHT_COORDINATOR)
    settings = app.config["REFERRAL_SETTINGS"]
    day = clock.today() - timedelta(days=1)
    while not is_registration_day(day):
        day -= timedelta(days=1)
    opens = datetime.combine(day, time(9, 30), STOCKHOLM)
    organisation_id = accounts[Role.NIGHT_STAFF].user.organisation_id
    new = shelters.NewShelter(organisation_id, "Räknehärbärget", count, day)
    shelter = shelters.create_shelter(uow, coordinator, new, day)
    for n in range(count):
        card = people.issue_card(uow, staff, people.NewPerson(alias=f"Gäst {n}"), day)
        registration.register(uow, staff, card.card_number, settings, opens)
    allocation.run_allocation(uow, coordinator, settings, opens + timedelta(hours=1))
    return shelter.id, day
