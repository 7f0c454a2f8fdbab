"""Attempts to get past a control leave a line in the service's log (OWASP ASVS 5.0
V16.3.3): a form without its CSRF token, a login over the rate limit, and a request only a
crafted client sends (a JSON key or a parameter said twice, JSON nested too deep). Each line
names the kind, the method, the endpoint, the answer, the field's name, the account's
pseudonymous id and the request id the access log shares, and never what was sent. The
policy's own refusals go to the access log (tests/web/test_audited_routes.py)."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from tests.conftest import app_in_rolled_back_transaction
from tests.factories import Factory, csrf_token, log_in

CANARY = "Sigvard Kanariefågel"
SECURITY = "referral.security"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == SECURITY]


@pytest.mark.asvs("V16.3.3")
def test_a_form_posted_without_its_csrf_token_is_logged_without_what_it_carried(
    client: FlaskClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=SECURITY)
    response = client.post("/login", data={"username": CANARY, "password": CANARY})
    assert response.status_code == 400
    request_id = response.headers["X-Request-ID"]
    assert _lines(caplog) == [
        f"refused csrf_token: POST auth.login answered 400; user -; request {request_id}"
    ]
    assert CANARY not in caplog.text


@pytest.mark.asvs("V16.3.3")
def test_a_json_key_said_twice_is_logged_with_the_key_and_the_account_not_the_values(
    client: FlaskClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    admin = factory.account("admin")
    log_in(client, admin)
    token = client.get("/api/v1/me").headers["X-CSRFToken"]
    caplog.set_level(logging.WARNING, logger=SECURITY)
    response = client.post(
        "/api/v1/organisations",
        data=f'{{"name": "{CANARY}", "kind": "partner", "name": "{CANARY} 2"}}',
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    (line,) = _lines(caplog)
    assert line.startswith("refused duplicate_key: POST ")
    assert "answered 422 (field name); user " in line
    assert f"; request {response.headers['X-Request-ID']}" in line
    assert CANARY not in caplog.text


@pytest.mark.asvs("V16.3.3")
def test_json_nested_too_deep_and_a_repeated_parameter_are_logged(
    client: FlaskClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    log_in(client, factory.account("dpo"))
    token = client.get("/api/v1/me").headers["X-CSRFToken"]
    caplog.set_level(logging.WARNING, logger=SECURITY)
    deep = client.post(
        "/api/v1/audit/subject-access",
        data="[" * 40 + "]" * 40,
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    twice = client.get("/api/v1/audit/entries?outcome=denied&outcome=allowed")
    assert (deep.status_code, twice.status_code) == (400, 422)
    kinds = [line.split(":", 1)[0] for line in _lines(caplog)]
    assert kinds == ["refused nested_too_deeply", "refused repeated_parameter"]
    assert "(field outcome)" in _lines(caplog)[1]


@pytest.mark.asvs("V16.3.3")
def test_logins_over_the_rate_limit_are_logged(settings_with, caplog) -> None:  # type: ignore[no-untyped-def]
    with app_in_rolled_back_transaction(settings_with(login_rate_limit="2 per minute")) as app:
        client = app.test_client()
        token = csrf_token(client)
        caplog.set_level(logging.WARNING, logger=SECURITY)
        statuses = [
            client.post(
                "/login", data={"username": CANARY, "password": "y", "csrf_token": token}
            ).status_code
            for _ in range(3)
        ]
    assert statuses == [401, 401, 429]
    (line,) = _lines(caplog)
    assert line.startswith("refused rate_limit: POST auth.login answered 429; user -; request ")
    assert CANARY not in caplog.text


def test_an_ordinary_mistake_is_not_a_security_event(
    client: FlaskClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """A 422 for a field filled in wrong is an honest mistake, not an attempt: no line."""
    log_in(client, factory.account("dpo"))
    caplog.set_level(logging.WARNING, logger=SECURITY)
    assert client.get("/api/v1/audit/entries?outcome=maybe").status_code == 422
    assert _lines(caplog) == []
