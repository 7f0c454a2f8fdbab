"""A distinct canary for every sealed (personal) column, and the walk that writes each one
through the public interface: the JSON API (/api/v1) as the role that may write it, the web
form where only a form writes it, the public feedback form without login, and the nightly
purge command for the one column only it writes. Setup that carries no canary (accounts, a
published activity description, a consent) is made through the factories.

Every sealed column is in exactly one of three tables below, so a new sealed column fails
test_every_sealed_column_has_a_canary_or_a_reason until it is given one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from config.settings import Settings
from referral import clock
from referral.db.models import Organisation
from referral.request_scope import request_session
from referral.roles import Role
from tests.factories import (
    Account,
    ApiClient,
    Factory,
    api_client,
    csrf_token,
    invented_personnummer,
    log_in,
)

# Wednesday 2027-03-03, 09:15 in Stockholm: the night shelter's registration window is open.
MORNING = datetime(2027, 3, 3, 8, 15, tzinfo=UTC)
AFTER_WINDOW = datetime(2027, 3, 3, 10, 5, tzinfo=UTC)  # the window closed: allocate

CHILD_PERSONNUMMER = invented_personnummer(2014, 6, 21, serial=731)
REPORT_PERSONNUMMER = invented_personnummer(2013, 9, 8, serial=452)
INTEREST_PERSONNUMMER = invented_personnummer(2015, 2, 17, serial=368)
YOUTH_PERSONNUMMER = invented_personnummer(2010, 2, 3, serial=619)


@dataclass(frozen=True)
class Canary:
    """What the walk writes into a column, which the column's plaintext must then hold.

    `scanned` is False for a value from a short closed set or a year: such a value is also
    written in clear where it is not personal (an anonymous encounter's gender, the CHECK
    constraints in the schema) or is too short to tell from noise, so finding its bytes
    proves nothing. The walk still proves it reached its column."""

    value: str
    scanned: bool = True


def _text(table: str, column: str) -> Canary:
    # Letters only after the prefix: every free-text field accepts them, and no canary is
    # a prefix of another (the column name ends each one).
    return Canary(f"Kanarie {table.replace('_', ' ')} {column.replace('_', ' ')} Qzv")


def _closed(value: str) -> Canary:
    return Canary(value, scanned=False)


COLUMNS: dict[tuple[str, str], Canary] = {
    ("children", "personnummer"): Canary(CHILD_PERSONNUMMER),
    ("children", "name"): _text("children", "name"),
    ("children", "gender"): _closed("girl"),
    ("children", "family_home_name"): _text("children", "family_home_name"),
    ("children", "family_home_address"): _text("children", "family_home_address"),
    ("children", "family_home_phone"): _text("children", "family_home_phone"),
    ("children", "placement_basis"): _closed("LVU"),
    ("children", "lvu_decision"): _text("children", "lvu_decision"),
    ("children", "lvu_decided_by"): _text("children", "lvu_decided_by"),
    ("children", "lvu_decided_on"): Canary("2026-11-19"),  # no other date of the walk
    ("children", "child_views"): _text("children", "child_views"),
    ("children", "lvu_sharing"): _closed("contact_details"),
    ("children", "paying_municipality"): _text("children", "paying_municipality"),
    ("children", "case_number"): Canary("KANARIE-IFO 2027/4711"),  # letters, digits, -/.:
    ("guardians", "name"): _text("guardians", "name"),
    ("guardians", "contact"): _text("guardians", "contact"),
    ("referrals", "notes"): _text("referrals", "notes"),
    ("partner_notes", "text"): _text("partner_notes", "text"),
    ("concern_reports", "subject_name"): _text("concern_reports", "subject_name"),
    ("concern_reports", "subject_personnummer"): Canary(REPORT_PERSONNUMMER),
    ("concern_reports", "approximate_age"): _text("concern_reports", "approximate_age"),
    ("concern_reports", "place"): _text("concern_reports", "place"),
    ("concern_reports", "subject_description"): _text("concern_reports", "subject_description"),
    ("concern_reports", "what_happened"): _text("concern_reports", "what_happened"),
    ("concern_reports", "seen_or_said"): _text("concern_reports", "seen_or_said"),
    ("concern_reports", "actions_taken"): _text("concern_reports", "actions_taken"),
    ("concern_reports", "reporter_contact"): _text("concern_reports", "reporter_contact"),
    ("concern_reports", "case_reference"): _text("concern_reports", "case_reference"),
    ("interest_registrations", "child_name"): _text("interest_registrations", "child_name"),
    ("interest_registrations", "personnummer"): Canary(INTEREST_PERSONNUMMER),
    ("interest_registrations", "family_home_contact"): _text(
        "interest_registrations", "family_home_contact"
    ),
    ("complaints", "text"): _text("complaints", "text"),
    ("complaints", "contact"): _text("complaints", "contact"),
    ("complaints", "response"): _text("complaints", "response"),
    ("legal_holds", "reason"): _text("legal_holds", "reason"),
    ("emergency_grants", "reason"): _text("emergency_grants", "reason"),
    ("youths", "alias"): _text("youths", "alias"),
    ("youths", "personnummer"): Canary(YOUTH_PERSONNUMMER),
    ("youths", "lma_number"): Canary("7310462958"),
    ("youths", "dossier_number"): Canary("84213957"),
    ("youths", "birth_date"): Canary("2010-02-03"),  # the personnummer's, kept apart
    ("youths", "birth_year"): _closed("2010"),
    ("youths", "gender"): _closed("other"),
    ("youths", "country_of_origin"): _text("youths", "country_of_origin"),
    ("youths", "situation"): _closed("no_contact_with_authorities"),
    ("youth_consents", "purpose"): _text("youth_consents", "purpose"),
    ("youth_consents", "legal_reference"): _text("youth_consents", "legal_reference"),
    ("link_cases", "purpose"): _text("link_cases", "purpose"),
    ("night_people", "alias"): _text("night_people", "alias"),
    ("night_people", "birth_year"): _closed("1961"),
    ("night_people", "gender"): _closed("woman"),
    ("night_people", "country_of_origin"): _text("night_people", "country_of_origin"),
    ("night_registrations", "override_kind"): _closed("danger_to_life"),
    ("night_registrations", "override_reason"): _text("night_registrations", "override_reason"),
    ("night_exclusions", "reason"): _text("night_exclusions", "reason"),
}

# The reason an interest registration is declined is kept nowhere but sealed in the log.
DECLINE_REASON = _text("interest", "decline reason")

# Columns the service composes from what was written: each must hold the canaries named.
COMPOSED: dict[tuple[str, str], tuple[str, ...]] = {
    # The access log's details: the emergency grant's purpose, the decline's reason.
    ("audit_entries", "details"): (
        COLUMNS["emergency_grants", "reason"].value,
        DECLINE_REASON.value,
    ),
    # The signed file returned to the district on a declined referral: who the child is.
    ("returned_files", "document"): (
        COLUMNS["children", "name"].value,
        COLUMNS["children", "personnummer"].value,
    ),
    # The night's allocation, written by the run and read back by its verification: its
    # inputs and result name the cards (printed numbers, not names) and the grounds of an
    # override, a closed value (so not scanned: see Canary).
    ("night_runs", "inputs"): (
        COLUMNS["night_registrations", "override_kind"].value,
        COLUMNS["night_people", "gender"].value,
    ),
    ("night_runs", "result"): (COLUMNS["night_registrations", "override_kind"].value,),
    # The draw's seed: random, made by the service and sealed until the morning's run so
    # nobody can steer it, then published with the result. No one writes it; the walk
    # proves it was written (a registration morning's).
    ("night_days", "seed"): (),
}

# Sealed columns no route writes, and why.
EXCLUDED: dict[tuple[str, str], str] = {
    ("partner_files", "notes"): (
        "nothing writes it since a partner's file keeps its notes one by one in "
        "partner_notes.text (which the walk fills); the column stays null"
    ),
}

SCANNED: tuple[str, ...] = (
    *(c.value for c in COLUMNS.values() if c.scanned),
    DECLINE_REASON.value,
)


@dataclass
class Walked:
    """What the walk made, for the checks that follow it."""

    district_id: str
    city_id: str


def _form(client: FlaskClient, path: str, data: dict[str, str], page: str = "/") -> str:
    """POST a web form with its CSRF token; the redirect's target (a form that is refused
    answers 4xx and fails here, naming the path)."""
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, page)})
    assert response.status_code in (302, 303), (path, response.status_code)
    return response.headers["Location"]


def _ok(response, path: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code in (200, 201), (path, response.status_code, response.get_json())
    return response.get_json() or {}


def _post(api: ApiClient, path: str, body: object = None) -> dict:  # type: ignore[type-arg]
    return _ok(api.post(path, body), path)


def _put(api: ApiClient, path: str, body: object) -> dict:  # type: ignore[type-arg]
    return _ok(api.put(path, body), path)


def _web(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    log_in(client, account)
    return client


def _v(table: str, column: str) -> str:
    return COLUMNS[table, column].value


def write_every_canary(app: Flask, settings: Settings, moment: list[datetime]) -> Walked:
    """Write every canary of COLUMNS (and the decline reason) through the public interface.
    `moment` is the frozen clock's one-element cell: the walk moves it past the night
    shelter's registration window before the allocation."""
    factory = Factory(app, settings)
    city = factory.organisation("city")
    with app.app_context():
        request_session().execute(
            update(Organisation)
            .where(Organisation.id == city.id)
            .values(social_emergency_service=True)
        )
        request_session().commit()
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    version = "Kanarie-1"
    factory.activity_description(version, partner)

    worker = api_client(app, factory.account(Role.SOCIAL_WORKER.value, district))
    leader_account = factory.account(Role.GROUP_LEADER.value, partner)
    leader = api_client(app, leader_account)
    child = _children(worker, leader, partner.id, version)
    _web_only_child_fields(app, factory, worker, child)
    report, registration = _concern_and_interest(worker, leader, district.id)
    _outreach(api_client(app, factory.account(Role.LINK_WORKER.value, partner)), district.id)
    _feedback(app, leader_account)
    _hold_and_acknowledge(app, factory, city, registration, report)
    _nights(app, factory, city, partner, moment)
    _purge_run(app)
    return Walked(district.id, city.id)


def _children(worker: ApiClient, leader: ApiClient, partner_id: str, version: str) -> str:
    child = _post(
        worker,
        "/api/v1/children",
        {"personnummer": _v("children", "personnummer"), "name": _v("children", "name")},
    )["id"]
    base = f"/api/v1/children/{child}"
    _put(worker, f"{base}/placement", {"basis": "SoL"})
    guardian = _post(
        worker,
        f"{base}/guardians",
        {
            "name": _v("guardians", "name"),
            "contact": _v("guardians", "contact"),
            "has_custody": True,
        },
    )["id"]
    today = clock.today()
    _post(
        worker,
        f"{base}/consents",
        {
            "party": guardian,
            "decision": "given",
            "categories": ["name", "age", "contact_details", "participation"],
            "decided_on": today.isoformat(),
            "valid_until": (today + timedelta(days=90)).isoformat(),
            "method": "written",
            "description_version": version,
        },
    )
    _put(
        worker,
        f"{base}/details",
        {
            "gender": _v("children", "gender"),
            "family_home_name": _v("children", "family_home_name"),
            "family_home_address": _v("children", "family_home_address"),
            "family_home_phone": _v("children", "family_home_phone"),
            "paying_municipality": _v("children", "paying_municipality"),
            "child_views": _v("children", "child_views"),
        },
    )
    # A referral under SoL (the consent lets it be shared), accepted, with a partner's note;
    # a second one declined after the partner filed a concern from it, so the nightly run
    # returns its file to the district.
    for accept in (True, False):
        referral = _post(
            worker,
            "/api/v1/referrals",
            {
                "child_id": child,
                "partner_id": partner_id,
                "preferred_format": "weekly",
                "notes": _v("referrals", "notes"),
            },
        )["id"]
        _post(worker, f"/api/v1/referrals/{referral}/submit")
        if not accept:  # a concern filed from it: its file must go back to the district
            _post(
                leader,
                "/api/v1/concern-reports",
                {
                    "referral_id": referral,
                    "what_happened": "Oro efter samtalet.",
                    "reporter_contact": "070-1",
                },
            )
        verb = "accept" if accept else "decline"
        _post(leader, f"/api/v1/partner/referrals/{referral}/{verb}")
        if accept:
            _post(
                leader,
                f"/api/v1/partner/referrals/{referral}/notes",
                {"text": _v("partner_notes", "text")},
            )
    # Then under LVU: the decision, its date and body, and what the partner may see.
    _put(
        worker,
        f"{base}/placement",
        {
            "basis": _v("children", "placement_basis"),
            "lvu_decision": _v("children", "lvu_decision"),
            "lvu_decided_by": _v("children", "lvu_decided_by"),
            "lvu_decided_on": _v("children", "lvu_decided_on"),
            "lvu_shared": [_v("children", "lvu_sharing")],
        },
    )
    return str(child)


def _web_only_child_fields(app: Flask, factory: Factory, worker: ApiClient, child: str) -> None:
    """The case number is kept only through the child's page; emergency access is given
    only through its page, to a social worker of another district."""
    owner = worker.client
    _form(
        owner,
        f"/children/{child}/case-number",
        {"case_number": _v("children", "case_number")},
        f"/children/{child}",
    )
    stranger = _web(app, factory.account(Role.SOCIAL_WORKER.value))
    _form(
        stranger,
        "/emergency/access",
        {"child_id": child, "reason": _v("emergency_grants", "reason")},
    )


def _concern_and_interest(
    worker: ApiClient, leader: ApiClient, district_id: str
) -> tuple[str, str]:
    """A concern report about a child no district is known to have; an interest
    registration, declined with a reason. Their ids."""
    report = _post(
        leader,
        "/api/v1/concern-reports",
        {
            "personnummer": _v("concern_reports", "subject_personnummer"),
            "subject_name": _v("concern_reports", "subject_name"),
            "approximate_age": _v("concern_reports", "approximate_age"),
            "place": _v("concern_reports", "place"),
            "subject_description": _v("concern_reports", "subject_description"),
            "what_happened": _v("concern_reports", "what_happened"),
            "seen_or_said": _v("concern_reports", "seen_or_said"),
            "actions_taken": _v("concern_reports", "actions_taken"),
            "reporter_contact": _v("concern_reports", "reporter_contact"),
        },
    )["report_id"]
    registration = _post(
        leader,
        "/api/v1/partner/interest",
        {
            "child_name": _v("interest_registrations", "child_name"),
            "personnummer": _v("interest_registrations", "personnummer"),
            "district_id": district_id,
            "family_home_contact": _v("interest_registrations", "family_home_contact"),
            "received_on": clock.today().isoformat(),
        },
    )["registration_id"]
    _post(worker, f"/api/v1/interest/{registration}/decline", {"reason": DECLINE_REASON.value})
    return str(report), str(registration)


def _outreach(link_worker: ApiClient, district_id: str) -> None:
    youth = _post(
        link_worker,
        "/api/v1/outreach/youths",
        {
            "alias": _v("youths", "alias"),
            "personnummer": _v("youths", "personnummer"),
            "lma_number": _v("youths", "lma_number"),
            "dossier_number": _v("youths", "dossier_number"),
            "birth_year": int(_v("youths", "birth_year")),
            "gender": _v("youths", "gender"),
            "country_of_origin": _v("youths", "country_of_origin"),
            "situation": _v("youths", "situation"),
        },
    )["id"]
    today = clock.today()
    _post(
        link_worker,
        f"/api/v1/outreach/youths/{youth}/consents",
        {
            "authority": "district_social_services",
            "purpose": _v("youth_consents", "purpose"),
            "categories": ["identity"],
            "given_by": "god_man",
            "valid_from": today.isoformat(),
            "valid_until": (today + timedelta(days=30)).isoformat(),
            "legal_reference": _v("youth_consents", "legal_reference"),
        },
    )
    _post(
        link_worker,
        "/api/v1/outreach/link-cases",
        {
            "youth_id": youth,
            "authority": "district_social_services",
            "purpose": _v("link_cases", "purpose"),
            "next_due_on": (today + timedelta(days=7)).isoformat(),
            "district_id": district_id,
        },
    )


def _feedback(app: Flask, leader: Account) -> None:
    """Feedback through the public form (no login), answered by staff of its programme."""
    public = app.test_client()
    _form(
        public,
        "/synpunkter",
        {
            "programme": "A",
            "kind": "complaint",
            "category": "premises",
            "text": _v("complaints", "text"),
            "contact": _v("complaints", "contact"),
            "website": "",
        },
        "/synpunkter",
    )
    staff = _web(app, leader)
    listing = staff.get("/complaints").get_data(as_text=True)
    complaint = re.findall(r'data-complaint="([0-9a-f-]{36})"', listing)
    assert len(complaint) == 1, listing
    _form(
        staff,
        f"/complaints/{complaint[0]}/response",
        {
            "outcome": "changed",
            "response": _v("complaints", "response"),
            "responded_on": clock.today().isoformat(),
        },
        f"/complaints/{complaint[0]}",
    )


def _hold_and_acknowledge(
    app: Flask, factory: Factory, city: Organisation, registration: str, report: str
) -> None:
    """The DPO holds the declined interest registration, through the retention page; the
    social emergency service (the report names a child no district is known to have)
    acknowledges the concern report with a case reference."""
    dpo = _web(app, factory.account(Role.DPO.value, city))
    _form(
        dpo,
        "/gallring/holds",
        {
            "rule": "interest",
            "unit_id": registration,
            "reason": _v("legal_holds", "reason"),
        },
        "/gallring",
    )
    _post(
        api_client(app, factory.account(Role.SOCIAL_EMERGENCY.value, city)),
        f"/api/v1/concern-reports/{report}/acknowledge",
        {"case_reference": _v("concern_reports", "case_reference")},
    )


def _nights(
    app: Flask,
    factory: Factory,
    city: Organisation,
    partner: Organisation,
    moment: list[datetime],
) -> None:
    coordinator_account = factory.account(Role.NIGHT_COORDINATOR.value, city)
    coordinator = api_client(app, coordinator_account)
    day = clock.today()
    shelter = _post(
        coordinator,
        "/api/v1/nights/shelters",
        {
            "organisation_id": partner.id,
            "name": "Kanariehärbärget",
            "places": 2,
            "opens_on": (day - timedelta(days=7)).isoformat(),
        },
    )["id"]
    desk = api_client(app, factory.account(Role.NIGHT_STAFF.value, partner))
    card = _post(
        desk,
        "/api/v1/nights/cards",
        {
            "alias": _v("night_people", "alias"),
            "birth_year": int(_v("night_people", "birth_year")),
            "gender": _v("night_people", "gender"),
            "country_of_origin": _v("night_people", "country_of_origin"),
        },
    )["card_number"]
    _post(
        desk,
        "/api/v1/nights/registrations",
        {
            "card_number": card,
            "override_kind": _v("night_registrations", "override_kind"),
            "override_reason": _v("night_registrations", "override_reason"),
        },
    )
    moment[0] = AFTER_WINDOW
    _post(api_client(app, coordinator_account), "/api/v1/nights/allocations")
    _post(
        _desk_after_window(app, factory, partner),
        "/api/v1/nights/exclusions",
        {
            "shelter_id": shelter,
            "card_number": card,
            "reason": _v("night_exclusions", "reason"),
            "expires_on": (day + timedelta(days=14)).isoformat(),
        },
    )


def _desk_after_window(app: Flask, factory: Factory, partner: Organisation) -> ApiClient:
    """A fresh login: the morning's sessions have been idle too long since."""
    return api_client(app, factory.account(Role.NIGHT_STAFF.value, partner))


def _purge_run(app: Flask) -> None:
    """The nightly run (`flask gallring run`, a timer's command) returns the declined
    referral's file to the district: the only writer of returned_files.document."""
    result = app.test_cli_runner().invoke(args=["gallring", "run"])
    assert result.exit_code == 0, result.output
