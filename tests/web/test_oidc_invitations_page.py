"""An administrator invites a staff member to sign in through the identity provider: the link
is shown once, only its hash is kept, and only administrators may make one."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config.settings import Settings
from referral.auth.oidc_accounts import token_hash
from referral.db.audit_log import AuditEntry
from referral.db.identity import SignInInvitation
from referral.request_scope import request_session
from tests.factories import Account, Factory, csrf_token, log_in
from tests.oidc_provider import MockProvider, mock_provider  # noqa: F401 - a fixture

DISTRICT = "Stadsdelsförvaltningen med inbjudningar"
LINK = re.compile(r"http://localhost/login/invitation/([A-Za-z0-9_-]{43})")


@pytest.fixture
def settings(settings_with, mock_provider: MockProvider) -> Settings:  # type: ignore[no-untyped-def]  # noqa: F811
    return settings_with(oidc_providers=(mock_provider.config(DISTRICT),))  # type: ignore[no-any-return]


@pytest.fixture
def admin(client: FlaskClient, factory: Factory) -> Account:
    account = factory.account("admin")
    log_in(client, account)
    return account


def _invite(client: FlaskClient, user_id: str, provider: str = "city"):  # type: ignore[no-untyped-def]
    page = f"/admin/users/{user_id}/sign-in"
    return client.post(
        f"{page}/invitations",
        data={"provider": provider, "csrf_token": csrf_token(client, page)},
    )


def test_the_staff_list_links_each_account_to_its_invitation_page(
    client: FlaskClient, factory: Factory, admin: Account
) -> None:
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Bjud in till inloggning via Stockholms stad" in page
    assert f"/admin/users/{admin.user.id}/sign-in" in page


def test_the_link_is_shown_once_and_only_its_hash_is_kept(
    app: Flask, client: FlaskClient, factory: Factory, admin: Account
) -> None:
    worker = factory.account("social_worker", factory.organisation("district", DISTRICT))
    created = _invite(client, worker.user.id)
    assert created.status_code == 201
    token = LINK.search(created.get_data(as_text=True))
    assert token is not None
    again = client.get(f"/admin/users/{worker.user.id}/sign-in").get_data(as_text=True)
    assert token.group(1) not in again and "Ännu inte använd" in again
    with app.app_context():
        stored = request_session().scalars(select(SignInInvitation)).one()
        assert stored.token_hash == token_hash(token.group(1))
        assert stored.user_id == worker.user.id and stored.provider == "city"
        entry = (
            request_session()
            .scalars(select(AuditEntry).where(AuditEntry.action == "user:invite"))
            .one()
        )
        assert (entry.actor_id, entry.object_id) == (admin.user.id, worker.user.id)


def test_a_new_invitation_ends_the_open_one(
    app: Flask, client: FlaskClient, factory: Factory, admin: Account
) -> None:
    worker = factory.account("social_worker", factory.organisation("district", DISTRICT))
    _invite(client, worker.user.id)
    _invite(client, worker.user.id)
    page = client.get(f"/admin/users/{worker.user.id}/sign-in").get_data(as_text=True)
    assert page.count('data-state="open"') == 1 and page.count('data-state="expired"') == 1


def test_an_account_of_another_organisation_is_not_invited_through_this_provider(
    client: FlaskClient, factory: Factory, admin: Account
) -> None:
    elsewhere = factory.account("social_worker")  # a district of its own
    page = client.get(f"/admin/users/{elsewhere.user.id}/sign-in").get_data(as_text=True)
    assert "Ingen identitetsleverantör är inställd" in page
    assert _invite(client, elsewhere.user.id).status_code == 422


def test_only_an_administrator_invites(client: FlaskClient, factory: Factory) -> None:
    worker = factory.account("social_worker", factory.organisation("district", DISTRICT))
    log_in(client, worker)
    assert client.get(f"/admin/users/{worker.user.id}/sign-in").status_code == 403
