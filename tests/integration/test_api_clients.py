"""Issuing, replacing and revoking API clients (referral.auth.api_clients): who may, for
which organisation and role, with which scopes and for how long; what verification accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from referral import clock
from referral.actors import Origin
from referral.auth import api_clients
from referral.db.identity import ApiClient
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.errors import DomainError, InvalidInput, NotFound, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from tests.factories import SYSTEM, Factory, social_worker_actor


@pytest.fixture
def district(factory: Factory) -> Organisation:
    return factory.organisation("district")


def _issue(app: Flask, organisation: Organisation, **changes: object) -> api_clients.IssuedClient:
    fields: dict[str, object] = {
        "organisation_id": organisation.id,
        "name": "Procapita",
        "role": "social_worker",
        "scopes": ["referral:create", "referral:read"],
        **changes,
    }
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return api_clients.issue(uow, SYSTEM, api_clients.NewClient(**fields))  # type: ignore[arg-type]


def _row(app: Flask, client_id: str) -> ApiClient:
    with app.app_context():
        row = request_session().get(ApiClient, client_id)
        assert row is not None
        return row


def _verify(app: Flask, token: str) -> api_clients.VerifiedClient | None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        found = api_clients.verify(uow.session, token, clock.now())
        uow.commit()
        return found


def test_a_client_is_valid_for_a_year_unless_told_otherwise_and_never_past_two(
    app: Flask, district: Organisation, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    issued = _issue(app, district)
    assert issued.client.expires_at == frozen_clock.moment + timedelta(days=365)
    longest = _issue(app, district, valid_days=730)
    assert longest.client.expires_at == frozen_clock.moment + timedelta(days=730)
    with pytest.raises(InvalidInput) as refused:
        _issue(app, district, valid_days=731)
    assert refused.value.field == "valid_days"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"role": "group_leader"}, "role"),  # a partner's role, not a district's
        ({"role": "superuser"}, "role"),
        ({"scopes": ["audit:search"]}, "scopes"),  # the DPO's, not the role's
        ({"scopes": ["api_client:manage"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 51}, "name"),
    ],
)
def test_an_issue_that_breaks_a_rule_is_refused_on_its_field(
    app: Flask, district: Organisation, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _issue(app, district, **changes)
    assert refused.value.field == field
    with app.app_context():
        assert request_session().query(ApiClient).count() == 0


@pytest.mark.parametrize("role", ["admin", "dpo"])
def test_no_client_acts_as_an_administrator_or_the_data_protection_officer(
    app: Flask, factory: Factory, role: str
) -> None:
    """Managing accounts and auditing access stay with people signing in with a second
    factor: a long-lived token never does either."""
    city = factory.organisation("city")
    with pytest.raises(InvalidInput) as refused:
        _issue(app, city, role=role, scopes=["user:list"])
    assert refused.value.field == "role"
    with app.app_context(), UnitOfWork(request_session()) as uow:
        offered = {t.role for t in api_clients.targets(uow, SYSTEM)}
    assert Role.ADMIN not in offered and Role.DPO not in offered
    assert Role.LINK_WORKER in offered  # the city's own case roles are offered


def test_only_an_administrator_manages_clients_and_only_for_an_organisation_that_exists(
    app: Flask, factory: Factory, district: Organisation
) -> None:
    worker = social_worker_actor(factory, district)
    with app.app_context(), UnitOfWork(request_session()) as uow, pytest.raises(NotPermitted):
        api_clients.list_clients(uow, worker)
    with pytest.raises(NotFound):
        _issue(app, Organisation(id="no-such-organisation", name="x", kind="district"))


def test_the_token_verifies_to_its_client_and_nothing_else_does(
    app: Flask, district: Organisation
) -> None:
    issued = _issue(app, district)
    found = _verify(app, issued.token)
    assert found is not None
    assert (found.id, found.organisation_id, found.role, found.scopes) == (
        issued.client.id,
        district.id,
        Role.SOCIAL_WORKER,
        {"referral:create", "referral:read"},
    )
    actor = found.actor(Origin("r", "10.0.0.1"))
    assert (actor.user_id, actor.username) == (f"client:{issued.client.id}", "client:Procapita")
    # The same prefix with another ending is someone else's guess, not this client.
    guess = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    assert _verify(app, guess) is None
    assert _verify(app, issued.token.upper()) is None


def test_a_replacement_keeps_name_role_and_scopes_and_the_old_token_its_grace_days(
    app: Flask, district: Organisation, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    old = _issue(app, district, valid_days=30)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        new = api_clients.rotate(uow, SYSTEM, old.client.id)
    assert new.client.expires_at == frozen_clock.moment + timedelta(days=30)
    row = _row(app, old.client.id)
    assert row.replaced_by == new.client.id
    assert row.expires_at == frozen_clock.moment + timedelta(days=7)
    # Replaced once: a second replacement of the old one is refused (replace the new one).
    with app.app_context(), UnitOfWork(request_session()) as uow, pytest.raises(DomainError):
        api_clients.rotate(uow, SYSTEM, old.client.id)


def test_a_grace_never_outlasts_the_old_clients_own_expiry(
    app: Flask, district: Organisation, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    old = _issue(app, district, valid_days=3)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        api_clients.rotate(uow, SYSTEM, old.client.id, grace_days=30)
    assert _row(app, old.client.id).expires_at == frozen_clock.moment + timedelta(days=3)
    with app.app_context(), UnitOfWork(request_session()) as uow, pytest.raises(InvalidInput):
        api_clients.rotate(uow, SYSTEM, _issue(app, district).client.id, grace_days=31)


def test_a_revoked_client_cannot_be_replaced_and_is_listed_as_revoked(
    app: Flask, district: Organisation
) -> None:
    issued = _issue(app, district)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        assert api_clients.revoke(uow, SYSTEM, issued.client.id).status == "revoked"
    with app.app_context(), UnitOfWork(request_session()) as uow, pytest.raises(InvalidInput):
        api_clients.rotate(uow, SYSTEM, issued.client.id)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        (listed,) = api_clients.list_clients(uow, SYSTEM)
    assert (listed.id, listed.status) == (issued.client.id, "revoked")
    assert _verify(app, issued.token) is None
