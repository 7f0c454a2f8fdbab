"""A walk over every route: each page or response that shows personal data writes exactly
one entry to the access log, and the others write none. A new route must be placed in one
of the two lists, so nobody adds a page without deciding whether it is audited."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from referral.db.audit_log import AuditEntry
from referral.db.engine import request_session
from referral.db.models import Role
from referral.policy import GRANTS
from referral.web.access import Level, rule_for
from tests.factories import Factory, log_in

SHOWS_PERSONAL_DATA = {
    "/admin/users",
    "/api/v1/users",
    "/dpo/audit",
    "/dpo/audit/export",
    "/dpo/alerts",
    "/api/v1/audit/entries",
}
SHOWS_NO_PERSONAL_DATA = {
    "/",  # the user's own name only
    "/api/v1/me",  # the caller's own account
    "/admin/organisations",
    "/api/v1/organisations",
    "/api/v1/openapi.json",
    "/dpo/integrity",
    "/dpo/subject-access",  # the empty form; the report itself is a POST
}
NOT_PAGES = {"/login", "/mfa", "/healthz", "/static/<path:filename>"}


def _count(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _role_for(app: Flask, endpoint: str) -> Role:
    rule = rule_for(app, endpoint, "GET")
    assert rule is not None and rule.level is Level.PERMISSION
    return next(role for role, granted in GRANTS.items() if rule.permission in granted)


def test_every_route_that_shows_personal_data_writes_exactly_one_entry(
    app: Flask, factory: Factory
) -> None:
    rules = app.url_map.iter_rules()
    get_routes = {r.rule: r.endpoint for r in rules if "GET" in (r.methods or ())}
    unclassified = set(get_routes) - SHOWS_PERSONAL_DATA - SHOWS_NO_PERSONAL_DATA - NOT_PAGES
    assert unclassified == set(), "decide whether these routes show personal data"
    clients = {}
    for path in sorted(SHOWS_PERSONAL_DATA | SHOWS_NO_PERSONAL_DATA):
        role = _role_for(app, get_routes[path])
        if role not in clients:
            clients[role] = app.test_client()
            log_in(clients[role], factory.account(role.value))
        before = _count(app)
        response = clients[role].get(path)
        assert response.status_code == 200, (path, response.status_code)
        written = _count(app) - before
        expected = 1 if path in SHOWS_PERSONAL_DATA else 0
        assert written == expected, (path, written)
