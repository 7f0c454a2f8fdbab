"""What a browser is told to protect, on every kind of answer (OWASP ASVS 5.0 V3, V13.4): HSTS
for two years with subdomains, a Content-Security-Policy that loads only the service's own
files, nosniff, no embedding, no CORS for other sites, a session cookie scripts cannot read,
no TRACE and no directory listing; and a login form that lets a password manager do its job."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.factories import Factory, log_in

ONE_YEAR = 365 * 24 * 3600
FOREIGN = "https://evil.example"

# A page, the API, an error of each, the health check, the login page and a static file.
ANSWERS = ["/", "/api/v1/me", "/nothing-here", "/api/v1/nothing-here", "/healthz", "/login"]
STATIC = "/static/app.css"
STATIC_FOLDER = Path(__file__).resolve().parents[2] / "referral" / "static"


def _every_answer(client: FlaskClient, factory: Factory) -> list[tuple[str, dict[str, str]]]:
    log_in(client, factory.account("social_worker"))
    answers = []
    for path in [*ANSWERS, STATIC]:
        response = client.get(path, headers={"Origin": FOREIGN})
        answers.append((path, dict(response.headers)))
        response.close()
    return answers


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.mark.asvs("V3.4.1")
def test_every_answer_asks_for_https_for_at_least_a_year_including_subdomains(
    client: FlaskClient, factory: Factory
) -> None:
    for path, headers in _every_answer(client, factory):
        hsts = headers["Strict-Transport-Security"]
        max_age = re.search(r"max-age=(\d+)", hsts)
        assert max_age is not None and int(max_age.group(1)) >= ONE_YEAR, path
        assert "includesubdomains" in hsts.lower(), path


@pytest.mark.asvs("V3.4.3", "V3.4.6", "V14.2.3")
def test_every_answer_lets_the_browser_load_and_send_only_to_the_service_itself(
    client: FlaskClient, factory: Factory
) -> None:
    for path, headers in _every_answer(client, factory):
        policy = _directives(headers["Content-Security-Policy"])
        assert policy["object-src"] == ["'none'"], path
        assert policy["base-uri"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        # No inline script and no other site: nothing injected runs, nothing leaves for a
        # tracker (script, connect and images fall back to default-src).
        assert policy["default-src"] == ["'self'"], path
        assert policy["script-src"] == ["'self'"], path
        assert "connect-src" not in policy or policy["connect-src"] == ["'self'"], path
        assert set(policy["img-src"]) <= {"'self'", "data:"}, path


@pytest.mark.asvs("V3.4.4")
def test_every_answer_forbids_content_sniffing(client: FlaskClient, factory: Factory) -> None:
    for path, headers in _every_answer(client, factory):
        assert headers["X-Content-Type-Options"] == "nosniff", path


@pytest.mark.asvs("V3.4.2")
def test_no_answer_opens_itself_to_another_site(client: FlaskClient, factory: Factory) -> None:
    for path, headers in _every_answer(client, factory):
        assert not [name for name in headers if name.lower().startswith("access-control-")], path


@pytest.mark.asvs("V3.3.2", "V3.3.4")
def test_the_session_cookie_is_out_of_scripts_reach_and_stays_on_this_site(
    client: FlaskClient, factory: Factory
) -> None:
    log_in(client, factory.account("group_leader"))
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"  # sent on a link from elsewhere, never on its POST


@pytest.mark.asvs("V13.4.4")
@pytest.mark.parametrize("path", ["/login", "/", "/api/v1/me", "/healthz"])
def test_trace_is_refused_everywhere(client: FlaskClient, factory: Factory, path: str) -> None:
    log_in(client, factory.account("admin"))
    response = client.open(path, method="TRACE", data="echo me")
    assert response.status_code == 405
    assert "echo me" not in response.get_data(as_text=True)


@pytest.mark.asvs("V13.4.3")
@pytest.mark.parametrize("path", ["/static/", "/static", "/static/../"])
def test_the_static_folder_lists_nothing(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    # The error page links its own style sheet and scripts; a listing would name them all.
    files = [p.name for p in STATIC_FOLDER.iterdir()]
    assert not all(name in response.get_data(as_text=True) for name in files)


@pytest.mark.asvs("V6.2.6", "V6.2.7")
def test_the_password_field_is_masked_and_open_to_pasting_and_password_managers(
    client: FlaskClient,
) -> None:
    page = client.get("/login").get_data(as_text=True)
    (field,) = re.findall(r'<input[^>]*name="password"[^>]*>', page)
    assert 'type="password"' in field
    assert 'autocomplete="off"' not in field
    assert not re.search(r"\son(paste|copy|drop)=", page)
    assert "preventDefault" not in page
