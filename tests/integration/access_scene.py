"""The scene the access-control matrix (tests/integration/test_access_matrix.py) is walked in.

Two worlds alike, "own" (A) and "other" (B): each a district and a partner organisation, the
partner running all three programmes (support groups, outreach and a night shelter, as
Stockholms Stadsmission does), with one record of every kind a route names by id: a child
placed under SoL with its custodian's consent, referred to the partner, accepted and placed
in a group (with the group's sessions and a note in the partner's file), a second referral
declined and its file returned to the district, a concern report from the partner to the
district, an interest registration to the district, the notices each organisation got, a
youth met by the partner's outreach with a consent, a link case, an encounter and a link to
a second record, and a night shelter whose one place last registration morning went to a
card holder excluded since. The city's staff (social emergency service, night coordinator,
IOP coordinator, DPO, administrator) belong to one city organisation, set up as the social
emergency service, which has received a concern report about a youth no district is known
for. The city's records named by id (an API client, a legal hold) and a complaint about
each programme are made once.

The people who log in are world A's staff and the city's; world B is only looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Flask
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from config.settings import Settings
from referral import clock, return_signing
from referral.actors import Actor
from referral.auth import api_clients
from referral.clock import STOCKHOLM
from referral.db.complaints import Complaint
from referral.db.groups import GroupSession
from referral.db.models import Organisation
from referral.db.nights import NightPlace
from referral.db.notifications import Notification
from referral.db.outreach import YouthConsent
from referral.db.uow import UnitOfWork
from referral.night_calendar import is_registration_day
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import (
    activity_descriptions,
    children,
    complaints,
    concern_reports,
    duplicates,
    groups,
    interest,
    link_cases,
    outreach,
    partner_files,
    referrals,
    returned_files,
)
from referral.services.gallring import holds
from referral.services.nights import allocation, exclusions, people, registration, shelters
from referral.working_time import WorkingDay
from tests.factories import (
    SYSTEM,
    Account,
    Factory,
    invented_personnummer,
    placed_under_sol_with_consent,
    referred,
)

RULE = concern_reports.AcknowledgementRule(4, WorkingDay(8, 17))


@dataclass(frozen=True)
class World:
    """One district and one partner, and the ids of their records."""

    district_id: str
    partner_id: str
    social_worker_id: str
    child_id: str
    referral_id: str
    group_id: str
    session_id: str
    enrolment_id: str  # the child's place in the group
    report_id: str  # filed by the partner, received by the district
    registration_id: str  # interest registration, partner to district
    file_id: str  # a file returned to the district
    district_notice_id: str
    partner_notice_id: str
    youth_id: str
    twin_id: str  # a second record of the same youth, linked to the first
    encounter_id: str
    case_id: str
    consent_id: str  # the youth's consent to a hand-over
    link_id: str  # the youth's record linked to a second record of the same youth
    shelter_id: str
    place_id: str
    exclusion_id: str
    card_number: str  # the card holder given the shelter's place, and excluded since


@dataclass(frozen=True)
class Scene:
    accounts: dict[Role, Account]  # world A's staff and the city's, one account a role
    own: World
    other: World
    city_id: str
    emergency_report_id: str  # received by the social emergency service (the city)
    complaint_ids: dict[str, str]  # programme -> a complaint about it
    client_id: str
    hold_id: str
    night_day: date


def actor_of(account: Account) -> Actor:
    user = account.user
    return Actor(user.id, user.username, user.organisation_id, frozenset(user.role_names))


@dataclass(frozen=True)
class _Staff:
    social_worker: Actor
    group_leader: Actor
    link_worker: Actor
    night_staff: Actor


def _staff(factory: Factory, district: Organisation, partner: Organisation) -> dict[Role, Account]:
    return {
        Role.SOCIAL_WORKER: factory.account(Role.SOCIAL_WORKER.value, district),
        Role.GROUP_LEADER: factory.account(Role.GROUP_LEADER.value, partner),
        Role.LINK_WORKER: factory.account(Role.LINK_WORKER.value, partner),
        Role.NIGHT_STAFF: factory.account(Role.NIGHT_STAFF.value, partner),
    }


def build_scene(app: Flask, factory: Factory) -> Scene:
    city = factory.organisation("city")
    with app.app_context():
        session = request_session()
        row = session.get(Organisation, city.id)
        assert row is not None
        row.social_emergency_service = True
        session.commit()
    accounts: dict[Role, Account] = {
        role: factory.account(role.value, city)
        for role in (
            Role.SOCIAL_EMERGENCY,
            Role.NIGHT_COORDINATOR,
            Role.COORDINATOR,
            Role.DPO,
            Role.ADMIN,
        )
    }
    districts = factory.organisation("district"), factory.organisation("district")
    partners = factory.organisation("partner"), factory.organisation("partner")
    staff_accounts = [_staff(factory, d, p) for d, p in zip(districts, partners, strict=True)]
    accounts |= staff_accounts[0]
    staff = [
        _Staff(
            actor_of(s[Role.SOCIAL_WORKER]),
            actor_of(s[Role.GROUP_LEADER]),
            actor_of(s[Role.LINK_WORKER]),
            actor_of(s[Role.NIGHT_STAFF]),
        )
        for s in staff_accounts
    ]
    coordinator = actor_of(accounts[Role.NIGHT_COORDINATOR])
    today = clock.today()
    settings = app.config["REFERRAL_SETTINGS"]
    with app.app_context(), UnitOfWork(request_session()) as uow:
        worlds = [
            _world(app, uow, staff[i], districts[i], partners[i], f"Matris-{i}", today)
            for i in range(2)
        ]
        night_day, nights = _nights(uow, settings, coordinator, staff, partners, today)
        emergency = concern_reports.file_report(
            uow,
            staff[0].link_worker,
            concern_reports.NewConcernReport(
                "Oro för en ung person vid Sergels torg.",
                "070-2",
                subject_description="En pojke, omkring fjorton år.",
            ),
            RULE,
            today,
        )
        complaint_ids = {p: _complaint(uow, p) for p in ("A", "B", "C")}
        admin = actor_of(accounts[Role.ADMIN])
        client = api_clients.issue(
            uow,
            admin,
            api_clients.NewClient(
                partners[0].id, "Matrisens system", "group_leader", ["referral:inbox"]
            ),
        )
        hold_id = _hold(uow, settings, actor_of(accounts[Role.DPO]), staff[0], districts[0], today)
    own, other = (
        World(**worlds[i], **nights[i], social_worker_id=staff[i].social_worker.user_id)
        for i in range(2)
    )
    return Scene(
        accounts=accounts,
        own=own,
        other=other,
        city_id=city.id,
        emergency_report_id=emergency.report_id,
        complaint_ids=complaint_ids,
        client_id=client.client.id,
        hold_id=hold_id,
        night_day=night_day,
    )


def _world(
    app: Flask,
    uow: UnitOfWork,
    staff: _Staff,
    district: Organisation,
    partner: Organisation,
    version: str,
    today: date,
) -> dict[str, str]:
    worker, leader, link_worker = staff.social_worker, staff.group_leader, staff.link_worker
    activity_descriptions.publish(
        uow,
        SYSTEM,
        activity_descriptions.NewDescription(
            activity_descriptions.SUPPORT_GROUP, partner.id, version, "Om stödgrupperna."
        ),
    )
    child = _registered_child(uow, worker)
    placed_under_sol_with_consent(
        uow, worker, child, on=today, until=today + timedelta(days=30), description=version
    )
    referral_id = referred(uow, worker, child, partner.id, on=today)
    referrals.respond(uow, leader, referral_id, accept=True, today=today)
    group = groups.create_group(
        uow,
        leader,
        groups.NewGroup(
            f"Grupp {version}", "weekly", today + timedelta(days=3), 7, 18, [leader.user_id]
        ),
        today,
    )
    enrolment = groups.enrol(uow, leader, group.group_id, referral_id, today)
    partner_files.write_note(uow, leader, referral_id, "En anteckning.", today)
    declined = referred(uow, worker, child, partner.id, on=today)
    referrals.respond(uow, leader, declined, accept=False, today=today)
    key = return_signing.load_key(app.config["REFERRAL_SETTINGS"].return_signing_key_path)
    returned = returned_files.deliver(uow, SYSTEM, declined, key, today)
    registration = interest.register_interest(
        uow,
        leader,
        interest.NewInterest(
            "Intressebarn", invented_personnummer(2016, 5, 5), district.id, "08-1", today
        ),
        today,
    )
    report = concern_reports.file_report(
        uow,
        leader,
        concern_reports.NewConcernReport("Oro efter träffen.", "070-1", referral_id=referral_id),
        RULE,
        today,
    )
    youth = outreach.register_youth(uow, link_worker, outreach.NewYouth("Ung person"), today)
    twin = outreach.register_youth(uow, link_worker, outreach.NewYouth("Samma person"), today)
    link = duplicates.link_records(uow, link_worker, youth.id, twin.id)
    encounter = outreach.record_encounter(
        uow,
        link_worker,
        outreach.NewEncounter(today, "sergels_torg", youth_id=youth.id),
        today,
    )
    link_cases.record_consent(
        uow,
        link_worker,
        youth.id,
        link_cases.NewYouthConsent(
            "district_social_services",
            "Länkning",
            ("identity",),
            "god_man",
            today,
            today + timedelta(days=30),
        ),
        today,
    )
    case = link_cases.open_case(
        uow,
        link_worker,
        link_cases.NewLinkCase(
            youth.id, "district_social_services", "Länkning", today, district.id
        ),
        today,
    )
    uow.commit()
    session = uow.session
    return {
        "district_id": district.id,
        "partner_id": partner.id,
        "child_id": child,
        "referral_id": referral_id,
        "group_id": group.group_id,
        "session_id": _first(
            session, select(GroupSession.id).where(GroupSession.group_id == group.group_id)
        ),
        "report_id": report.report_id,
        "registration_id": registration.id,
        "file_id": returned.id,
        "district_notice_id": _notice(session, district.id),
        "partner_notice_id": _notice(session, partner.id),
        "enrolment_id": enrolment.enrolment_id,
        "youth_id": youth.id,
        "twin_id": twin.id,
        "encounter_id": encounter.id,
        "case_id": case.id,
        "consent_id": _first(
            session, select(YouthConsent.id).where(YouthConsent.youth_id == youth.id)
        ),
        "link_id": link.id,
    }


def _registered_child(uow: UnitOfWork, worker: Actor) -> str:
    new = children.NewChild(invented_personnummer(2014, 4, 4), "Matrisbarn")
    return children.register_child(uow, worker, new).id


def _first(session: Session, query: Select[str]) -> str:
    found = session.scalars(query).first()
    assert found is not None
    return found


def _notice(session: Session, organisation_id: str) -> str:
    return _first(
        session, select(Notification.id).where(Notification.organisation_id == organisation_id)
    )


def _nights(
    uow: UnitOfWork,
    settings: Settings,
    coordinator: Actor,
    staff: list[_Staff],
    partners: tuple[Organisation, Organisation],
    today: date,
) -> tuple[date, list[dict[str, str]]]:
    """A shelter of each partner with one place, both given by the last registration
    morning's one allocation to the card holder that partner's staff registered, who has
    been excluded from that shelter since."""
    day = today - timedelta(days=1)
    while not is_registration_day(day):
        day -= timedelta(days=1)
    opens = datetime.combine(day, time(9, 30), STOCKHOLM)
    made = []
    for worker, partner in zip(staff, partners, strict=True):
        shelter = shelters.create_shelter(
            uow,
            coordinator,
            shelters.NewShelter(partner.id, f"Härbärge {partner.name}", 1, day),
            day,
        )
        card = people.issue_card(uow, worker.night_staff, people.NewPerson(alias="Nattgäst"), day)
        registration.register(uow, worker.night_staff, card.card_number, settings, opens)
        made.append((worker, shelter.id, card.card_number))
    allocation.run_allocation(uow, coordinator, settings, opens + timedelta(hours=1))
    nights = []
    for worker, shelter_id, card_number in made:
        excluded = exclusions.exclude(
            uow,
            worker.night_staff,
            shelter_id,
            card_number,
            "Bröt mot husets regler.",
            today + timedelta(days=7),
            today,
        )
        place_id = _first(
            uow.session, select(NightPlace.id).where(NightPlace.shelter_id == shelter_id)
        )
        nights.append(
            {
                "shelter_id": shelter_id,
                "place_id": place_id,
                "exclusion_id": excluded.id,
                "card_number": card_number,
            }
        )
    uow.commit()
    return day, nights


def _complaint(uow: UnitOfWork, programme: str) -> str:
    """A complaint about `programme` sent through the public form; its id."""
    sent = complaints.submit_public(
        uow,
        complaints.NewComplaint(programme, "complaint", "premises", "Lokalen var kall."),
        clock.now(),
    )
    ids = uow.session.scalars(select(Complaint.id).where(Complaint.programme == programme))
    return next(i for i in ids if complaints.reference_of(i) == sent.reference)


def _hold(
    uow: UnitOfWork,
    settings: Settings,
    dpo: Actor,
    staff: _Staff,
    district: Organisation,
    today: date,
) -> str:
    """A legal hold on an interest registration the district declined (due for purge)."""
    registered = interest.register_interest(
        uow,
        staff.group_leader,
        interest.NewInterest(
            "Avböjt intressebarn", invented_personnummer(2016, 1, 2), district.id, "08-2", today
        ),
        today,
    )
    interest.decline(uow, staff.social_worker, registered.id)
    return holds.set_hold(
        uow, dpo, settings, "interest", registered.id, "Begäran om utlämnande prövas", today
    )
