"""Logging in with password and second factor, and everything that ends a session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from referral.db.base import utcnow
from referral.db.models import AuthSession
from referral.request_scope import request_session
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import (
    Account,
    Factory,
    code_for,
    csrf_token,
    log_in,
    log_in_with_password,
    submit_code,
)


@pytest.mark.asvs("V6.3.3")
def test_a_user_with_password_and_code_reaches_the_page_for_their_role(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account("group_leader")
    response = log_in_with_password(client, account)
    assert response.status_code == 302 and response.location.endswith("/mfa")
    response = submit_code(client, account.next_code())
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert 'data-role="group_leader"' in page.get_data(as_text=True)


@pytest.mark.asvs("V6.3.3")
def test_the_password_alone_does_not_open_any_page(client: FlaskClient, factory: Factory) -> None:
    account = factory.account()
    log_in_with_password(client, account)
    response = client.get("/")
    assert response.status_code == 302 and response.location.endswith("/mfa")


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    wrong_password = log_in_with_password(client, account, password="not the password at all")
    unknown = client.post(
        "/login",
        data={
            "username": "nobody-here",
            "password": "whatever it is",
            "csrf_token": csrf_token(client),
        },
    )
    assert wrong_password.status_code == unknown.status_code == 401

    def message(body: str) -> str:
        start = body.index('class="flash')
        return body[start : body.index("</p>", start)]

    assert message(wrong_password.get_data(as_text=True)) == message(unknown.get_data(as_text=True))


@pytest.mark.asvs("V6.3.1")
def test_the_account_locks_after_five_wrong_passwords_even_for_the_right_one(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    for _ in range(5):
        assert log_in_with_password(client, account, password="wrong password!").status_code == 401
    assert log_in_with_password(client, account).status_code == 401
    assert account.reload().locked_until is not None


@pytest.mark.asvs("V6.5.1")
def test_a_code_is_refused_the_second_time_it_is_used(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    code = account.next_code()
    log_in_with_password(client, account)
    assert submit_code(client, code).status_code == 302
    other = factory.app.test_client()
    log_in_with_password(other, account)
    response = submit_code(other, code)
    assert response.status_code == 401
    assert other.get("/").location.endswith("/mfa")


def test_a_wrong_code_is_refused(client: FlaskClient, factory: Factory) -> None:
    account = factory.account()
    log_in_with_password(client, account)
    assert (
        submit_code(client, "000000" if account.next_code() != "000000" else "111111").status_code
        == 401
    )


def test_a_new_user_enrols_an_authenticator_from_a_qr_code(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account(enrolled=False)
    log_in_with_password(client, account)
    page = client.get("/mfa").get_data(as_text=True)
    assert "<svg" in page
    seed = page.split('<code class="seed">')[1].split("</code>")[0]
    assert client.get("/mfa").get_data(as_text=True).count(seed) == 1, "seed stays across reloads"
    assert submit_code(client, code_for(seed)).status_code == 302
    assert client.get("/").status_code == 200
    assert account.reload().totp_confirmed


@pytest.mark.asvs("V7.2.2", "V7.2.4")
def test_logging_in_issues_a_fresh_session_token(client: FlaskClient, factory: Factory) -> None:
    account = factory.account()
    log_in_with_password(client, account)
    pre_mfa = client.get_cookie("session")
    assert pre_mfa is not None
    submit_code(client, account.next_code())
    after = client.get_cookie("session")
    assert after is not None and after.value != pre_mfa.value
    with factory.app.app_context():
        sessions = request_session().query(AuthSession).filter_by(user_id=account.user.id).all()
        assert [s.mfa_verified for s in sessions] == [True], "the pre-MFA session is gone"


@pytest.mark.asvs("V7.2.1", "V7.4.1", "V14.3.1")
def test_logout_ends_the_session_even_for_a_copied_cookie(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    stolen = client.get_cookie("session")
    assert stolen is not None
    logout = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    # What the browser kept of the session's pages is cleared too.
    assert logout.headers["Clear-Site-Data"] == '"cache", "storage"'
    thief = factory.app.test_client()
    thief.set_cookie("session", stolen.value)
    assert thief.get("/").status_code == 302


@pytest.mark.asvs("V7.4.2")
def test_disabling_a_user_ends_their_open_session_at_once(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    admin = factory.account("admin")
    admin_client = factory.app.test_client()
    log_in(admin_client, admin)
    admin_client.post(
        f"/admin/users/{account.user.id}/disable",
        data={"csrf_token": csrf_token(admin_client, "/admin/users")},
    )
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location


def _age_sessions(factory: Factory, account: Account, **ages: timedelta) -> None:
    with factory.app.app_context():
        db = request_session()
        for row in db.query(AuthSession).filter_by(user_id=account.user.id):
            if "idle" in ages:
                row.last_seen_at = utcnow() - ages["idle"]
            if "since_login" in ages:
                row.created_at = utcnow() - ages["since_login"]
        db.commit()


@pytest.mark.asvs("V7.3.1")
def test_fifteen_idle_minutes_end_the_session(client: FlaskClient, factory: Factory) -> None:
    account = factory.account()
    log_in(client, account)
    _age_sessions(factory, account, idle=timedelta(minutes=16))
    assert "/login" in client.get("/").location


@pytest.mark.asvs("V7.3.2")
def test_eight_hours_end_the_session_however_active(client: FlaskClient, factory: Factory) -> None:
    account = factory.account()
    log_in(client, account)
    _age_sessions(factory, account, since_login=timedelta(hours=8, minutes=1))
    assert "/login" in client.get("/").location


@pytest.mark.asvs("V3.5.1")
def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient, factory: Factory) -> None:
    account = factory.account()
    response = client.post(
        "/login", data={"username": account.username, "password": account.password}
    )
    assert response.status_code == 400
    assert "/mfa" not in (response.location or "")


@pytest.mark.asvs("V3.7.2")
def test_a_login_redirect_never_leaves_the_site(client: FlaskClient, factory: Factory) -> None:
    account = factory.account()
    client.post(
        "/login?next=//evil.example/phish",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": csrf_token(client),
        },
    )
    response = submit_code(client, account.next_code())
    assert response.location == "/"


@pytest.mark.asvs("V2.4.1", "V6.3.1")
def test_rapid_login_attempts_from_one_address_are_slowed_down(settings_with) -> None:  # type: ignore[no-untyped-def]
    with app_in_rolled_back_transaction(settings_with(login_rate_limit="3 per minute")) as app:
        client = app.test_client()
        token = csrf_token(client)
        statuses = [
            client.post(
                "/login", data={"username": "x", "password": "y", "csrf_token": token}
            ).status_code
            for _ in range(5)
        ]
        assert statuses[:3] == [401, 401, 401]
        assert statuses[3:] == [429, 429]


def _actions(factory: Factory, since: int) -> list[tuple[str, str | None, str]]:
    from sqlalchemy import select

    from referral.db.audit_log import AuditEntry

    with factory.app.app_context():
        rows = request_session().scalars(
            select(AuditEntry).where(AuditEntry.sequence > since).order_by(AuditEntry.sequence)
        )
        return [(e.action, e.actor_name, e.outcome) for e in rows]


def _head(factory: Factory) -> int:
    from audit.record import current_head

    with factory.app.app_context():
        return current_head(request_session())[0]


@pytest.mark.asvs("V16.3.1")
def test_logins_and_failures_are_written_to_the_access_log(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    start = _head(factory)
    log_in(client, account)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    client.post(
        "/login",
        data={"username": "198001011234", "password": "x" * 12, "csrf_token": csrf_token(client)},
    )
    recorded = _actions(factory, start)
    assert recorded[:3] == [
        ("auth:login", account.username, "allowed"),
        ("auth:mfa_verified", account.username, "allowed"),
        ("auth:logout", account.username, "allowed"),
    ]
    assert recorded[3] == ("auth:login_failed", None, "denied")  # nothing typed is kept
