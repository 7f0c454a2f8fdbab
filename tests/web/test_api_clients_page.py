"""The administrator's page of API clients: issue one for an organisation in a role its kind
allows, with scopes from that role's grants; the token is shown once and never again; a
replacement and a revocation are a click each, and every one is in the access log."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.request_scope import request_session
from tests.factories import Factory, csrf_token, log_in

TOKEN = re.compile(r'id="token" readonly value="(iop_[A-Za-z0-9_-]{43})"')


@pytest.fixture
def admin(app: Flask, factory: Factory) -> FlaskClient:
    client = app.test_client()
    log_in(client, factory.account("admin"))
    return client


@pytest.fixture
def district(factory: Factory) -> Organisation:
    return factory.organisation("district", name="Farsta stadsdelsförvaltning Qx")


def _issue(admin: FlaskClient, district: Organisation, **form: object) -> str:
    path = f"/admin/api-clients/new?for={district.id}:social_worker"
    page = admin.get(path)
    assert page.status_code == 200
    body = {
        "csrf_token": csrf_token(admin, path),
        "name": "Procapita",
        "scopes": ["referral:create", "referral:read"],
        "valid_days": "365",
        **form,
    }
    return admin.post(path, data=body).get_data(as_text=True)


def _token(page: str) -> str:
    found = TOKEN.search(page)
    assert found, page
    return found.group(1)


def _works(app: Flask, token: str) -> int:
    response = app.test_client(use_cookies=False).get(
        "/api/v1/referrals", headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


def _actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(request_session().scalars(select(AuditEntry.action)))


def test_the_menu_offers_the_page_to_administrators_only(
    app: Flask, admin: FlaskClient, factory: Factory
) -> None:
    assert "/admin/api-clients" in admin.get("/").get_data(as_text=True)
    worker = app.test_client()
    log_in(worker, factory.account("social_worker"))
    assert "/admin/api-clients" not in worker.get("/").get_data(as_text=True)
    assert worker.get("/admin/api-clients").status_code == 403


def test_the_issue_form_offers_the_roles_grants_as_scopes_and_never_client_management(
    admin: FlaskClient, district: Organisation
) -> None:
    listing = admin.get("/admin/api-clients").get_data(as_text=True)
    assert f'value="{district.id}:social_worker"' in listing
    assert f'value="{district.id}:group_leader"' not in listing  # a partner's role
    page = admin.get(f"/admin/api-clients/new?for={district.id}:social_worker")
    text = page.get_data(as_text=True)
    assert 'value="referral:create"' in text and 'value="child:read"' in text
    assert 'value="audit:search"' not in text and 'value="api_client:manage"' not in text


def test_a_role_the_organisations_kind_does_not_allow_is_refused(
    admin: FlaskClient, district: Organisation
) -> None:
    assert admin.get(f"/admin/api-clients/new?for={district.id}:group_leader").status_code == 422


def test_the_token_is_shown_once_works_and_is_never_shown_again(
    app: Flask, admin: FlaskClient, district: Organisation
) -> None:
    page = _issue(admin, district)
    token = _token(page)
    assert "Procapita" in page and "referral:create, referral:read" in page
    assert _works(app, token) == 200
    assert "api_client:issue" in _actions(app)

    listing = admin.get("/admin/api-clients").get_data(as_text=True)
    assert "Procapita" in listing and token[:12] in listing
    assert token not in listing and token[12:] not in listing


@pytest.mark.asvs("V14.3.2")
def test_the_one_time_answer_is_not_stored_by_the_browser(
    admin: FlaskClient, district: Organisation
) -> None:
    path = f"/admin/api-clients/new?for={district.id}:social_worker"
    response = admin.post(
        path,
        data={
            "csrf_token": csrf_token(admin, path),
            "name": "Treserva",
            "scopes": ["referral:read"],
            "valid_days": "30",
        },
    )
    assert TOKEN.search(response.get_data(as_text=True))
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["audit:search"]}, "scopes"),
        ({"valid_days": "731"}, "valid_days"),
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
    ],
    ids=["no scope", "a scope outside the role", "over two years", "no name", "too long a name"],
)
def test_an_issue_that_breaks_a_rule_is_refused_on_its_field_and_shows_no_token(
    app: Flask, admin: FlaskClient, district: Organisation, form: dict[str, object], field: str
) -> None:
    page = _issue(admin, district, **form)
    assert TOKEN.search(page) is None
    assert f'id="{field}-error"' in page
    assert "api_client:issue" not in _actions(app)


def test_a_replacement_is_shown_once_and_the_old_token_works_on_until_revoked(
    app: Flask, admin: FlaskClient, district: Organisation
) -> None:
    old = _token(_issue(admin, district))
    listing = admin.get("/admin/api-clients").get_data(as_text=True)
    rotate_path = re.search(r'action="(/admin/api-clients/[^"]+/rotate)"', listing)
    assert rotate_path
    replaced = admin.post(
        rotate_path.group(1),
        data={"csrf_token": csrf_token(admin, "/admin/api-clients"), "grace_days": "7"},
    )
    new = _token(replaced.get_data(as_text=True))
    assert new != old and _works(app, new) == 200 and _works(app, old) == 200

    listing = admin.get("/admin/api-clients").get_data(as_text=True)
    assert new not in listing and old not in listing
    revoke_paths = re.findall(r'action="(/admin/api-clients/[^"]+/revoke)"', listing)
    assert len(revoke_paths) == 2  # the replacement, and the old one in its grace days
    old_id = rotate_path.group(1).split("/")[3]
    (revoke_old,) = [p for p in revoke_paths if old_id in p]
    done = admin.post(revoke_old, data={"csrf_token": csrf_token(admin, "/admin/api-clients")})
    assert done.status_code == 302
    assert _works(app, old) == 401 and _works(app, new) == 200
    actions = _actions(app)
    assert {"api_client:issue", "api_client:rotate", "api_client:revoke"} <= set(actions)
