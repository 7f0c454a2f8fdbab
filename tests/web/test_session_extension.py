"""A signed-in person warned of the idle limit asks to stay logged in (WCAG 2.2.1): the
request really restarts the idle limit, and is refused without a live session or its CSRF
token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.auth.keep_alive import EXTEND_RATE
from referral.db.models import AuthSession
from referral.request_scope import request_session
from tests.conftest import FrozenClock
from tests.factories import Account, Factory, csrf_token, log_in, log_in_with_password

EXTEND = "/session/extend"


def _extend(client: FlaskClient, token: str | None) -> object:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["X-CSRFToken"] = token
    return client.post(EXTEND, headers=headers)


def _last_seen(factory: Factory, account: Account) -> datetime:
    with factory.app.app_context():
        rows = request_session().scalars(
            select(AuthSession.last_seen_at).where(AuthSession.user_id == account.user.id)
        )
        return max(rows)


@pytest.fixture
def signed_in(client: FlaskClient, factory: Factory) -> tuple[Account, str]:
    account = factory.account("social_worker")
    log_in(client, account)
    return account, csrf_token(client, "/")


def test_staying_logged_in_restarts_the_idle_limit_even_within_the_minute(
    client: FlaskClient,
    factory: Factory,
    signed_in: tuple[Account, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account, token = signed_in
    clock = FrozenClock(monkeypatch, datetime.now(UTC))
    # Under a minute after the last request, which an ordinary page would not write down.
    clock.move(seconds=50)
    response = client.post(EXTEND, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["seconds_left"] == 15 * 60
    assert re.fullmatch(r"\d\d:\d\d", response.json["ends_at"])
    assert _last_seen(factory, account) == clock.moment
    # Over fifteen minutes since the login, under fifteen since the extension: still in.
    clock.move(minutes=14, seconds=40)
    assert client.get("/").status_code == 200


@pytest.mark.asvs("V7.3.1")
def test_without_staying_logged_in_the_same_wait_ends_the_session(
    client: FlaskClient, signed_in: tuple[Account, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FrozenClock(monkeypatch, datetime.now(UTC))
    clock.move(seconds=50)
    clock.move(minutes=14, seconds=40)
    assert "/login" in (client.get("/").location or "")


@pytest.mark.asvs("V7.4.1")
def test_an_ended_session_is_refused_with_401_and_not_revived(
    client: FlaskClient, signed_in: tuple[Account, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _account, token = signed_in
    clock = FrozenClock(monkeypatch, datetime.now(UTC))
    clock.move(minutes=16)
    response = client.post(EXTEND, headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert response.location is None  # a script asked: no redirect to an HTML page
    assert response.is_json
    clock.move(seconds=1)
    assert "/login" in (client.get("/").location or "")


def test_nobody_logged_in_is_refused_with_401(client: FlaskClient) -> None:
    response = client.post(EXTEND, headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 401
    assert response.location is None


@pytest.mark.asvs("V6.3.3")
def test_a_password_without_the_second_factor_cannot_extend_anything(
    client: FlaskClient, factory: Factory
) -> None:
    log_in_with_password(client, factory.account("social_worker"))
    response = client.post(EXTEND, headers={"X-CSRFToken": csrf_token(client, "/mfa")})
    assert response.status_code == 401


@pytest.mark.asvs("V3.5.1")
def test_staying_logged_in_needs_the_pages_csrf_token(
    client: FlaskClient,
    factory: Factory,
    signed_in: tuple[Account, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account, _token = signed_in
    clock = FrozenClock(monkeypatch, datetime.now(UTC))
    before = _last_seen(factory, account)
    clock.move(seconds=30)
    assert client.post(EXTEND).status_code == 400
    assert client.post(EXTEND, headers={"X-CSRFToken": "forged"}).status_code == 400
    assert _last_seen(factory, account) == before


@pytest.mark.asvs("V2.4.1")
def test_a_script_holding_the_session_open_is_slowed_down(
    client: FlaskClient, signed_in: tuple[Account, str]
) -> None:
    _account, token = signed_in
    allowed = int(EXTEND_RATE.split()[0])
    answers = [client.post(EXTEND, headers={"X-CSRFToken": token}) for _ in range(allowed + 1)]
    assert [a.status_code for a in answers[:allowed]] == [200] * allowed
    assert answers[-1].status_code == 429


def test_a_signed_in_page_tells_its_script_the_idle_limit_and_carries_a_hidden_warning(
    client: FlaskClient, signed_in: tuple[Account, str]
) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'data-session-idle-seconds="900"' in page
    assert re.search(r'data-session-seconds-left="(8[4-9]\d|900)"', page)
    assert 'data-session-extend-url="/session/extend"' in page
    assert re.search(r'<div class="session-timeout"[^>]*role="alertdialog"[^>]*hidden>', page)
    assert "Fortsätt vara inloggad" in page
    assert re.search(r'<script src="/static/session-timeout.js[^"]*" defer>', page)


def test_the_login_page_has_no_session_to_warn_about(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "data-session-seconds-left" not in page
    assert "session-timeout" not in page.replace("session-timeout.js", "")
