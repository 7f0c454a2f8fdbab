"""Concern reports over HTTP, as the least trusted reader would see them: a group leader files
on an SoL child whose guardians have not consented, by API and by the web form; the district
sees it first on its start page, opens, acknowledges and prints it; the leader is told
"acknowledged" and nothing else, and still cannot open the child. Bad input is a 4xx naming
the field and writes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.db.audit_log import AuditEntry
from referral.db.concern import ConcernReport
from referral.db.models import Organisation
from referral.request_scope import request_session
from tests.factories import (
    ApiClient,
    Factory,
    api_client,
    csrf_token,
    invented_personnummer,
    log_in,
)

CHILD_NAME = "Orosbarn Qwyxte"
CANARY = "Kanarieoro Zbvtrq blåmärken"
PERSONNUMMER = invented_personnummer(2015, 9, 3)


@dataclass
class World:
    app: Flask
    factory: Factory
    district: Organisation
    partner: Organisation
    socialjouren: Organisation
    worker: ApiClient
    child_id: str
    referral_id: str

    @cached_property
    def leader(self) -> ApiClient:
        return api_client(self.app, self.factory.account("group_leader", self.partner))

    @cached_property
    def on_duty(self) -> ApiClient:
        return api_client(self.app, self.factory.account("social_emergency", self.socialjouren))

    def count(self) -> int:
        with self.app.app_context():
            return int(
                request_session().scalar(select(func.count()).select_from(ConcernReport)) or 0
            )


def _mark_social_emergency_service(app: Flask, organisation: Organisation) -> None:
    with app.app_context():
        session = request_session()
        row = session.get(Organisation, organisation.id)
        assert row is not None
        row.social_emergency_service = True
        session.commit()


@pytest.fixture
def world(app: Flask, factory: Factory) -> World:
    district = factory.organisation("district", name="Orosdistrikt stadsdelsförvaltning")
    partner = factory.organisation("partner", name="Bris orosregion")
    socialjouren = factory.organisation("city", name="Socialjouren orostest")
    _mark_social_emergency_service(app, socialjouren)
    factory.activity_description("A-2027:oro", partner)
    worker = api_client(app, factory.account("social_worker", district))
    made = worker.post("/api/v1/children", {"personnummer": PERSONNUMMER, "name": CHILD_NAME})
    child_id = made.get_json()["id"]
    assert worker.put(f"/api/v1/children/{child_id}/placement", {"basis": "SoL"}).status_code == 200
    guardian = {"name": "Vårdnadshavare Oro", "contact": "070-1", "has_custody": True}
    assert worker.post(f"/api/v1/children/{child_id}/guardians", guardian).status_code == 201
    referral = worker.post(
        "/api/v1/referrals",
        {"child_id": child_id, "partner_id": partner.id, "preferred_format": "weekly"},
    )
    referral_id = referral.get_json()["id"]
    submitted = worker.post(f"/api/v1/referrals/{referral_id}/submit")
    assert submitted.get_json()["status"] == "awaiting_consent"
    return World(app, factory, district, partner, socialjouren, worker, child_id, referral_id)


def _report(**changes: Any) -> dict[str, Any]:
    return {"what_happened": CANARY, "reporter_contact": "070-999 88 77", **changes}


def test_a_partner_files_by_api_on_a_child_without_consent_and_learns_only_the_receipt(
    world: World,
) -> None:
    filed = world.leader.post("/api/v1/concern-reports", _report(referral_id=world.referral_id))
    assert filed.status_code == 201, filed.get_json()
    receipt = filed.get_json()
    assert set(receipt) == {
        "report_id",
        "reference",
        "filed_at",
        "filed_by",
        "acknowledged",
        "acknowledged_at",
    }
    assert not receipt["acknowledged"]

    (line,) = world.worker.get("/api/v1/concern-reports/received").get_json()
    assert (line["report_id"], line["status"], line["child_id"]) == (
        receipt["report_id"],
        "open",
        world.child_id,
    )
    report = world.worker.get(f"/api/v1/concern-reports/{receipt['report_id']}").get_json()
    assert report["what_happened"] == CANARY
    acknowledged = world.worker.post(
        f"/api/v1/concern-reports/{receipt['report_id']}/acknowledge",
        {"case_reference": "Dnr 2027-77"},
    )
    assert acknowledged.status_code == 200
    again = world.worker.post(f"/api/v1/concern-reports/{receipt['report_id']}/acknowledge", {})
    assert again.status_code == 409

    (mine,) = world.leader.get("/api/v1/concern-reports").get_json()
    assert mine["acknowledged"] and mine["acknowledged_at"]
    assert "Dnr" not in str(mine) and world.district.name not in str(mine)
    # Reporting opened nothing: not the child, not the referral, not the report.
    assert world.leader.get(f"/api/v1/children/{world.child_id}").status_code in {403, 404}
    assert (
        world.leader.post(f"/api/v1/partner/referrals/{world.referral_id}/accept").status_code
        == 404
    )
    assert world.leader.get("/api/v1/partner/referrals").get_json() == []
    assert world.leader.get(f"/api/v1/concern-reports/{receipt['report_id']}").status_code == 403

    with world.app.app_context():
        bases = set(
            request_session().scalars(
                select(AuditEntry.legal_basis).where(AuditEntry.object_id == receipt["report_id"])
            )
        )
    assert bases == {"concern_report"}


def test_with_no_district_known_socialjouren_receives_it(world: World) -> None:
    filed = world.leader.post(
        "/api/v1/concern-reports",
        _report(subject_name="Sami (alias)", approximate_age="ca 12", place="Centralstationen"),
    )
    assert filed.status_code == 201
    assert world.worker.get("/api/v1/concern-reports/received").get_json() == []
    (line,) = world.on_duty.get("/api/v1/concern-reports/received").get_json()
    assert line["subject_kind"] == "described"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (_report(what_happened="", subject_name="Kim"), 422, "what_happened"),
        ({"reporter_contact": "070", "subject_name": "Kim"}, 422, "what_happened"),
        (_report(reporter_contact="  ", subject_name="Kim"), 422, "reporter_contact"),
        (_report(), 422, "subject_name"),
        (_report(child_id="0" * 36), 404, "child_id"),
        (_report(referral_id="0" * 36), 404, "referral_id"),
        (_report(personnummer="12345"), 422, "personnummer"),
        (_report(subject_name="Kim\x00"), 422, "subject_name"),
        (_report(subject_name="Kim", colour="red"), 422, "colour"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    world: World, body: dict[str, Any], status: int, field: str
) -> None:
    answer = world.leader.post("/api/v1/concern-reports", body)
    assert answer.status_code == status, answer.get_json()
    assert field in answer.get_data(as_text=True)
    assert world.count() == 0


def test_a_partner_cannot_name_a_child_it_was_never_sent(world: World) -> None:
    other = world.factory.organisation("partner")
    stranger = api_client(world.app, world.factory.account("group_leader", other))
    by_referral = stranger.post("/api/v1/concern-reports", _report(referral_id=world.referral_id))
    by_child = stranger.post("/api/v1/concern-reports", _report(child_id=world.child_id))
    assert (by_referral.status_code, by_child.status_code) == (404, 404)
    assert world.count() == 0


# --- the web pages ------------------------------------------------------------------------


def _browser(app: Flask, account: Any) -> FlaskClient:
    client = app.test_client()
    log_in(client, account)
    return client


def _post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def test_the_web_form_files_from_the_blank_form_the_district_acknowledges_and_prints(
    world: World,
) -> None:
    leader = _browser(world.app, world.factory.account("group_leader", world.partner))
    form = leader.get("/concern-reports/new").get_data(as_text=True)
    assert "Orosanmälan" in form
    answer = _post(
        leader,
        "/concern-reports",
        {"personnummer": PERSONNUMMER, "what_happened": CANARY, "reporter_contact": "070-1"},
    )
    assert answer.status_code == 302
    filed_page = leader.get("/concern-reports/filed").get_data(as_text=True)
    assert "Ännu inte kvitterad" in filed_page or "inte kvitterad" in filed_page
    (report_id,) = re.findall(r'data-report="([0-9a-f-]{36})"', filed_page)

    social_worker = _browser(world.app, world.factory.account("social_worker", world.district))
    start = social_worker.get("/").get_data(as_text=True)
    assert f'data-report="{report_id}"' in start and "Ny" in start
    page = social_worker.get(f"/concern-reports/{report_id}").get_data(as_text=True)
    assert CANARY in page and PERSONNUMMER in page
    child_page = social_worker.get(f"/children/{world.child_id}").get_data(as_text=True)
    assert 'data-concern="open"' in child_page
    printed = social_worker.get(f"/concern-reports/{report_id}/print")
    assert printed.status_code == 200 and "Sekretess" in printed.get_data(as_text=True)
    acknowledged = _post(social_worker, f"/concern-reports/{report_id}/acknowledge", {})
    assert acknowledged.status_code == 302
    assert 'data-acknowledged="yes"' in leader.get("/concern-reports/filed").get_data(as_text=True)
    # The partner's pages never show the receiver, the child or the concern flag.
    for path in ("/concern-reports/filed", "/referrals", "/"):
        shown = leader.get(path).get_data(as_text=True)
        assert CHILD_NAME not in shown and world.district.name not in shown
        assert PERSONNUMMER not in shown and CANARY not in shown


def test_a_refused_form_keeps_what_was_typed_except_the_personnummer(world: World) -> None:
    leader = _browser(world.app, world.factory.account("group_leader", world.partner))
    answer = _post(
        leader,
        "/concern-reports",
        {"personnummer": PERSONNUMMER, "what_happened": CANARY, "reporter_contact": ""},
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert CANARY in page and PERSONNUMMER not in page
    assert world.count() == 0


def test_the_dpo_lists_who_filed_and_who_read_without_the_content(world: World) -> None:
    filed = world.leader.post("/api/v1/concern-reports", _report(referral_id=world.referral_id))
    report_id = filed.get_json()["report_id"]
    world.worker.get(f"/api/v1/concern-reports/{report_id}")
    dpo = api_client(world.app, world.factory.account("dpo", world.socialjouren))
    (trail,) = dpo.get("/api/v1/audit/concern-reports").get_json()
    assert [entry["action"] for entry in trail["entries"]] == [
        "concern_report:file",
        "concern_report:route",
        "concern_report:read",
    ]
    assert CANARY not in str(trail)
    assert dpo.get(f"/api/v1/concern-reports/{report_id}").status_code == 403


def test_the_districts_lists_flag_the_child_and_filter_by_the_flag(world: World) -> None:
    other = world.worker.post(
        "/api/v1/children",
        {"personnummer": invented_personnummer(2014, 3, 3), "name": "Lugn Qwyxte"},
    ).get_json()["id"]
    before = world.worker.get("/api/v1/children?concern=true")
    assert before.status_code == 200 and before.get_json() == []
    world.leader.post("/api/v1/concern-reports", _report(referral_id=world.referral_id))

    listed = {c["id"]: c["concern"] for c in world.worker.get("/api/v1/children").get_json()}
    assert listed == {world.child_id: True, other: False}
    flagged = world.worker.get("/api/v1/children?concern=true").get_json()
    assert [child["id"] for child in flagged] == [world.child_id]
    referrals = world.worker.get("/api/v1/referrals?concern=true").get_json()
    assert [(r["id"], r["concern"]) for r in referrals] == [(world.referral_id, True)]
    assert world.worker.get("/api/v1/children?concern=perhaps").status_code == 422

    page = _browser(world.app, world.factory.account("social_worker", world.district))
    only = page.get("/children?concern=1").get_data(as_text=True)
    assert CHILD_NAME in only and "Lugn Qwyxte" not in only
    every = page.get("/children").get_data(as_text=True)
    assert CHILD_NAME in every and "Lugn Qwyxte" in every
    # The partner's answers never carry the flag.
    assert "concern" not in str(world.leader.get("/api/v1/partner/referrals").get_json())


def test_a_lone_surrogate_or_a_direction_override_is_a_422_never_a_500(world: World) -> None:
    for text in ("a\ud800b", "x\u202ey"):
        answer = world.leader.post("/api/v1/concern-reports", _report(subject_name=text))
        assert answer.status_code == 422, answer.get_data(as_text=True)
        assert "subject_name" in answer.get_data(as_text=True)
    assert world.count() == 0


def test_probing_another_partners_referral_leaves_a_trace_in_the_childs_log(world: World) -> None:
    other = world.factory.organisation("partner")
    stranger = api_client(world.app, world.factory.account("group_leader", other))
    assert (
        stranger.post("/api/v1/concern-reports", _report(referral_id=world.referral_id)).status_code
        == 404
    )
    with world.app.app_context():
        denied = list(
            request_session().scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "access:denied",
                    AuditEntry.subject_id == world.child_id,
                )
            )
        )
    assert [entry.object_type for entry in denied] == ["Referral"]


def test_a_refusal_on_a_hidden_field_is_shown_at_the_top_of_the_form(world: World) -> None:
    other = world.worker.post(
        "/api/v1/children",
        {"personnummer": invented_personnummer(2013, 8, 8), "name": "Annat Barn"},
    ).get_json()["id"]
    social_worker = _browser(world.app, world.factory.account("social_worker", world.district))
    answer = _post(
        social_worker,
        "/concern-reports",
        {
            "referral_id": world.referral_id,
            "child_id": other,
            "what_happened": CANARY,
            "reporter_contact": "070-1",
        },
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Anmälan gäller ett annat barn." in page and CANARY in page
    assert world.count() == 0
