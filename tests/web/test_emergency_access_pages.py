"""Emergency access as the social worker and the DPO use it in the browser: look the child up
city-wide (the personnummer in a POST body only), give a reason, read the record for a few
hours under a banner; the DPO sees the grant, its reason and an alert."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.db.audit_log import AuditEntry
from referral.db.base import utcnow
from referral.db.emergency import EmergencyGrant
from referral.db.people import ConsentRecord, Guardian
from referral.request_scope import request_session
from tests.factories import Account, Factory, csrf_token, invented_personnummer, log_in

CHILD_NAME = "Nödsidebarn Zyqwe"
REASON = "Pojken hittades på Centralstationen i natt och uppger att han bor i familjehemmet."


def _post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def _english(client: FlaskClient, account: Account) -> FlaskClient:
    log_in(client, account)
    client.get("/?lang=en")
    return client


def _register(client: FlaskClient, personnummer: str) -> str:
    response = _post(client, "/children", {"personnummer": personnummer, "name": CHILD_NAME})
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/children/([0-9a-f-]{36})$", response.headers["Location"])
    assert match
    return match.group(1)


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def stranger_account(factory: Factory) -> Account:
    """A social worker of a district other than the child's."""
    return factory.account("social_worker")


@pytest.fixture
def stranger(app: Flask, stranger_account: Account) -> FlaskClient:
    return _english(app.test_client(), stranger_account)


@pytest.fixture
def personnummer() -> str:
    return invented_personnummer(2013, 11, 11)


@pytest.fixture
def child_id(app: Flask, factory: Factory, personnummer: str) -> str:
    owner = _english(app.test_client(), factory.account("social_worker"))
    return _register(owner, personnummer)


def _break_glass(client: FlaskClient, child_id: str, reason: str = REASON):  # type: ignore[no-untyped-def]
    return _post(client, "/emergency/access", {"child_id": child_id, "reason": reason})


def test_a_social_worker_of_another_district_gets_not_found_and_with_a_reason_reads_the_record(
    stranger: FlaskClient, child_id: str, personnummer: str
) -> None:
    assert stranger.get(f"/children/{child_id}").status_code == 404
    children_page = stranger.get("/children").get_data(as_text=True)
    assert 'action="/emergency/find"' in children_page

    found = _post(stranger, "/emergency/find", {"emergency-personnummer": personnummer})
    page = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "Another district holds a record of this person" in page
    assert f'value="{child_id}"' in page
    assert "reported to the data-protection officer" in page
    for never_shown in (CHILD_NAME, personnummer, personnummer[2:]):
        assert never_shown not in page

    granted = _break_glass(stranger, child_id)
    assert granted.status_code == 302
    assert granted.headers["Location"].endswith(f"/children/{child_id}")
    record = stranger.get(f"/children/{child_id}")
    body = record.get_data(as_text=True)
    assert record.status_code == 200 and CHILD_NAME in body
    assert re.search(r"Emergency access until \d\d:\d\d", body)


def test_a_number_no_other_district_holds_is_answered_with_nothing_found(
    stranger: FlaskClient, child_id: str
) -> None:
    unknown = invented_personnummer(2013, 11, 12)
    response = _post(stranger, "/emergency/find", {"emergency-personnummer": unknown})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No other district holds a record of that number." in page
    assert child_id not in page and unknown not in page


def test_an_invalid_personnummer_is_refused_by_name_without_echoing_it(
    stranger: FlaskClient,
) -> None:
    typed = "19990101-1234"
    response = _post(stranger, "/emergency/find", {"emergency-personnummer": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="emergency-personnummer-error"' in page
    assert typed not in page and "1999010" not in page


@pytest.mark.parametrize("reason", ["", "akut fall"])
def test_without_a_reason_the_access_is_refused_naming_the_reason_and_nothing_is_granted(
    app: Flask, stranger: FlaskClient, child_id: str, reason: str
) -> None:
    response = _break_glass(stranger, child_id, reason)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="reason-error"' in page and "at least 10 characters" in page
    assert CHILD_NAME not in page
    assert _count(app, EmergencyGrant) == 0
    assert stranger.get(f"/children/{child_id}").status_code == 404


def test_when_the_grant_expires_the_record_answers_not_found_on_the_next_request(
    app: Flask, stranger: FlaskClient, stranger_account: Account, child_id: str
) -> None:
    assert _break_glass(stranger, child_id).status_code == 302
    assert stranger.get(f"/children/{child_id}").status_code == 200
    with app.app_context():
        db = request_session()
        for grant in db.scalars(
            select(EmergencyGrant).where(EmergencyGrant.user_id == stranger_account.user.id)
        ):
            grant.expires_at = utcnow() - timedelta(minutes=1)
        db.commit()
    assert stranger.get(f"/children/{child_id}").status_code == 404


def test_a_group_leader_cannot_break_the_glass(
    app: Flask, factory: Factory, child_id: str, personnummer: str
) -> None:
    leader = _english(app.test_client(), factory.account("group_leader"))
    assert (
        _post(leader, "/emergency/find", {"emergency-personnummer": personnummer}).status_code
        == 403
    )
    assert _break_glass(leader, child_id).status_code == 403
    assert _count(app, EmergencyGrant) == 0
    assert leader.get(f"/children/{child_id}").status_code == 403


def test_a_child_of_ones_own_district_needs_no_emergency_access(
    app: Flask, factory: Factory, personnummer: str
) -> None:
    owner = _english(app.test_client(), factory.account("social_worker"))
    own_child = _register(owner, personnummer)
    found = _post(owner, "/emergency/find", {"emergency-personnummer": personnummer}).get_data(True)
    assert "No other district holds a record of that number." in found
    assert own_child not in found
    assert _break_glass(owner, own_child).status_code == 409
    assert _count(app, EmergencyGrant) == 0


def test_every_read_under_emergency_access_is_logged_with_legal_basis_emergency_access(
    app: Flask, stranger: FlaskClient, stranger_account: Account, child_id: str
) -> None:
    _break_glass(stranger, child_id)
    stranger.get(f"/children/{child_id}")
    stranger.get(f"/children/{child_id}")
    with app.app_context():
        reads = request_session().execute(
            select(AuditEntry.legal_basis, AuditEntry.subject_id).where(
                AuditEntry.actor_id == stranger_account.user.id,
                AuditEntry.action == "child:read",
            )
        )
        assert list(reads) == [("emergency_access", child_id)] * 2


def test_a_grant_does_not_allow_changing_the_record(
    app: Flask, factory: Factory, stranger: FlaskClient, child_id: str
) -> None:
    factory.activity_description("A-2026:1")  # so that the consent form itself is valid
    _break_glass(stranger, child_id)
    before = _count(app, Guardian), _count(app, ConsentRecord)
    changes = {
        f"/children/{child_id}/placement": {"basis": "SoL"},
        f"/children/{child_id}/guardians": {"name": "Vårdnadshavare", "has_custody": "y"},
        # The whole details form, as a browser sends it (a partial one is refused as such).
        f"/children/{child_id}/details": {
            "gender": "boy",
            "family_home_name": "",
            "family_home_address": "",
            "family_home_phone": "",
            "paying_municipality": "",
            "child_views": "",
        },
        f"/children/{child_id}/consents": {
            "party": "child",
            "decision": "given",
            "categories": ["name"],
            "decided_on": "2026-01-01",
            "valid_until": "2026-12-31",
            "method": "written",
            "description_version": "A-2026:1",
        },
    }
    for path, data in changes.items():
        refused = _post(stranger, path, data)
        assert refused.status_code == 403, path  # a refusal of access, not a form error
        message = "Emergency access lets you read the child's record, and nothing more."
        assert message in html.unescape(refused.get_data(as_text=True)), path
    assert (_count(app, Guardian), _count(app, ConsentRecord)) == before
    page = stranger.get(f"/children/{child_id}").get_data(as_text=True)
    assert "Not recorded: nothing is shared until it is." in page  # no placement basis


def test_the_dpo_sees_the_grant_with_its_reason_and_an_alert(
    app: Flask, factory: Factory, stranger: FlaskClient, stranger_account: Account, child_id: str
) -> None:
    _break_glass(stranger, child_id)
    dpo = _english(app.test_client(), factory.account("dpo"))

    alerts = dpo.get("/dpo/alerts").get_data(as_text=True)
    assert 'data-alert="emergency_access"' in alerts
    assert stranger_account.username in alerts and child_id in alerts
    assert 'href="/dpo/emergency-access"' in alerts

    review = dpo.get("/dpo/emergency-access")
    page = review.get_data(as_text=True)
    assert review.status_code == 200
    row = re.search(r'<tr id="grant-[^"]+".*?</tr>', page, re.DOTALL)
    assert row, "the grant is listed"
    for shown in (stranger_account.username, child_id, REASON, "still open"):
        assert shown in row.group(0)
    assert CHILD_NAME not in page


def test_only_the_dpo_reaches_the_list_of_emergency_grants(
    factory: Factory, stranger: FlaskClient, app: Flask
) -> None:
    assert stranger.get("/dpo/emergency-access").status_code == 403
    admin = _english(app.test_client(), factory.account("admin"))
    assert admin.get("/dpo/emergency-access").status_code == 403
