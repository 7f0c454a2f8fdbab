"""An error nobody planned for (OWASP ASVS 5.0 V16.5.1, V16.5.4, V16.3.4): the person sees a
plain "something went wrong", a system a bare problem document, neither the error's text nor
where it happened; the service's log records what failed and where, without the text; and the
next request is served as usual."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from referral.services import users
from tests.factories import Factory, log_in

# What an exception's text might carry: a query, a value, a secret.
INTERNALS = "SELECT password_hash FROM users WHERE username = 'anna' -- key=hunter2-canary"


@pytest.fixture
def broken_user_list(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(INTERNALS)

    monkeypatch.setattr(users, "list_users", fails)


def _tells_nothing_inside(body: str) -> None:
    for inside in (INTERNALS, "hunter2", "password_hash", "RuntimeError", "Traceback", ".py"):
        assert inside not in body


@pytest.mark.asvs("V16.5.1", "V16.5.4", "V16.3.4")
@pytest.mark.parametrize(
    ("path", "mimetype", "view"),
    [
        ("/admin/users", "text/html", "admin.py"),
        ("/api/v1/users", "application/problem+json", "users.py"),
    ],
    ids=["page", "api"],
)
def test_an_unexpected_error_is_a_plain_500_logged_without_its_text_and_the_service_goes_on(
    client: FlaskClient,
    factory: Factory,
    broken_user_list: None,
    caplog: pytest.LogCaptureFixture,
    path: str,
    mimetype: str,
    view: str,
) -> None:
    log_in(client, factory.account("admin"))
    caplog.set_level(logging.ERROR)
    response = client.get(path)
    assert response.status_code == 500
    assert response.mimetype == mimetype
    _tells_nothing_inside(response.get_data(as_text=True))
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    # The type and the place, so an operator can find it; never the text.
    assert any("RuntimeError" in line and f"{view}:" in line for line in logged), logged
    assert not [line for line in logged if "hunter2" in line]
    assert client.get("/").status_code == 200
