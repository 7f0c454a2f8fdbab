"""A walk over every route: each page or response that shows personal data writes exactly
one entry to the access log, and the others write none. A new route must be placed in one
of the two lists, so nobody adds a page without deciding whether it is audited.

The walk runs against seeded data, so that every list shows exactly one person: one district
with one child placed under SoL, whose one custodial guardian has consented until next week
(so the partner may lawfully see the child and register participation, and the consent is
in the lapse queue); one referral of that child, accepted by one partner, which has placed
the child in one planned group (and written one note in its own file on the child), and
has sent the district one interest registration of another child. The social worker and
the group leader belong to those two organisations.
Programme C (night places) has one shelter of that partner with one place, one card holder
registered on the last registration day before today and given that place by the day's
allocation, and excluded from the shelter since; the partner's night staff keep the shelter.
A public route (the published result of a morning's draw) is walked without logging in.
A route with URL parameters needs a builder in PATHS that names the seeded object, so that
it is walked too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral import clock, return_signing
from referral.actors import Actor
from referral.clock import STOCKHOLM
from referral.db.audit_log import AuditEntry
from referral.db.complaints import Complaint
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.night_calendar import is_registration_day
from referral.policy import GRANTS
from referral.request_scope import request_session
from referral.roles import Role
from referral.rules import Status
from referral.services import (
    activity_descriptions,
    children,
    complaints,
    concern_reports,
    consent,
    groups,
    interest,
    link_cases,
    outreach,
    partner_files,
    referrals,
    returned_files,
)
from referral.services.nights import allocation, exclusions, people, registration, shelters
from referral.web.access import Level, rule_for
from referral.working_time import WorkingDay
from tests.factories import SYSTEM, Account, Factory, invented_personnummer, log_in

SHOWS_PERSONAL_DATA = {
    # An activity report shows counts only, small ones suppressed, but it is counted from
    # the children's and youths' records (gender, age): producing it is one entry.
    "/reports/<programme>/<key>",
    "/reports/<programme>/<key>/report.csv",
    "/reports/<programme>/<key>/report.pdf",
    "/admin/users",
    "/api/v1/users",
    "/dpo/audit",
    "/dpo/audit/export",
    "/dpo/alerts",
    # The grants list names staff (one entry); with no grant seeded, no reason is opened.
    "/dpo/emergency-access",
    "/api/v1/audit/entries",
    "/children",  # the district's children
    "/children/<child_id>",
    "/children/<child_id>/consent-form",
    "/consents/expiring",  # the district's consents about to lapse
    "/partner/referrals",  # the partner's lawful inbox
    # The district's notices name its child (the seed's placed child: one entry for both of
    # its notices; the interest registration's notice names it by reference only).
    "/notifications",
    "/partner/groups/<group_id>",  # the roster: the children lawfully shown
    "/partner/referrals/<referral_id>/notes",  # the partner's own file (one note seeded)
    "/api/v1/partner/referrals/<referral_id>/notes",
    "/interest",  # the district's queue of interest registrations
    "/api/v1/children",
    "/api/v1/children/<child_id>",
    "/api/v1/referrals",  # the district's referrals, with the children's names
    "/api/v1/referrals/<referral_id>",
    "/api/v1/partner/referrals",
    "/api/v1/partner/groups/<group_id>",  # the roster: the children lawfully shown
    "/api/v1/interest",  # the district's queue of interest registrations
    # A concern report opened, or printed, by its receiver; the DPO's trail names staff.
    "/concern-reports/<report_id>",
    "/concern-reports/<report_id>/print",
    "/api/v1/concern-reports/<report_id>",
    "/dpo/concern-reports",
    "/api/v1/audit/concern-reports",
    # The outreach organisation's youths, and one youth's record.
    "/outreach/youths",
    "/outreach/youths/<youth_id>",  # the youth, with its consents and link cases
    "/api/v1/outreach/youths",
    "/api/v1/outreach/youths/<youth_id>",
    "/api/v1/outreach/youths/<youth_id>/link-cases",
    # What outreach handed over to the district, under the hand-over's basis.
    "/outreach/handovers",
    "/api/v1/handovers",
    # Files returned by partners before a purge: the inbox names the child, and so do the
    # document and its signed JSON download.
    "/returned-files",
    "/returned-files/<file_id>",
    "/returned-files/<file_id>/document.json",
    # Programme C: a shelter's list for a night (card, alias), one entry per person listed;
    # the exclusions, one entry per exclusion listed (one seeded).
    "/nights/shelters/<shelter_id>/tonight",
    "/api/v1/nights/shelters/<shelter_id>/nights/<day>",
    "/nights/exclusions",
    "/api/v1/nights/exclusions",
    # A rerun of a stored allocation decrypts its inputs (card numbers and genders): on
    # record, although the answer itself only says whether the run verifies.
    "/api/v1/nights/allocations/<day>/verification",
    # Complaints and suggestions: one opened, with its sealed text (one seeded, programme A).
    "/complaints/<complaint_id>",
    # The start page: the social worker's own children (the one seeded) with their next step.
    "/",
    # A staff account's sign-in invitation page: the account read is logged (user:list).
    "/admin/users/<user_id>/sign-in",
}
SHOWS_NO_PERSONAL_DATA = {
    "/api/v1/me",  # the caller's own account
    "/account/password",  # the form for one's own password, which it never shows
    "/account/sessions",  # the caller's own sessions: when each began and was last active
    "/admin/organisations",
    # The city's systems' API clients (names, scopes, a token's first characters) and the
    # form that issues one: no one's personal data.
    "/admin/api-clients",
    "/admin/api-clients/new",
    "/admin/activity-descriptions",  # the city's information material
    "/api/v1/organisations",
    "/api/v1/openapi.json",
    "/dpo/integrity",
    "/dpo/subject-access",  # the empty form; the report itself is a POST
    "/partner/groups",  # the year's groups with counts only
    "/fees",  # referral references, groups and municipalities: no child is named
    "/fees/export.csv",
    "/reports",  # the programmes and periods to choose from
    "/partner/interest",  # the partner's own registrations, by reference and status
    "/api/v1/partner/groups",  # the year's groups with counts only
    "/api/v1/partner/interest",  # the partner's own registrations, by reference and status
    "/api/v1/notifications",  # references only
    "/concern-reports/new",  # the empty form
    # Concern reports by reference, time, sender and receipt: nothing about the child.
    "/concern-reports",
    "/concern-reports/filed",
    "/api/v1/concern-reports",
    "/api/v1/concern-reports/received",
    # Encounters by day, place and needs: an anonymous one names no one, a linked one the
    # youth's record by id only.
    "/outreach",
    "/api/v1/outreach/encounters",
    # To which authority which categories may go, from whom, until when: no personal field.
    "/api/v1/outreach/youths/<youth_id>/consents",
    # Other records that may be the same youth, by id only.
    "/api/v1/outreach/youths/<youth_id>/duplicates",
    "/outreach/duplicates",
    "/returned-files/public-key.pem",  # the key that checks the signatures
    # The retention plan names records by reference only; a hold's reason is one entry per
    # hold shown (tests/web/test_gallring_pages.py), and none is seeded here.
    "/gallring",
    # Programme C. The desk and the coordinator's overview show the window, the seed's
    # commitment, counts and shelters: nobody in person (a card is shown only in the answer
    # to a POST). The shelters are the organisation's (or, for the coordinator, all).
    "/nights/desk",
    "/api/v1/nights/desk",
    "/nights/coordinator",
    "/nights/shelters",
    "/api/v1/nights/shelters",
    # The published result names card numbers and each one's ranking terms only, public by
    # design so that anyone can recompute the draw (services/nights/published.py).
    "/nights/result",
    "/nights/result/<day>",
    "/api/v1/nights/results/<day>",
    # Complaints and suggestions: the list shows category, dates and status only; the
    # recording form and the public form and its receipt show nothing of anyone.
    "/complaints",
    "/complaints/new",
    "/synpunkter",
    "/synpunkter/tack",
}
NOT_PAGES = {
    "/login",
    "/mfa",
    "/healthz",
    "/static/<path:filename>",
    # Sign-in through an identity provider: redirects to and from it, no page of records.
    "/login/oidc/<provider>",
    "/login/oidc/<provider>/callback",
    "/login/invitation/<token>",
    "/logout/provider",
}


@dataclass(frozen=True)
class Seed:
    accounts: dict[Role, Account]  # the social worker, the group leader, the link worker
    partner: Organisation
    child_id: str
    referral_id: str
    group_id: str
    report_id: str  # a concern report the partner filed, received by the district
    youth_id: str  # a youth the link worker's organisation met
    # The file returned to the district for a second referral of the child, which the
    # partner declined (the one referral shown in the partner's inbox stays the first).
    returned_file_id: str = ""
    # Programme C: the partner's shelter, and the registration day whose allocation gave
    # its one place (a night also in the shelter's list).
    shelter_id: str = ""
    night_day: str = ""
    # Feedback about programme A, sent through the public form.
    complaint_id: str = ""


PATHS: dict[str, Callable[[Seed], str]] = {
    "/admin/users/<user_id>/sign-in": (
        lambda seed: f"/admin/users/{seed.accounts[Role.SOCIAL_WORKER].user.id}/sign-in"
    ),
    "/admin/api-clients/new": lambda seed: (
        f"/admin/api-clients/new?for={seed.partner.id}:group_leader"
    ),
    # (The group leader, the first role granted the reports: Programme A's.)
    "/reports/<programme>/<key>": lambda _seed: "/reports/A/2026-winter",
    "/reports/<programme>/<key>/report.csv": lambda _seed: "/reports/A/2026-winter/report.csv",
    "/reports/<programme>/<key>/report.pdf": lambda _seed: "/reports/A/2026-winter/report.pdf",
    "/children/<child_id>": lambda seed: f"/children/{seed.child_id}",
    "/children/<child_id>/consent-form": (
        lambda seed: f"/children/{seed.child_id}/consent-form?partner={seed.partner.id}"
    ),
    "/partner/groups/<group_id>": lambda seed: f"/partner/groups/{seed.group_id}",
    "/partner/referrals/<referral_id>/notes": (
        lambda seed: f"/partner/referrals/{seed.referral_id}/notes"
    ),
    "/api/v1/partner/referrals/<referral_id>/notes": (
        lambda seed: f"/api/v1/partner/referrals/{seed.referral_id}/notes"
    ),
    "/api/v1/children/<child_id>": lambda seed: f"/api/v1/children/{seed.child_id}",
    "/api/v1/referrals/<referral_id>": lambda seed: f"/api/v1/referrals/{seed.referral_id}",
    "/api/v1/partner/groups/<group_id>": lambda seed: f"/api/v1/partner/groups/{seed.group_id}",
    "/concern-reports/<report_id>": lambda seed: f"/concern-reports/{seed.report_id}",
    "/concern-reports/<report_id>/print": lambda seed: f"/concern-reports/{seed.report_id}/print",
    "/api/v1/concern-reports/<report_id>": (
        lambda seed: f"/api/v1/concern-reports/{seed.report_id}"
    ),
    "/outreach/youths/<youth_id>": lambda seed: f"/outreach/youths/{seed.youth_id}",
    "/api/v1/outreach/youths/<youth_id>": lambda seed: f"/api/v1/outreach/youths/{seed.youth_id}",
    "/api/v1/outreach/youths/<youth_id>/link-cases": (
        lambda seed: f"/api/v1/outreach/youths/{seed.youth_id}/link-cases"
    ),
    "/api/v1/outreach/youths/<youth_id>/consents": (
        lambda seed: f"/api/v1/outreach/youths/{seed.youth_id}/consents"
    ),
    "/api/v1/outreach/youths/<youth_id>/duplicates": (
        lambda seed: f"/api/v1/outreach/youths/{seed.youth_id}/duplicates"
    ),
    "/returned-files/<file_id>": lambda seed: f"/returned-files/{seed.returned_file_id}",
    "/returned-files/<file_id>/document.json": (
        lambda seed: f"/returned-files/{seed.returned_file_id}/document.json"
    ),
    "/nights/shelters/<shelter_id>/tonight": (
        lambda seed: f"/nights/shelters/{seed.shelter_id}/tonight?night={seed.night_day}"
    ),
    "/api/v1/nights/shelters/<shelter_id>/nights/<day>": (
        lambda seed: f"/api/v1/nights/shelters/{seed.shelter_id}/nights/{seed.night_day}"
    ),
    "/api/v1/nights/allocations/<day>/verification": (
        lambda seed: f"/api/v1/nights/allocations/{seed.night_day}/verification"
    ),
    "/nights/result/<day>": lambda seed: f"/nights/result/{seed.night_day}",
    "/api/v1/nights/results/<day>": lambda seed: f"/api/v1/nights/results/{seed.night_day}",
    "/complaints/<complaint_id>": lambda seed: f"/complaints/{seed.complaint_id}",
}


def _actor(account: Account, role: Role) -> Actor:
    user = account.user
    return Actor(user.id, user.username, user.organisation_id, frozenset({role}))


def _seed(app: Flask, factory: Factory) -> Seed:
    district, partner = factory.organisation("district"), factory.organisation("partner")
    accounts = {
        Role.SOCIAL_WORKER: factory.account(Role.SOCIAL_WORKER.value, district),
        Role.GROUP_LEADER: factory.account(Role.GROUP_LEADER.value, partner),
        Role.LINK_WORKER: factory.account(Role.LINK_WORKER.value, partner),
        Role.NIGHT_STAFF: factory.account(Role.NIGHT_STAFF.value, partner),
        Role.NIGHT_COORDINATOR: factory.account(Role.NIGHT_COORDINATOR.value),
    }
    worker = _actor(accounts[Role.SOCIAL_WORKER], Role.SOCIAL_WORKER)
    leader = _actor(accounts[Role.GROUP_LEADER], Role.GROUP_LEADER)
    today = clock.today()
    with app.app_context(), UnitOfWork(request_session()) as uow:
        description = activity_descriptions.NewDescription(
            activity_descriptions.SUPPORT_GROUP, partner.id, "Walk-1", "Om stödgrupperna."
        )
        activity_descriptions.publish(uow, SYSTEM, description)
        child = children.register_child(
            uow, worker, children.NewChild(invented_personnummer(2014, 4, 4), "Vandringsbarn")
        )
        consent.record_placement(uow, worker, child.id, "SoL", today=today)
        guardian = consent.add_guardian(
            uow, worker, child.id, "Vandringsförälder", None, True, today=today
        )
        given = consent.ConsentInput(
            party=guardian.id,
            decision="given",
            categories=("name", "age", "participation"),
            decided_on=today,
            valid_until=today + timedelta(days=7),
            method="written",
            description_version="Walk-1",
        )
        consent.record_consent(uow, worker, child.id, given, today=today)
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner.id, "weekly"), today=today
        )
        submitted = referrals.submit_referral(uow, worker, referral.id, today)
        assert submitted.status == Status.SHARED
        referrals.respond(uow, leader, referral.id, accept=True, today=today)
        new_group = groups.NewGroup(
            "Vårgrupp vandring", "weekly", today + timedelta(days=3), 7, 18, [leader.user_id]
        )
        group = groups.create_group(uow, leader, new_group, today)
        groups.enrol(uow, leader, group.group_id, referral.id, today)
        partner_files.write_note(uow, leader, referral.id, "Vandringsanteckning.", today)
        registration = interest.NewInterest(
            "Intresseanmält barn", invented_personnummer(2016, 5, 5), district.id, "08-1", today
        )
        interest.register_interest(uow, leader, registration, today)
        concern = concern_reports.NewConcernReport(
            "Oro under vandringen.", "070-1", referral_id=referral.id
        )
        rule = concern_reports.AcknowledgementRule(4, WorkingDay(8, 17))
        report = concern_reports.file_report(uow, leader, concern, rule, today)
        link_worker = _actor(accounts[Role.LINK_WORKER], Role.LINK_WORKER)
        youth = outreach.register_youth(uow, link_worker, outreach.NewYouth("Vandrare"), today)
        # Handed over to the district's social services on a god man's consent.
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
        for step in (
            link_cases.NewStep("contact_made", today, today),
            link_cases.NewStep("handed_over", today, today, categories=("identity",)),
        ):
            link_cases.record_step(uow, link_worker, case.id, step, today)
        declined = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner.id, "weekend"), today=today
        )
        referrals.submit_referral(uow, worker, declined.id, today)
        referrals.respond(uow, leader, declined.id, accept=False, today=today)
        key = return_signing.load_key(app.config["REFERRAL_SETTINGS"].return_signing_key_path)
        returned = returned_files.deliver(uow, SYSTEM, declined.id, key, today)
        uow.commit()
        complaint = complaints.submit_public(
            uow,
            complaints.NewComplaint("A", "complaint", "premises", "Vandringslokalen var kall."),
            clock.now(),
        )
        shelter_id, night_day = _seed_nights(app, uow, accounts)
        return Seed(
            accounts,
            partner,
            child.id,
            referral.id,
            group.group_id,
            report.report_id,
            youth.id,
            returned_file_id=returned.id,
            shelter_id=shelter_id,
            night_day=night_day.isoformat(),
            complaint_id=_complaint_id(app, complaint.reference),
        )


def _seed_nights(app: Flask, uow: UnitOfWork, accounts: dict[Role, Account]) -> tuple[str, date]:
    """One shelter with one place, given by the last registration day's allocation to the
    one card registered that morning, who has been excluded from the shelter since."""
    staff = _actor(accounts[Role.NIGHT_STAFF], Role.NIGHT_STAFF)
    coordinator = _actor(accounts[Role.NIGHT_COORDINATOR], Role.NIGHT_COORDINATOR)
    settings = app.config["REFERRAL_SETTINGS"]
    today = clock.today()
    day = today - timedelta(days=1)
    while not is_registration_day(day):
        day -= timedelta(days=1)
    opens = datetime.combine(day, time(9, 30), STOCKHOLM)
    shelter = shelters.create_shelter(
        uow,
        coordinator,
        shelters.NewShelter(
            accounts[Role.NIGHT_STAFF].user.organisation_id, "Vandringshärbärge", 1, day
        ),
        day,
    )
    card = people.issue_card(uow, staff, people.NewPerson(alias="Nattvandrare"), day)
    registration.register(uow, staff, card.card_number, settings, opens)
    allocation.run_allocation(uow, coordinator, settings, opens + timedelta(hours=1))
    exclusions.exclude(
        uow,
        staff,
        shelter.id,
        card.card_number,
        "Vandringsregel.",
        today + timedelta(days=7),
        today,
    )
    return shelter.id, day


def _complaint_id(app: Flask, reference: str) -> str:
    with app.app_context():
        ids = request_session().scalars(select(Complaint.id)).all()
    return next(i for i in ids if complaints.reference_of(i) == reference)


def _count(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _role_for(app: Flask, endpoint: str) -> Role | None:
    """The first role granted the route's permission; None for a public route."""
    rule = rule_for(app, endpoint, "GET")
    assert rule is not None and rule.level in (Level.PERMISSION, Level.PUBLIC)
    if rule.level is Level.PUBLIC:
        return None
    return next(role for role, granted in GRANTS.items() if rule.permission in granted)


def _account_for(factory: Factory, seed: Seed, role: Role) -> Account:
    """The social worker and the group leader are the seeded organisations' own."""
    return seed.accounts[role] if role in seed.accounts else factory.account(role.value)


@pytest.mark.asvs("V16.3.2")
def test_every_route_that_shows_personal_data_writes_exactly_one_entry(
    app: Flask, factory: Factory
) -> None:
    rules = app.url_map.iter_rules()
    get_routes = {r.rule: r.endpoint for r in rules if "GET" in (r.methods or ())}
    unclassified = set(get_routes) - SHOWS_PERSONAL_DATA - SHOWS_NO_PERSONAL_DATA - NOT_PAGES
    assert unclassified == set(), "decide whether these routes show personal data"
    unbuildable = {r for r in set(get_routes) - NOT_PAGES if "<" in r} - set(PATHS)
    assert unbuildable == set(), "give these routes a builder in PATHS"
    seed = _seed(app, factory)
    clients: dict[Role | None, FlaskClient] = {None: app.test_client()}  # None: not logged in
    for rule in sorted(SHOWS_PERSONAL_DATA | SHOWS_NO_PERSONAL_DATA):
        role = _role_for(app, get_routes[rule])
        if role not in clients:
            assert role is not None
            clients[role] = app.test_client()
            log_in(clients[role], _account_for(factory, seed, role))
        path = PATHS[rule](seed) if rule in PATHS else rule
        before = _count(app)
        response = clients[role].get(path)
        assert response.status_code == 200, (path, response.status_code)
        if response.mimetype == "text/html":  # a page's title is text, nothing else
            assert re.search(r"<title>[^<]*</title>", response.get_data(as_text=True)), path
        written = _count(app) - before
        expected = 1 if rule in SHOWS_PERSONAL_DATA else 0
        assert written == expected, (rule, written)
