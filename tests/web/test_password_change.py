"""A signed-in person changes their own password (OWASP ASVS 5.0 V6.2.2, V6.2.3), and a first
password the operator made is replaced at the first sign-in before anything else (V6.4.1)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from referral.auth import oidc_session
from referral.auth.passwords import verify_password
from referral.auth.sessions import open_session
from referral.db.audit_log import AUDIT_TABLES
from referral.db.base import utcnow
from referral.db.models import AuthSession, User
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

PAGE = "/account/password"
OPERATORS_USER = "forst-ledare"
NEW_PASSWORD = "lingonris under tunnelbanans tak"


def _change(
    client: FlaskClient,
    current: str,
    new: str = NEW_PASSWORD,
    again: str | None = None,
    *,
    lang: str = "",
):  # type: ignore[no-untyped-def]
    return client.post(
        PAGE + (f"?lang={lang}" if lang else ""),
        data={
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
            "csrf_token": csrf_token(client, PAGE),
        },
    )


def _head(app: Flask) -> int:
    from audit.record import current_head

    with app.app_context():
        return current_head(request_session())[0]


def _entries_since(app: Flask, since: int) -> list[dict[str, object]]:
    """Every column of the access log's entries after `since`, as stored."""
    entries = AUDIT_TABLES.entries
    with app.app_context():
        rows = request_session().execute(
            select(entries).where(entries.c.sequence > since).order_by(entries.c.sequence)
        )
        return [dict(row._mapping) for row in rows]


def _sessions_of(app: Flask, user_id: str) -> int:
    with app.app_context():
        return len(
            request_session()
            .scalars(select(AuthSession).where(AuthSession.user_id == user_id))
            .all()
        )


def _second_browser(app: Flask, account: Account) -> FlaskClient:
    """Another fully verified session of the same account, as a second browser holds it
    (opened directly: a second login would wait for the next TOTP step)."""
    with app.app_context():
        db = request_session()
        user = db.get(User, account.user.id)
        assert user is not None
        token = open_session(db, user, mfa_verified=True)
        db.commit()
    other = app.test_client()
    with other.session_transaction() as cookie_session:
        cookie_session["_user_id"] = token
        cookie_session["_fresh"] = True
    return other


@pytest.mark.asvs("V6.2.2")
def test_a_signed_in_user_changes_their_password_and_signs_in_with_the_new_one_only(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account("group_leader")
    log_in(client, account)
    assert 'href="/account/password"' in client.get("/").get_data(as_text=True)
    response = _change(client, account.password)
    assert response.status_code == 302 and response.location == "/"
    assert "Ditt lösenord är bytt." in client.get("/").get_data(as_text=True)
    stored = account.reload().password_hash
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, NEW_PASSWORD)
    assert log_in_with_password(app.test_client(), account).status_code == 401
    signed_in = log_in_with_password(app.test_client(), account, password=NEW_PASSWORD)
    assert signed_in.status_code == 302 and signed_in.location.endswith("/mfa")


@pytest.mark.asvs("V6.2.3")
def test_the_page_asks_for_the_current_password_and_the_new_one_twice_in_swedish(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account("link_worker")
    log_in(client, account)
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<h1>Byt lösenord</h1>" in text
    for label in ("Nuvarande lösenord", "Nytt lösenord", "Nytt lösenord igen"):
        assert f">{label}</label>" in text
    for name, purpose in (
        ("current_password", "current-password"),
        ("new_password", "new-password"),
        ("new_password_again", "new-password"),
    ):
        [tag] = re.findall(rf'<input [^>]*name="{name}"[^>]*>', text)
        assert 'type="password"' in tag and f'autocomplete="{purpose}"' in tag and 'value=""' in tag
    english = client.get(PAGE + "?lang=en").get_data(as_text=True)
    assert "<h1>Change password</h1>" in english and ">Current password</label>" in english


@pytest.mark.asvs("V6.2.3", "V6.3.1")
def test_a_wrong_current_password_is_refused_naming_the_field_and_counts_towards_the_lockout(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    start = _head(app)
    response = _change(client, "not my password at all")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="current_password-error"' in text
    assert "Det nuvarande lösenordet stämmer inte" in text
    assert "not my password at all" not in text and NEW_PASSWORD not in text
    user = account.reload()
    assert user.failed_logins == 1
    assert verify_password(user.password_hash, account.password)
    [entry] = _entries_since(app, start)
    assert (entry["action"], entry["outcome"], entry["object_id"]) == (
        "auth:password_change_failed",
        "denied",
        account.user.id,
    )


@pytest.mark.asvs("V6.2.3", "V6.3.1")
def test_wrong_current_passwords_and_failed_logins_lock_the_account_together_and_end_the_session(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    elsewhere = app.test_client()
    for _ in range(4):  # one short of the five failures that lock the account
        wrong = log_in_with_password(elsewhere, account, password="a guess, wrong")
        assert wrong.status_code == 401
    response = _change(client, "and one more guess")
    assert response.status_code == 302 and response.location == "/login"
    assert account.reload().locked_until is not None
    assert client.get("/").location.startswith("/login")
    assert log_in_with_password(app.test_client(), account).status_code == 401


@pytest.mark.asvs("V6.2.2")
@pytest.mark.parametrize(
    ("new", "again", "field", "swedish"),
    [
        ("kort ord", None, "new_password", "minst 12 tecken"),
        ("passw0rdpassw0rd", None, "new_password", "läckta lösenord"),
        ("Sommar2026 Stockholm!", None, "new_password", "för lätt att gissa"),
        ("{username} och 2026", None, "new_password", "för lätt att gissa"),
        ("{current}", None, "new_password", "måste skilja sig från det nuvarande"),
        (NEW_PASSWORD, NEW_PASSWORD + " ", "new_password_again", "inte likadant båda gångerna"),
    ],
    ids=["too short", "breached", "the service's words", "the username", "same", "mismatched"],
)
def test_a_new_password_that_breaks_a_rule_is_refused_naming_the_field_and_not_echoed(
    client: FlaskClient,
    factory: Factory,
    new: str,
    again: str | None,
    field: str,
    swedish: str,
) -> None:
    account = factory.account("group_leader")
    log_in(client, account)
    new = new.format(username=account.username, current=account.password)
    response = _change(client, account.password, new, again)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f'id="{field}-error"' in text and swedish in text
    errors = {name for name in ("current_password", "new_password", "new_password_again")}
    assert {name for name in errors if f'id="{name}-error"' in text} == {field}
    assert new not in text and account.password not in text
    user = account.reload()
    assert verify_password(user.password_hash, account.password)
    assert user.failed_logins == 0


def test_an_empty_form_is_refused_naming_each_field_in_english_when_asked(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    response = _change(client, "", "", "", lang="en")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    for name in ("current_password", "new_password", "new_password_again"):
        assert f'id="{name}-error">This field is required.' in text


@pytest.mark.asvs("V6.2.2", "V7.4.3")
def test_changing_the_password_ends_every_other_session_and_keeps_this_one(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    other = _second_browser(app, account)
    assert other.get("/").status_code == 200
    bystander = factory.account()
    _second_browser(app, bystander)
    assert _sessions_of(app, account.user.id) == 2
    assert _change(client, account.password).status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").location.startswith("/login")
    assert _sessions_of(app, account.user.id) == 1
    assert _sessions_of(app, bystander.user.id) == 1


@pytest.mark.asvs("V6.2.2", "V16.3.1")
def test_the_change_is_written_to_the_access_log_without_any_password_or_hash(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    old_hash = account.reload().password_hash
    start = _head(app)
    assert _change(client, account.password).status_code == 302
    new_hash = account.reload().password_hash
    [entry] = _entries_since(app, start)
    assert (entry["action"], entry["outcome"], entry["actor_name"], entry["object_id"]) == (
        "auth:password_changed",
        "allowed",
        account.username,
        account.user.id,
    )
    stored = " ".join(repr(value) for value in entry.values())
    for secret in (account.password, NEW_PASSWORD, old_hash, new_hash):
        assert secret not in stored


@pytest.mark.asvs("V3.5.1")
def test_a_change_without_the_forms_csrf_token_is_refused(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    response = client.post(
        PAGE,
        data={
            "current_password": account.password,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert verify_password(account.reload().password_hash, account.password)


@pytest.mark.asvs("V6.3.3")
def test_a_session_that_has_passed_only_the_password_cannot_change_it(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in_with_password(client, account)
    assert client.get(PAGE).location.endswith("/mfa")
    response = client.post(
        PAGE,
        data={
            "current_password": account.password,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/mfa"),
        },
    )
    assert response.status_code == 302 and response.location.endswith("/mfa")
    assert verify_password(account.reload().password_hash, account.password)


@pytest.mark.asvs("V6.3.1")
def test_rapid_changes_from_one_address_are_slowed_down_like_logins(settings_with) -> None:  # type: ignore[no-untyped-def]
    with app_in_rolled_back_transaction(settings_with(login_rate_limit="3 per minute")) as app:
        account = Factory(app, settings_with(login_rate_limit="3 per minute")).account()
        client = app.test_client()
        log_in(client, account)
        statuses = [_change(client, "", "", "").status_code for _ in range(5)]
        assert statuses == [422, 422, 422, 429, 429]


def _added_by_the_operator(runner: FlaskCliRunner, factory: Factory, *password: str) -> str:
    """A group leader added with `flask user add` and these password options: what it printed."""
    partner = factory.organisation("partner")
    result = runner.invoke(
        args=[
            *("user", "add", "--username", OPERATORS_USER, "--name", "Först Ledare"),
            *("--org", partner.id, "--role", "group_leader", *password),
        ]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _first_sign_in(client: FlaskClient, password: str) -> str:
    """Password, then the authenticator enrolled from the page's key and its first code:
    where the second factor sends the person on to."""
    response = client.post(
        "/login",
        data={"username": OPERATORS_USER, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    page = client.get("/mfa").get_data(as_text=True)
    seed = page.split('<code class="seed">')[1].split("</code>")[0]
    response = submit_code(client, code_for(seed))
    assert response.status_code == 302
    return str(response.location)


@pytest.mark.asvs("V6.4.1")
def test_a_generated_first_password_must_be_replaced_before_any_other_page_opens(
    client: FlaskClient, runner: FlaskCliRunner, factory: Factory
) -> None:
    printed = _added_by_the_operator(runner, factory, "--generate-password")
    generated = printed.split("Password (shown once): ")[1].strip()
    onwards = _first_sign_in(client, generated)
    assert client.get(onwards).location == PAGE
    for path in ("/", "/partner/groups", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.location == PAGE, path
    assert client.get("/api/v1/me").status_code == 403
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Välj ett eget innan du fortsätter." in text
    assert 'class="main-menu"' not in text
    assert _change(client, generated).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    assert "Välj ett eget" not in client.get(PAGE).get_data(as_text=True)


@pytest.mark.asvs("V6.4.1")
def test_a_first_password_the_operator_chose_must_be_replaced_too_and_logging_out_stays_open(
    client: FlaskClient, runner: FlaskCliRunner, factory: Factory
) -> None:
    chosen = "operatorns valda fraslösen"
    _added_by_the_operator(runner, factory, "--password", chosen)
    _first_sign_in(client, chosen)
    assert client.get("/").location == PAGE
    response = client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/").location.startswith("/login")


def _must_change(account: Account) -> None:
    with account.app.app_context():
        db = request_session()
        user = db.get(User, account.user.id)
        assert user is not None
        user.must_change_password = True
        db.commit()


@pytest.mark.asvs("V6.4.1")
def test_a_session_signed_in_through_the_identity_provider_is_not_held_to_the_change(
    client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    _must_change(account)
    log_in(client, account)
    assert client.get("/").location == PAGE
    # The same account signed in through the city's provider: it never used the password.
    with client.session_transaction() as cookie_session:
        cookie_session[oidc_session.SIGNED_IN_WITH] = {"provider": "city", "id_token": "t"}
    assert client.get("/").status_code == 200


@pytest.mark.asvs("V6.2.10")
def test_a_password_set_years_ago_still_signs_in_no_change_is_ever_forced_by_age(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    with app.app_context():
        db = request_session()
        user = db.get(User, account.user.id)
        assert user is not None
        user.created_at = utcnow() - timedelta(days=3 * 365)
        db.commit()
    response = log_in_with_password(client, account)
    assert response.status_code == 302 and response.location.endswith("/mfa")
    assert submit_code(client, account.next_code()).status_code == 302
    assert client.get("/").status_code == 200
