"""My sessions ("Mina inloggningar"): a person sees the sessions of their account that are still
open and ends the others (OWASP ASVS 5.0 V7.5.2); an administrator ends every session of one
account (V7.4.5)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from audit.record import current_head
from referral.auth.sessions import open_session
from referral.db.audit_log import AuditEntry
from referral.db.base import utcnow
from referral.db.models import AuthSession, User
from referral.request_scope import request_session
from tests.conftest import FrozenClock
from tests.factories import Account, Factory, csrf_token, log_in

PAGE = "/account/sessions"
ROW = re.compile(r'<tr data-session="([0-9a-f]{32})"( data-current)?')


def signed_in_elsewhere(factory: Factory, account: Account) -> tuple[FlaskClient, str]:
    """Another client of the same person (the phone beside the desk), fully signed in: a
    session opened as the login opens one, its token in that client's cookie as the login
    puts it there. (Signing in twice through the pages would wait for a second TOTP step.)
    Returns the client and its token."""
    other = factory.app.test_client()
    with factory.app.app_context():
        db = request_session()
        user = db.get(User, account.user.id)
        assert user is not None
        token = open_session(db, user, mfa_verified=True)
        db.commit()
    with other.session_transaction() as cookie:
        cookie["_user_id"] = token
    assert other.get("/").status_code == 200, "the other client is signed in"
    return other, token


def listed(client: FlaskClient) -> tuple[list[str], str | None]:
    """The handles of the sessions the page lists, and the one marked as this session."""
    page = client.get(PAGE)
    assert page.status_code == 200
    rows = ROW.findall(page.get_data(as_text=True))
    current = [handle for handle, mark in rows if mark]
    assert len(current) <= 1
    return [handle for handle, _mark in rows], current[0] if current else None


def end(client: FlaskClient, handle: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"{PAGE}/end", data={"session": handle, "csrf_token": csrf_token(client, PAGE)}
    )


def signed_out(client: FlaskClient) -> bool:
    response = client.get("/")
    return response.status_code == 302 and "/login" in response.location


def head(factory: Factory) -> int:
    with factory.app.app_context():
        return current_head(request_session())[0]


def entries_since(factory: Factory, start: int) -> list[AuditEntry]:
    with factory.app.app_context():
        db = request_session()
        entries = list(
            db.scalars(select(AuditEntry).where(AuditEntry.sequence > start).order_by("sequence"))
        )
        db.expunge_all()
        return entries


def session_count(factory: Factory, account: Account) -> int:
    with factory.app.app_context():
        rows = request_session().scalars(
            select(AuthSession).where(AuthSession.user_id == account.user.id)
        )
        return len(list(rows))


@pytest.mark.asvs("V7.5.2", "V7.4.1")
def test_signed_in_on_two_clients_a_person_sees_both_and_ends_the_other(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    phone, phone_token = signed_in_elsewhere(factory, account)
    handles, current = listed(client)
    assert len(handles) == 2 and current is not None
    (other,) = [handle for handle in handles if handle != current]
    start = head(factory)

    response = end(client, other)

    assert response.status_code == 302 and response.location.endswith(PAGE)
    assert "Inloggningen är avslutad" in client.get(PAGE).get_data(as_text=True)
    assert signed_out(phone), "the phone is signed out at its next request"
    assert client.get("/").status_code == 200, "the desk's session goes on"
    assert listed(client) == ([current], current)
    (entry,) = [e for e in entries_since(factory, start) if e.action == "auth:session_ended"]
    assert (entry.actor_name, entry.object_type, entry.object_id) == (
        account.username,
        "user",
        account.user.id,
    )
    # The page and the log name the session by neither its token nor its stored hash.
    stored_hash = hashlib.sha256(phone_token.encode()).hexdigest()
    assert phone_token not in other and stored_hash not in other and other not in stored_hash
    written = " ".join(str(value) for value in vars(entry).values())
    assert phone_token not in written and stored_hash not in written


@pytest.mark.asvs("V7.5.2")
def test_ending_all_other_sessions_signs_out_every_other_client_and_logs_each(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    phone, _token = signed_in_elsewhere(factory, account)
    laptop, _token = signed_in_elsewhere(factory, account)
    start = head(factory)

    response = client.post(f"{PAGE}/end-others", data={"csrf_token": csrf_token(client, PAGE)})

    assert response.status_code == 302
    assert "2 andra inloggningar är avslutade" in client.get(PAGE).get_data(as_text=True)
    assert signed_out(phone) and signed_out(laptop)
    assert client.get("/").status_code == 200
    ended = [e for e in entries_since(factory, start) if e.action == "auth:session_ended"]
    assert [e.object_id for e in ended] == [account.user.id, account.user.id]


@pytest.mark.asvs("V7.5.2")
def test_a_session_of_another_account_cannot_be_ended_and_nothing_changes(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    colleague = factory.account()
    colleagues_desk, _token = signed_in_elsewhere(factory, colleague)
    colleagues_phone, _token = signed_in_elsewhere(factory, colleague)
    # The colleague's own page shows their sessions' handles: copied into this person's form.
    colleagues_handles, _current = listed(colleagues_desk)
    start = head(factory)

    for crafted in [*colleagues_handles, secrets.token_hex(16)]:
        response = end(client, crafted)
        assert response.status_code == 404, crafted
        assert "Inloggningen finns inte" in response.get_data(as_text=True)

    assert not signed_out(colleagues_desk) and not signed_out(colleagues_phone)
    assert session_count(factory, colleague) == 2
    assert not [e for e in entries_since(factory, start) if e.action == "auth:session_ended"]


def test_a_form_that_names_no_session_or_the_one_in_use_is_refused_naming_the_field(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    _handles, current = listed(client)
    assert current is not None

    not_a_handle = end(client, "../" + current)
    assert not_a_handle.status_code == 422
    assert "Inloggning att avsluta" in not_a_handle.get_data(as_text=True)
    this_one = end(client, current)
    assert this_one.status_code == 422
    assert "logga ut för att avsluta den" in this_one.get_data(as_text=True)
    assert client.get("/").status_code == 200


@pytest.mark.asvs("V7.5.2", "V7.3.1", "V7.3.2")
def test_sessions_past_either_time_limit_are_not_listed_and_cannot_be_ended(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    _phone, idle_token = signed_in_elsewhere(factory, account)
    _laptop, old_token = signed_in_elsewhere(factory, account)
    handles, current = listed(client)
    assert len(handles) == 3
    with factory.app.app_context():
        db = request_session()
        idle = db.get(AuthSession, hashlib.sha256(idle_token.encode()).hexdigest())
        old = db.get(AuthSession, hashlib.sha256(old_token.encode()).hexdigest())
        assert idle is not None and old is not None
        idle.last_seen_at = utcnow() - timedelta(minutes=16)
        old.created_at = utcnow() - timedelta(hours=8, minutes=1)
        db.commit()

    assert listed(client) == ([current], current)
    for gone in set(handles) - {current}:
        assert end(client, gone).status_code == 404


def test_times_are_shown_as_a_clock_in_stockholm_shows_them(
    client: FlaskClient, factory: Factory, frozen_clock: FrozenClock
) -> None:
    account = factory.account()
    log_in(client, account)  # 22:59:30 UTC on 1 March 2027: 23:59 in Stockholm
    frozen_clock.move(minutes=5)
    page = client.get(PAGE).get_data(as_text=True)
    assert "<td>2027-03-01 23:59</td>" in page  # started
    assert "<td>2027-03-02 00:04</td>" in page  # last active: this request


def test_the_page_is_in_swedish_and_linked_beside_the_name_on_every_page(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account("group_leader")
    log_in(client, account)
    start_page = client.get("/").get_data(as_text=True)
    assert f'<a class="my-sessions" href="{PAGE}">Mina inloggningar</a>' in start_page
    page = client.get(PAGE).get_data(as_text=True)
    assert "<h1" in page and "Mina inloggningar</h1>" in page
    assert "Den här inloggningen" in page


@pytest.mark.asvs("V7.4.5", "V16.3.1")
def test_an_administrator_ends_every_session_of_one_account_which_stays_open(
    client: FlaskClient, factory: Factory
) -> None:
    worker = factory.account()
    desk, _token = signed_in_elsewhere(factory, worker)
    phone, _token = signed_in_elsewhere(factory, worker)
    bystander = factory.account()
    bystanders_desk, _token = signed_in_elsewhere(factory, bystander)
    admin = factory.account("admin")
    log_in(client, admin)
    users_page = client.get("/admin/users").get_data(as_text=True)
    assert "Avsluta alla inloggningar" in users_page
    start = head(factory)

    response = client.post(
        f"/admin/users/{worker.user.id}/end-sessions",
        data={"csrf_token": csrf_token(client, "/admin/users")},
    )

    assert response.status_code == 302
    assert signed_out(desk) and signed_out(phone)
    assert not signed_out(bystanders_desk), "only that account's sessions end"
    assert worker.reload().active, "the account itself stays open"
    again, _token = signed_in_elsewhere(factory, worker)
    assert not signed_out(again)
    (entry,) = [e for e in entries_since(factory, start) if e.action == "user:end_sessions"]
    assert (entry.actor_name, entry.object_id) == (admin.username, worker.user.id)


@pytest.mark.asvs("V7.4.5", "V8.2.1")
def test_no_one_but_an_administrator_may_end_another_accounts_sessions(
    client: FlaskClient, factory: Factory
) -> None:
    colleague = factory.account()
    colleagues_desk, _token = signed_in_elsewhere(factory, colleague)
    worker = factory.account()
    log_in(client, worker)

    response = client.post(
        f"/admin/users/{colleague.user.id}/end-sessions",
        data={"csrf_token": csrf_token(client, "/")},
    )

    assert response.status_code == 403
    assert not signed_out(colleagues_desk)
    assert session_count(factory, colleague) == 1
