"""Complaints and suggestions over HTTP: the public form opens without logging in, in Swedish,
says that anonymity is fine, refuses an empty text beside the text field, thanks the sender
without repeating what they wrote, silently drops what a bot puts through the hidden field,
and stops an address after a few sendings an hour. Staff see their programme's list, open one
and record the response; a group leader cannot open programme C's feedback."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral import clock
from referral.db.complaints import Complaint
from referral.request_scope import request_session
from tests.factories import Account, Factory, csrf_token, log_in

TEXT = "Det var kallt i lokalen på torsdagen."


def _form(**changes: str) -> dict[str, str]:
    return {
        "programme": "C",
        "kind": "complaint",
        "category": "premises",
        "text": TEXT,
        "contact": "",
        "website": "",
        **changes,
    }


def _send(client: FlaskClient, **changes: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/synpunkter")
    return client.post("/synpunkter", data={**_form(**changes), "csrf_token": token})


def _stored(app: Flask) -> list[Complaint]:
    with app.app_context():
        return list(request_session().scalars(select(Complaint)))


def _count(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(Complaint)) or 0)


def _staff(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    client.get("/login?lang=en")  # English remembered: the assertions read English words
    log_in(client, account)
    return client


def test_the_public_form_opens_without_login_in_swedish_and_says_anonymous_is_fine(
    client: FlaskClient,
) -> None:
    page = client.get("/synpunkter")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "Synpunkter och klagomål" in html
    assert "anonym" in html
    assert 'name="csrf_token"' in html
    assert "Nattplatser" in html  # the programmes in plain words
    english = client.get("/synpunkter?lang=en").get_data(as_text=True)
    assert "Feedback and complaints" in english


def test_feedback_sent_through_the_form_is_kept_and_the_receipt_does_not_repeat_it(
    app: Flask, client: FlaskClient
) -> None:
    sent = _send(client, contact="Anna, 070-111 22 33")
    assert sent.status_code == 302 and sent.location.endswith("/synpunkter/tack")
    assert TEXT not in sent.location
    receipt = client.get("/synpunkter/tack").get_data(as_text=True)
    assert "Tack" in receipt
    assert TEXT not in receipt and "070-111" not in receipt
    [stored] = _stored(app)
    assert (stored.programme, stored.kind, stored.channel) == ("C", "complaint", "public_form")
    assert stored.recorded_by is None


def test_an_empty_text_is_refused_beside_the_text_field_and_nothing_is_kept(
    app: Flask, client: FlaskClient
) -> None:
    refused = _send(client, text="   ")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="text-error"' in html and "Skriv din synpunkt." in html
    assert _count(app) == 0


@pytest.mark.asvs("V2.4.1")
def test_what_a_bot_puts_through_the_hidden_field_is_thanked_for_and_dropped(
    app: Flask, client: FlaskClient
) -> None:
    sent = _send(client, website="http://spam.example")
    assert sent.status_code == 302 and sent.location.endswith("/synpunkter/tack")
    assert _count(app) == 0


@pytest.mark.asvs("V2.4.1")
def test_one_address_may_send_only_a_few_times_an_hour(app: Flask, client: FlaskClient) -> None:
    for _ in range(5):
        assert _send(client).status_code == 302
    assert _send(client).status_code == 429
    assert _count(app) == 5


def _accounts(factory: Factory) -> tuple[Account, Account]:
    partner = factory.organisation("partner")
    return factory.account("group_leader", partner), factory.account("night_staff", partner)


def test_staff_see_their_programmes_list_open_one_and_record_the_response(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    _send(client)
    _send(client, programme="A", category="activities", text="Mer pyssel, tack.")
    _leader, night = _accounts(factory)
    staff = _staff(app, night)
    listing = staff.get("/complaints").get_data(as_text=True)
    assert listing.count("data-complaint=") == 1 and 'data-programme="C"' in listing
    assert TEXT not in listing  # the list names no text
    [complaint] = [c for c in _stored(app) if c.programme == "C"]
    page = staff.get(f"/complaints/{complaint.id}")
    assert page.status_code == 200 and TEXT in page.get_data(as_text=True)
    token = csrf_token(staff, f"/complaints/{complaint.id}")
    bad = staff.post(
        f"/complaints/{complaint.id}/response",
        data={"outcome": "changed", "response": "Fixat.", "responded_on": "2001-01-01",
              "csrf_token": token},
    )  # fmt: skip
    assert bad.status_code == 422 and 'id="responded_on-error"' in bad.get_data(as_text=True)
    today = clock.today().isoformat()
    done = staff.post(
        f"/complaints/{complaint.id}/response",
        data={"outcome": "changed", "response": "Värmen är lagad.", "responded_on": today,
              "csrf_token": token},
    )  # fmt: skip
    assert done.status_code == 302
    answered = staff.get("/complaints?status=answered").get_data(as_text=True)
    assert 'data-status="answered"' in answered
    assert staff.get("/complaints?status=open").get_data(as_text=True).count("data-complaint=") == 0


def test_a_group_leader_cannot_see_or_open_programme_c_feedback(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    _send(client)
    [complaint] = _stored(app)
    leader, _night = _accounts(factory)
    staff = _staff(app, leader)
    assert "data-complaint=" not in staff.get("/complaints").get_data(as_text=True)
    assert staff.get(f"/complaints/{complaint.id}").status_code == 404
    token = csrf_token(staff, "/complaints")
    answer = staff.post(
        f"/complaints/{complaint.id}/response",
        data={"outcome": "noted", "response": "X", "responded_on": "2027-03-03",
              "csrf_token": token},
    )  # fmt: skip
    assert answer.status_code == 404


def test_the_start_page_links_the_list_for_those_who_read_feedback(
    app: Flask, factory: Factory
) -> None:
    leader, _night = _accounts(factory)
    assert 'href="/complaints"' in _staff(app, leader).get("/").get_data(as_text=True)
    worker = _staff(app, factory.account("social_worker"))
    assert 'href="/complaints"' not in worker.get("/").get_data(as_text=True)
