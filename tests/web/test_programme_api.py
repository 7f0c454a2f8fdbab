"""Programme A over the JSON API: a social worker registers, places, consents for and refers
a child; a group leader sees the child only while sharing is lawful, and only the partner's
fields. Bad input is a problem document naming the field, and writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from referral import clock
from referral.api.programme_schemas import (
    ConsentOut,
    GuardianCreatedOut,
    PartnerReferralOut,
    ReferralStateOut,
)
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.people import Child, ConsentRecord, Guardian
from referral.db.referrals import Referral, ReferralEvent
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import activity_descriptions, casework, children, consent
from referral.services.referrals import PartnerView, ReferralState
from tests.factories import (
    SYSTEM,
    ApiClient,
    Factory,
    api_client,
    invented_personnummer,
)

VERSION = "A-2026:api"
CHILD_NAME = "Apibarn Qwyxe"
NOTE = "Anteckning Zqvx"
MOTHER, FATHER = "Mamma Apisson", "Pappa Apisson"
CONTACT = "070-111 22 33"
# Never the legal basis: whether a child is shared on consent or under LVU (compulsory care)
# is the district's and the DPO's to know, not the partner's.
PARTNER_KEYS = {"referral_id", "status", "preferred_format", "name", "age"}
FAMILY_HOME_KEYS = {"family_home_name", "family_home_address", "family_home_phone"}


@dataclass
class World:
    app: Flask
    factory: Factory
    district: Organisation
    partner: Organisation
    worker: ApiClient

    @cached_property
    def leader(self) -> ApiClient:
        """Logged in on first use: a login is slow (password hashing), and not every test
        needs the partner's side."""
        return api_client(self.app, self.factory.account("group_leader", self.partner))

    def register(self, name: str = CHILD_NAME, personnummer: str | None = None) -> str:
        number = personnummer or invented_personnummer(2015, 6, 1)
        response = self.worker.post("/api/v1/children", {"personnummer": number, "name": name})
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    def place(self, child_id: str, basis: str = "SoL") -> TestResponse:
        body: dict[str, str] = {"basis": basis}
        if basis == "LVU":
            body |= {
                "lvu_decision": "Beslut 17/2026",
                "lvu_decided_by": "Farsta SDN",
                "lvu_decided_on": "2026-01-15",
                "lvu_shared": ["name", "age", "contact_details", "participation"],
            }
        response = self.worker.put(f"/api/v1/children/{child_id}/placement", body)
        assert response.status_code == 200, response.get_json()
        return response

    def guardian(self, child_id: str, name: str = MOTHER) -> str:
        body = {"name": name, "contact": CONTACT, "has_custody": True}
        response = self.worker.post(f"/api/v1/children/{child_id}/guardians", body)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    def consent(self, child_id: str, party: str, **changes: object) -> TestResponse:
        return self.worker.post(f"/api/v1/children/{child_id}/consents", _consent(party, **changes))

    def refer(self, child_id: str, **changes: object) -> str:
        body = {
            "child_id": child_id,
            "partner_id": self.partner.id,
            "preferred_format": "weekly",
            "notes": NOTE,
            **changes,
        }
        response = self.worker.post("/api/v1/referrals", body)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    def lvu_referral(self, name: str = CHILD_NAME) -> tuple[str, str]:
        """A child placed under LVU, referred and submitted: with the partner at once."""
        child_id = self.register(name)
        self.place(child_id, "LVU")
        referral_id = self.refer(child_id)
        assert self.submit(referral_id).get_json()["status"] == "shared"
        return child_id, referral_id

    def submit(self, referral_id: str) -> TestResponse:
        return self.worker.post(f"/api/v1/referrals/{referral_id}/submit")

    def inbox(self) -> list[dict[str, Any]]:
        response = self.leader.get("/api/v1/partner/referrals")
        assert response.status_code == 200
        body: list[dict[str, Any]] = response.get_json()
        return body


def _consent(party: str, **changes: object) -> dict[str, object]:
    return {
        "party": party,
        "decision": "given",
        "categories": ["name", "age"],
        "decided_on": clock.today().isoformat(),
        "valid_until": (clock.today() + timedelta(days=90)).isoformat(),
        "method": "written",
        "description_version": VERSION,
        **changes,
    }


@pytest.fixture
def world(app: Flask, factory: Factory) -> World:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        activity_descriptions.publish(
            uow,
            SYSTEM,
            activity_descriptions.NewDescription(
                activity_descriptions.SUPPORT_GROUP, partner.id, VERSION, "Om stödgrupperna."
            ),
        )
    return World(
        app=app,
        factory=factory,
        district=district,
        partner=partner,
        worker=api_client(app, factory.account("social_worker", district)),
    )


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        db = request_session()
        return {
            model.__name__: int(db.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Child, Guardian, ConsentRecord, Referral, ReferralEvent, AuditEntry)
        }


def _entries(app: Flask, since: int, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            request_session().scalars(
                select(AuditEntry)
                .where(AuditEntry.sequence > since, AuditEntry.action == action)
                .order_by(AuditEntry.sequence)
            )
        )


def _actions_since(app: Flask, since: int) -> list[str]:
    with app.app_context():
        return list(
            request_session().scalars(
                select(AuditEntry.action)
                .where(AuditEntry.sequence > since)
                .order_by(AuditEntry.sequence)
            )
        )


def _last_sequence(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.max(AuditEntry.sequence))) or 0)


def _assert_problem(response: TestResponse, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == status
    assert field in problem["errors"], problem
    assert field in problem["detail"]
    return problem


def _assert_not_found(response: TestResponse) -> None:
    """A refusal that does not reveal whether the record exists."""
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404
    assert CHILD_NAME not in response.get_data(as_text=True)


# --- The whole journey ----------------------------------------------------------------------


@pytest.mark.asvs("V8.2.3")
def test_the_partner_sees_an_sol_child_only_after_both_consents_and_only_its_own_fields(
    world: World,
) -> None:
    personnummer = invented_personnummer(2015, 6, 1)
    registered = world.worker.post(
        "/api/v1/children", {"personnummer": personnummer, "name": CHILD_NAME}
    )
    assert registered.status_code == 201
    assert set(registered.get_json()) == {"id"}
    assert personnummer not in registered.get_data(as_text=True)
    child_id = registered.get_json()["id"]

    placed = world.place(child_id, "SoL").get_json()
    assert placed == {
        "child_id": child_id,
        "placement_basis": "SoL",
        "lvu_decision": None,
        "lvu_decided_by": None,
        "lvu_decided_on": None,
        "lvu_shared": None,
    }
    mother, father = world.guardian(child_id, MOTHER), world.guardian(child_id, FATHER)
    referral_id = world.refer(child_id)
    assert world.submit(referral_id).get_json()["status"] == "awaiting_consent"
    assert world.inbox() == []  # no consent yet: the partner does not see that it exists

    first = world.consent(child_id, mother)
    assert first.status_code == 201
    assert set(first.get_json()) == {
        "id",
        "child_id",
        "party",
        "decision",
        "categories",
        "decided_on",
        "valid_until",
        "method",
        "description_version",
        "recorded_at",
    }
    assert world.inbox() == []  # one custodian of two: still no consent
    assert world.consent(child_id, father).status_code == 201

    inbox = world.inbox()
    assert [set(item) for item in inbox] == [PARTNER_KEYS]
    assert inbox[0]["referral_id"] == referral_id
    assert inbox[0]["name"] == CHILD_NAME
    assert inbox[0]["status"] == "shared"
    raw = world.leader.get("/api/v1/partner/referrals").get_data(as_text=True)
    for never_shown in (personnummer, personnummer[2:], NOTE, MOTHER, FATHER, CONTACT):
        assert never_shown not in raw

    accepted = world.leader.post(f"/api/v1/partner/referrals/{referral_id}/accept")
    assert accepted.status_code == 200
    assert set(accepted.get_json()) == PARTNER_KEYS
    assert accepted.get_json()["status"] == "accepted"


def test_a_withdrawn_referral_leaves_the_inbox_and_can_no_longer_be_accepted(
    world: World,
) -> None:
    _child_id, referral_id = world.lvu_referral()
    assert [item["referral_id"] for item in world.inbox()] == [referral_id]

    withdrawn = world.worker.post(f"/api/v1/referrals/{referral_id}/withdraw")
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert world.inbox() == []
    refused = world.leader.post(f"/api/v1/partner/referrals/{referral_id}/accept")
    _assert_not_found(refused)


def test_a_withdrawn_consent_takes_the_child_out_of_the_inbox_at_once(world: World) -> None:
    child_id = world.register()
    world.place(child_id, "SoL")
    guardian = world.guardian(child_id)
    assert world.consent(child_id, guardian).status_code == 201
    referral_id = world.refer(child_id)
    assert world.submit(referral_id).get_json()["status"] == "shared"
    assert len(world.inbox()) == 1

    withdrawal = world.consent(child_id, guardian, decision="withdrawn", categories=[])
    assert withdrawal.status_code == 201
    assert world.inbox() == []
    _assert_not_found(world.leader.post(f"/api/v1/partner/referrals/{referral_id}/decline"))


@pytest.mark.asvs("V8.2.3")
def test_the_partner_document_leaves_out_a_category_the_consent_does_not_cover(
    world: World,
) -> None:
    child_id = world.register()
    world.place(child_id, "SoL")
    guardian = world.guardian(child_id)
    assert world.consent(child_id, guardian, categories=["name"]).status_code == 201
    world.submit(world.refer(child_id))

    inbox = world.inbox()
    assert [set(item) for item in inbox] == [PARTNER_KEYS - {"age"}]
    assert inbox[0]["name"] == CHILD_NAME


def test_consented_contact_details_are_the_family_homes_never_the_guardians(
    world: World,
) -> None:
    child_id = world.register()
    world.place(child_id, "SoL")
    details = {
        "gender": "girl",
        "family_home_name": "Familjehemmet Ek",
        "family_home_address": "Ekvägen 1, Farsta",
        "family_home_phone": "08-123 45 67",
        "paying_municipality": None,
        "child_views": None,
    }
    saved = world.worker.put(f"/api/v1/children/{child_id}/details", details)
    assert saved.status_code == 200
    assert saved.get_json() == {
        "child_id": child_id,
        **details,
    }
    guardian = world.guardian(child_id)
    categories = ["name", "age", "contact_details"]
    assert world.consent(child_id, guardian, categories=categories).status_code == 201
    world.submit(world.refer(child_id))

    inbox = world.inbox()
    assert [set(item) for item in inbox] == [PARTNER_KEYS | FAMILY_HOME_KEYS]
    assert inbox[0]["family_home_phone"] == "08-123 45 67"
    raw = world.leader.get("/api/v1/partner/referrals").get_data(as_text=True)
    for never_shown in (MOTHER, CONTACT, "girl"):
        assert never_shown not in raw


@pytest.mark.asvs("V15.3.1")
def test_the_partner_schema_carries_exactly_what_the_partner_view_carries() -> None:
    assert set(PartnerReferralOut().fields) == {f.name for f in dataclasses.fields(PartnerView)}


@pytest.mark.parametrize(
    ("schema", "read_model"),
    [
        (ReferralStateOut, ReferralState),
        (GuardianCreatedOut, consent.AddedGuardian),
        (ConsentOut, consent.RecordedConsent),
    ],
)
def test_each_answer_to_a_change_carries_exactly_what_the_services_read_model_carries(
    schema: type[Schema], read_model: Any
) -> None:
    assert set(schema().fields) == {f.name for f in dataclasses.fields(read_model)}


# --- The social worker's reads ---------------------------------------------------------------


def test_the_social_worker_reads_the_district_referrals_and_each_history(
    world: World,
) -> None:
    child_id, referral_id = world.lvu_referral()
    listing = world.worker.get("/api/v1/referrals").get_json()
    assert [set(item) for item in listing] == [
        {
            "id",
            "status",
            "child_id",
            "child_name",
            "partner_id",
            "partner_name",
            "preferred_format",
            "created_at",
            "updated_at",
            "concern",
        }
    ]
    assert listing[0]["child_name"] == CHILD_NAME
    assert listing[0]["concern"] is False
    assert listing[0]["partner_name"] == world.partner.name

    detail = world.worker.get(f"/api/v1/referrals/{referral_id}").get_json()
    assert set(detail) == {
        "id",
        "status",
        "child_id",
        "child_name",
        "partner_id",
        "partner_name",
        "preferred_format",
        "notes",
        "created_at",
        "history",
    }
    assert detail["child_id"] == child_id and detail["notes"] == NOTE
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "shared"),
    ]
    assert all(set(h) == {"from_status", "to_status", "by", "at"} for h in detail["history"])
    assert {h["by"] for h in detail["history"]} == {"Test social_worker"}


@pytest.mark.asvs("V14.2.6")
def test_the_social_worker_reads_a_childs_record_without_the_personnummer(
    world: World,
) -> None:
    personnummer = invented_personnummer(2015, 6, 1)
    child_id = world.register(personnummer=personnummer)
    world.place(child_id, "SoL")
    guardian = world.guardian(child_id)
    assert world.consent(child_id, guardian).status_code == 201
    world.refer(child_id)

    response = world.worker.get(f"/api/v1/children/{child_id}")
    assert response.status_code == 200
    record = response.get_json()
    assert set(record) == {
        "id",
        "name",
        "birth_date",
        "age",
        "placement_basis",
        "lvu_decision",
        "lvu_decided_by",
        "lvu_decided_on",
        "gender",
        "family_home_name",
        "family_home_address",
        "family_home_phone",
        "paying_municipality",
        "child_views",
        "lvu_sharing",
        "guardians",
        "consents",
        "referrals",
        "sharing",
        "concern",
    }
    assert record["birth_date"] == "2015-06-01"
    assert [g["id"] for g in record["guardians"]] == [guardian]
    assert set(record["guardians"][0]) == {"id", "name", "contact", "has_custody"}
    assert [c["party"] for c in record["consents"]] == [guardian]
    assert set(record["referrals"][0]) == {
        "id",
        "partner_id",
        "partner_name",
        "status",
        "preferred_format",
        "notes",
        "created_at",
        "open",
        "history",
    }
    sharing = {line["category"]: line for line in record["sharing"]}
    assert sharing["name"]["legal_basis"] == "sol_consent"
    assert sharing["contact_details"]["legal_basis"] is None
    assert sharing["contact_details"]["refusal"]
    assert personnummer not in response.get_data(as_text=True)
    assert personnummer[2:] not in response.get_data(as_text=True)


def test_a_look_up_finds_the_districts_child_and_never_echoes_the_number(
    world: World, factory: Factory
) -> None:
    personnummer = invented_personnummer(2013, 9, 9)
    child_id = world.register(personnummer=personnummer)
    before = _last_sequence(world.app)

    found = world.worker.post("/api/v1/children/lookup", {"personnummer": personnummer})
    assert found.status_code == 200
    assert found.get_json() == [{"id": child_id, "name": CHILD_NAME}]
    assert personnummer not in found.get_data(as_text=True)
    assert personnummer[2:] not in found.get_data(as_text=True)
    assert [e.subject_id for e in _entries(world.app, before, "child:search")] == [child_id]

    stranger = api_client(world.app, factory.account("social_worker"))
    elsewhere = stranger.post("/api/v1/children/lookup", {"personnummer": personnummer})
    assert elsewhere.status_code == 200 and elsewhere.get_json() == []


def test_the_district_children_list_shows_each_child_once_with_its_open_referrals(
    world: World,
) -> None:
    child_id, _referral_id = world.lvu_referral()
    listing = world.worker.get("/api/v1/children").get_json()
    assert [item["id"] for item in listing] == [child_id]
    assert set(listing[0]) == {
        "id",
        "name",
        "age",
        "placement_basis",
        "open_referrals",
        "concern",
    }
    assert listing[0]["open_referrals"] == [
        {"partner_name": world.partner.name, "status": "shared"}
    ]


def _subjects(entries: list[AuditEntry]) -> list[str]:
    """The persons the entries are about, with repeats, so that a duplicate shows."""
    return sorted(str(entry.subject_id) for entry in entries)


@pytest.mark.asvs("V16.3.2")
def test_reads_write_one_access_entry_per_child_shown(world: World) -> None:
    first_child, first_referral = world.lvu_referral("Första Barnet")
    world.refer(first_child)  # a second referral of the same child
    second_child, _second_referral = world.lvu_referral("Andra Barnet")

    before = _last_sequence(world.app)
    assert len(world.worker.get("/api/v1/referrals").get_json()) == 3
    listed = _entries(world.app, before, "referral:list")
    assert _subjects(listed) == sorted([first_child, second_child])

    before = _last_sequence(world.app)
    world.worker.get(f"/api/v1/referrals/{first_referral}")
    assert [e.subject_id for e in _entries(world.app, before, "referral:read")] == [first_child]

    before = _last_sequence(world.app)
    assert len(world.inbox()) == 2
    reads = _entries(world.app, before, "referral:read")
    assert _subjects(reads) == sorted([first_child, second_child])
    assert {e.legal_basis for e in reads} == {"lvu"}


@pytest.mark.parametrize("path", ["/api/v1/referrals", "/api/v1/referrals/{referral}"])
@pytest.mark.asvs("V16.5.3")
def test_a_read_whose_access_entry_cannot_be_written_shows_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    _child_id, referral_id = world.lvu_referral()

    def log_unavailable(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the access log cannot be written")

    for module in (casework, children):  # the list and the history write through both
        monkeypatch.setattr(module, "record", log_unavailable)
    monkeypatch.setattr(children, "record_many", log_unavailable)  # a list's, all at once
    response = world.worker.get(path.format(referral=referral_id))
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert CHILD_NAME not in response.get_data(as_text=True)


# --- Bad input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ids:
    child: str
    referral: str
    partner: str
    district: str


BadRequest = Callable[[Ids], tuple[str, str, object]]
VALID_NUMBER = invented_personnummer(2016, 1, 2)
WRONG_CHECK_DIGIT = VALID_NUMBER[:-1] + str((int(VALID_NUMBER[-1]) + 1) % 10)


def _child_post(body: dict[str, object]) -> BadRequest:
    return lambda ids: ("POST", "/api/v1/children", body)


def _on_child(method: str, tail: str, body: object) -> BadRequest:
    return lambda ids: (method, f"/api/v1/children/{ids.child}/{tail}", body)


def _consent_with(**changes: object) -> BadRequest:
    # The body is built when the request is: its dates are the day the test runs.
    return lambda ids: (
        "POST",
        f"/api/v1/children/{ids.child}/consents",
        {**_consent("child"), **changes},
    )


def _referral_with(**changes: object) -> BadRequest:
    def build(ids: Ids) -> tuple[str, str, object]:
        body = {"child_id": ids.child, "partner_id": ids.partner, "preferred_format": "weekly"}
        return "POST", "/api/v1/referrals", {**body, **changes}

    return build


BAD_INPUT: list[tuple[str, BadRequest, str]] = [
    (
        "unknown field",
        _child_post({"personnummer": VALID_NUMBER, "name": "X", "admin": 1}),
        "admin",
    ),
    ("name of a wrong type", _child_post({"personnummer": VALID_NUMBER, "name": 42}), "name"),
    ("name too long", _child_post({"personnummer": VALID_NUMBER, "name": "X" * 201}), "name"),
    ("name missing", _child_post({"personnummer": VALID_NUMBER}), "name"),
    (
        "wrong check digit",
        _child_post({"personnummer": WRONG_CHECK_DIGIT, "name": "X"}),
        "personnummer",
    ),
    (
        "number too long",
        _child_post({"personnummer": VALID_NUMBER + "99", "name": "X"}),
        "personnummer",
    ),
    (
        "number of a wrong type",
        _child_post({"personnummer": 201601021234, "name": "X"}),
        "personnummer",
    ),
    (
        "look-up of an invalid number",
        lambda ids: ("POST", "/api/v1/children/lookup", {"personnummer": WRONG_CHECK_DIGIT}),
        "personnummer",
    ),
    ("unknown gender", _on_child("PUT", "details", {"gender": "unknown"}), "gender"),
    (
        "over-long family home phone",
        _on_child("PUT", "details", {"family_home_phone": "0" * 201}),
        "family_home_phone",
    ),
    (
        "over-long municipality",
        _on_child("PUT", "details", {"paying_municipality": "M" * 101}),
        "paying_municipality",
    ),
    ("unknown placement basis", _on_child("PUT", "placement", {"basis": "HVB"}), "basis"),
    ("LVU without its decision", _on_child("PUT", "placement", {"basis": "LVU"}), "lvu_decision"),
    (
        "over-long LVU decision",
        _on_child(
            "PUT", "placement", {"basis": "LVU", "lvu_decision": "x" * 201, "lvu_decided_by": "SN"}
        ),
        "lvu_decision",
    ),
    (
        "custody that is not a boolean",
        _on_child("POST", "guardians", {"name": "G", "has_custody": "maybe"}),
        "has_custody",
    ),
    (
        "over-long guardian contact",
        _on_child("POST", "guardians", {"name": "G", "contact": "7" * 201, "has_custody": True}),
        "contact",
    ),
    (
        "guardian field unknown",
        _on_child(
            "POST", "guardians", {"name": "G", "has_custody": True, "personnummer": VALID_NUMBER}
        ),
        "personnummer",
    ),
    ("unknown guardian", _consent_with(party="00000000-0000-4000-8000-000000000000"), "party"),
    (
        "unknown category",
        _consent_with(categories=["name", "shoe_size"]),
        "categories",
    ),
    (
        "end before decision",
        _consent_with(valid_until="2020-01-01"),  # before any decision made today
        "valid_until",
    ),
    ("date that is not a date", _consent_with(decided_on="yesterday"), "decided_on"),
    ("unknown decision", _consent_with(decision="maybe"), "decision"),
    (
        "unpublished description",
        _consent_with(description_version="Z-9"),
        "description_version",
    ),
    ("unknown format", _referral_with(preferred_format="daily"), "preferred_format"),
    ("over-long notes", _referral_with(notes="n" * 2001), "notes"),
    (
        "a district is not a partner",
        lambda ids: _referral_with(partner_id=ids.district)(ids),
        "partner_id",
    ),
]


# One world for all the cases (a login is slow); each case is its own subtest.
def test_bad_input_is_a_422_problem_naming_the_field_and_writes_nothing(
    world: World, subtests: pytest.Subtests
) -> None:
    child_id = world.register(personnummer=invented_personnummer(2014, 2, 2))
    referral_id = world.refer(child_id)
    ids = Ids(child_id, referral_id, world.partner.id, world.district.id)
    for name, build, field in BAD_INPUT:
        with subtests.test(name):
            method, path, body = build(ids)
            before = _counts(world.app)

            response = world.worker.send(method, path, body)
            _assert_problem(response, 422, field)
            text = response.get_data(as_text=True)
            assert VALID_NUMBER not in text and WRONG_CHECK_DIGIT not in text
            assert VALID_NUMBER[2:] not in text and WRONG_CHECK_DIGIT[2:] not in text
            assert _counts(world.app) == before


@pytest.mark.asvs("V2.3.1")
def test_an_illegal_transition_is_a_409_naming_the_rule_and_changes_nothing(
    world: World,
) -> None:
    child_id = world.register()
    referral_id = world.refer(child_id)
    cancelled = world.worker.post(f"/api/v1/referrals/{referral_id}/withdraw")
    assert cancelled.get_json()["status"] == "cancelled"
    before = _counts(world.app)

    problem = _assert_problem(world.submit(referral_id), 409, "status")
    assert "cancelled" in problem["detail"]
    assert _counts(world.app) == before


def test_accepting_twice_is_a_409_and_the_referral_stays_accepted(world: World) -> None:
    _child_id, referral_id = world.lvu_referral()
    assert world.leader.post(f"/api/v1/partner/referrals/{referral_id}/accept").status_code == 200
    before = _counts(world.app)

    again = world.leader.post(f"/api/v1/partner/referrals/{referral_id}/accept")
    _assert_problem(again, 409, "status")
    assert _counts(world.app) == before
    assert [item["status"] for item in world.inbox()] == ["accepted"]


# --- Access ----------------------------------------------------------------------------------

SOCIAL_WORKER_ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/v1/children"),
    ("POST", "/api/v1/children"),
    ("POST", "/api/v1/children/lookup"),
    ("GET", "/api/v1/children/{child}"),
    ("PUT", "/api/v1/children/{child}/details"),
    ("PUT", "/api/v1/children/{child}/placement"),
    ("POST", "/api/v1/children/{child}/guardians"),
    ("POST", "/api/v1/children/{child}/consents"),
    ("GET", "/api/v1/referrals"),
    ("POST", "/api/v1/referrals"),
    ("GET", "/api/v1/referrals/{referral}"),
    ("POST", "/api/v1/referrals/{referral}/submit"),
    ("POST", "/api/v1/referrals/{referral}/withdraw"),
]


@pytest.mark.asvs("V8.2.1", "V8.3.1")
def test_a_group_leader_is_refused_every_social_worker_endpoint(
    world: World, subtests: pytest.Subtests
) -> None:
    child_id, referral_id = world.lvu_referral()
    leader = world.leader  # logged in before the log is counted
    for method, template in SOCIAL_WORKER_ROUTES:
        with subtests.test(f"{method} {template}"):
            path = template.format(child=child_id, referral=referral_id)
            before, since = _counts(world.app), _last_sequence(world.app)

            response = leader.send(method, path, {})
            assert response.status_code == 403
            assert response.mimetype == "application/problem+json"
            assert CHILD_NAME not in response.get_data(as_text=True)
            assert _actions_since(world.app, since) == ["access:denied"]  # the refusal only
            assert _without_log(_counts(world.app)) == _without_log(before)


def _without_log(counts: dict[str, int]) -> dict[str, int]:
    return {model: n for model, n in counts.items() if model != "AuditEntry"}


PARTNER_ROUTES = [
    ("GET", "/api/v1/partner/referrals"),
    ("POST", "/api/v1/partner/referrals/{referral}/accept"),
    ("POST", "/api/v1/partner/referrals/{referral}/decline"),
]


@pytest.mark.asvs("V8.2.1", "V8.3.1")
def test_a_social_worker_is_refused_the_partner_endpoints(
    world: World, subtests: pytest.Subtests
) -> None:
    _child_id, referral_id = world.lvu_referral()
    for method, template in PARTNER_ROUTES:
        with subtests.test(f"{method} {template}"):
            response = world.worker.send(method, template.format(referral=referral_id), None)
            assert response.status_code == 403
    assert [item["status"] for item in world.inbox()] == ["shared"]  # not answered


OBJECT_ROUTES = [(m, t) for m, t in SOCIAL_WORKER_ROUTES if "{" in t]


def _valid_bodies() -> dict[str, object]:
    """A well-formed body for each kind of write, its dates those of the day the test runs."""
    return {
        "details": {
            "gender": "boy",
            "family_home_name": None,
            "family_home_address": None,
            "family_home_phone": None,
            "paying_municipality": None,
            "child_views": None,
        },
        "placement": {"basis": "SoL"},
        "guardians": {"name": "Främling", "has_custody": True},
        "consents": _consent("child"),
    }


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_another_districts_social_worker_gets_404_for_the_child_and_the_referral(
    world: World, factory: Factory, subtests: pytest.Subtests
) -> None:
    child_id, referral_id = world.lvu_referral()
    stranger = api_client(world.app, factory.account("social_worker"))
    bodies = _valid_bodies()
    for method, template in OBJECT_ROUTES:
        with subtests.test(f"{method} {template}"):
            path = template.format(child=child_id, referral=referral_id)
            body = next((b for key, b in bodies.items() if path.endswith(key)), None)
            before, since = _counts(world.app), _last_sequence(world.app)

            _assert_not_found(stranger.send(method, path, body))
            assert _actions_since(world.app, since) == ["access:denied"]  # the refusal only
            assert _without_log(_counts(world.app)) == _without_log(before)
    # The refusals changed nothing the district sees.
    assert world.worker.get(f"/api/v1/referrals/{referral_id}").get_json()["status"] == "shared"


def test_another_districts_social_worker_cannot_refer_the_child_or_list_it(
    world: World, factory: Factory
) -> None:
    child_id, _referral_id = world.lvu_referral()
    stranger = api_client(world.app, factory.account("social_worker"))
    body = {"child_id": child_id, "partner_id": world.partner.id, "preferred_format": "weekly"}

    _assert_not_found(stranger.post("/api/v1/referrals", body))
    assert stranger.get("/api/v1/referrals").get_json() == []
    assert stranger.get("/api/v1/children").get_json() == []


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_another_partner_never_sees_the_referral_and_gets_404_on_answering(
    world: World, factory: Factory
) -> None:
    _child_id, referral_id = world.lvu_referral()
    other = api_client(world.app, factory.account("group_leader"))

    assert other.get("/api/v1/partner/referrals").get_json() == []
    _assert_not_found(other.post(f"/api/v1/partner/referrals/{referral_id}/accept"))


# --- The OpenAPI document --------------------------------------------------------------------


def test_the_openapi_document_describes_the_programme_endpoints(world: World) -> None:
    paths = world.worker.get("/api/v1/openapi.json").get_json()["paths"]
    expected = {
        "/api/v1/children": {"get", "post"},
        "/api/v1/children/lookup": {"post"},
        "/api/v1/children/{child_id}": {"get"},
        "/api/v1/children/{child_id}/details": {"put"},
        "/api/v1/children/{child_id}/placement": {"put"},
        "/api/v1/children/{child_id}/guardians": {"post"},
        "/api/v1/children/{child_id}/consents": {"post"},
        "/api/v1/referrals": {"get", "post"},
        "/api/v1/referrals/{referral_id}": {"get"},
        "/api/v1/referrals/{referral_id}/submit": {"post"},
        "/api/v1/referrals/{referral_id}/withdraw": {"post"},
        "/api/v1/partner/referrals": {"get"},
        "/api/v1/partner/referrals/{referral_id}/accept": {"post"},
        "/api/v1/partner/referrals/{referral_id}/decline": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))


def test_under_lvu_the_social_worker_decides_over_the_api_what_the_partner_sees(
    world: World,
) -> None:
    child_id = world.register("Lvu Apisson")
    placed = world.worker.put(
        f"/api/v1/children/{child_id}/placement",
        {
            "basis": "LVU",
            "lvu_decision": "Beslut 5/2026",
            "lvu_decided_by": "Farsta SDN",
            "lvu_decided_on": "2026-01-15",
        },
    )
    assert placed.status_code == 200
    assert placed.get_json()["lvu_shared"] == ["name", "age"]  # the default decision
    details = dict.fromkeys(_valid_bodies()["details"], None)  # type: ignore[arg-type]
    details["family_home_phone"] = "08-000 00 09"
    saved = world.worker.put(f"/api/v1/children/{child_id}/details", details)
    assert saved.status_code == 200, saved.get_json()
    referral_id = world.refer(child_id)
    world.submit(referral_id)
    assert [set(item) for item in world.inbox()] == [PARTNER_KEYS]  # no contact, no basis

    widened = world.worker.put(
        f"/api/v1/children/{child_id}/lvu-sharing", {"shared": ["name", "age", "contact_details"]}
    )
    assert widened.status_code == 200
    assert widened.get_json()["lvu_shared"] == ["name", "age", "contact_details"]
    [item] = world.inbox()
    assert item["family_home_phone"] == "08-000 00 09" and "legal_basis" not in item

    record = world.worker.get(f"/api/v1/children/{child_id}").get_json()
    assert {s["category"]: s["shared"] for s in record["lvu_sharing"]} == {
        "name": True,
        "age": True,
        "contact_details": True,
        "participation": False,
    }

    narrowed = world.worker.put(f"/api/v1/children/{child_id}/lvu-sharing", {"shared": []})
    assert narrowed.status_code == 200
    assert world.inbox() == []


def test_lvu_sharing_decisions_refuse_bad_input_and_an_sol_child(world: World) -> None:
    child_id = world.register("Sol Apisson")
    world.place(child_id, "SoL")
    unknown = world.worker.put(
        f"/api/v1/children/{child_id}/lvu-sharing", {"shared": ["shoe_size"]}
    )
    assert unknown.status_code == 422 and "shared" in unknown.get_json()["errors"]
    # The refused item is named by its place, in a flat list of messages as documented.
    [message] = unknown.get_json()["errors"]["shared"]
    assert message.startswith("0: ") and "participation" in message
    assert unknown.get_json()["detail"] == f"shared: {message}"
    missing = world.worker.put(f"/api/v1/children/{child_id}/lvu-sharing", {})
    assert missing.status_code == 422 and "shared" in missing.get_json()["errors"]
    sol = world.worker.put(f"/api/v1/children/{child_id}/lvu-sharing", {"shared": ["name"]})
    assert sol.status_code == 409 and "basis" in sol.get_json()["errors"]
