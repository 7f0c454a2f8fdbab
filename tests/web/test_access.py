"""Every route is closed unless it says otherwise: a walk over app.url_map proves it."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from config.settings import Settings
from referral import create_app
from tests.factories import Factory, csrf_token, log_in, log_in_with_password

# The night places' result is published by design: anyone can check the ranking.
OPEN_ROUTES = {
    "/login",
    "/healthz",
    "/static/<path:filename>",
    "/nights/result",
    # Anyone may give feedback about a programme, without an account (issue 15).
    "/synpunkter",
    "/synpunkter/tack",
}


def _concrete(rule: str) -> str:
    # Any value for a path parameter: an unknown id must be refused just the same.
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "00000000-0000-0000-0000-000000000000", rule)


def _routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    return found


def _refused(response_status: int, location: str | None) -> bool:
    return response_status in {401, 403, 404, 405} or (
        response_status == 302
        and location is not None
        and ("/login" in location or "/mfa" in location)
    )


def _assert_every_route_refuses(app: Flask, client: FlaskClient, except_for: set[str]) -> None:
    for method, rule in _routes(app):
        if rule in except_for:
            continue
        response = client.open(_concrete(rule), method=method)
        assert _refused(response.status_code, response.location), (
            method,
            rule,
            response.status_code,
        )


@pytest.mark.asvs("V8.2.1", "V13.4.5")
def test_every_route_but_login_health_and_static_refuses_an_anonymous_visitor(
    app: Flask, client: FlaskClient
) -> None:
    assert len(_routes(app)) > 8
    _assert_every_route_refuses(app, client, except_for=OPEN_ROUTES)


@pytest.mark.asvs("V6.3.3", "V8.2.1")
def test_every_route_refuses_a_session_that_has_only_passed_the_password(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    log_in_with_password(client, factory.account("admin"))
    _assert_every_route_refuses(app, client, except_for=OPEN_ROUTES | {"/mfa", "/logout"})


@pytest.mark.asvs("V8.2.1")
def test_a_route_without_an_access_declaration_stops_the_app_from_starting(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    forgotten = Blueprint("forgotten", __name__)

    @forgotten.route("/forgotten")
    def open_by_mistake() -> str:
        return "personal data"

    from referral.web import admin

    original = admin.blueprint
    monkeypatch.setattr(admin, "blueprint", forgotten)
    with pytest.raises(RuntimeError, match="/forgotten"):
        create_app(settings)
    monkeypatch.setattr(admin, "blueprint", original)


@pytest.mark.asvs("V8.2.1")
def test_a_social_worker_cannot_open_the_administration_pages(
    client: FlaskClient, factory: Factory
) -> None:
    log_in(client, factory.account("social_worker"))
    assert client.get("/admin/users").status_code == 403
    assert client.get("/api/v1/users").status_code == 403


def test_each_role_sees_its_own_start_page(app: Flask, factory: Factory) -> None:
    for role in ("social_worker", "group_leader", "link_worker", "dpo", "admin"):
        client = app.test_client()
        log_in(client, factory.account(role))
        page = client.get("/").get_data(as_text=True)
        assert f'data-role="{role}"' in page
        assert page.count("data-role=") == 1


def test_every_link_on_a_start_page_opens_for_that_role(app: Flask, factory: Factory) -> None:
    # The menu asks the policy (may_open), not the role's name: a link it shows never refuses.
    offered: dict[str, list[str]] = {}
    for role in ("social_worker", "group_leader", "link_worker", "dpo", "admin"):
        client = app.test_client()
        log_in(client, factory.account(role))
        page = client.get("/").get_data(as_text=True)
        links = re.findall(r'<li><a href="(/[^"]*)"', page)
        offered[role] = links
        assert {link: client.get(link).status_code for link in links} == dict.fromkeys(links, 200)
    assert "/children" in offered["social_worker"] and "/children" not in offered["group_leader"]
    assert "/admin/users" in offered["admin"] and "/admin/users" not in offered["dpo"]


@pytest.mark.asvs("V3.4.4", "V3.4.5", "V3.4.6", "V14.2.2", "V14.3.2")
def test_pages_carry_security_headers_and_are_never_cached(
    client: FlaskClient, factory: Factory
) -> None:
    log_in(client, factory.account())
    response = client.get("/")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.asvs("V3.5.1")
def test_a_form_posted_over_https_from_the_services_own_page_is_accepted(
    app: Flask, factory: Factory
) -> None:
    """Behind TLS the CSRF check also wants a Referer of this origin: the referrer policy
    must let a browser send it to the service itself (and to no one else)."""
    account = factory.account()
    client = app.test_client()
    log_in(client, account)
    page = client.get("/", base_url="https://localhost")
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = csrf_token(client, "/")

    marked = client.post(
        "/notifications/read",
        data={"csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/notifications"},
    )
    elsewhere = client.post(
        "/notifications/read",
        data={"csrf_token": token},
        base_url="https://localhost",
    )

    assert marked.status_code in (302, 303)
    assert elsewhere.status_code == 400  # no Referer over HTTPS: refused, as Flask-WTF means


def test_health_reports_that_the_database_is_reachable(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": True}
