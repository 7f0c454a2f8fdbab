"""A city system calls the API with its client's bearer token: a district's case system
creates a referral and reads it back, within its scopes and its organisation only, without
cookies or CSRF, counted against its own rate limit; an expired, revoked or replaced token
stops working; the token is never in a log line or the access log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, fields

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from config.settings import Settings
from referral import clock
from referral.auth import api_clients
from referral.db.audit_log import AuditEntry
from referral.db.identity import ApiClient
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import audit_search, children
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import (
    SYSTEM,
    Factory,
    api_client,
    invented_personnummer,
    social_worker_actor,
)


@dataclass
class World:
    app: Flask
    factory: Factory
    district: Organisation
    partner: Organisation
    child_id: str

    def issue(
        self, scopes: set[str], organisation: Organisation | None = None, name: str = "Procapita"
    ) -> api_clients.IssuedClient:
        with self.app.app_context(), UnitOfWork(request_session()) as uow:
            return api_clients.issue(
                uow,
                SYSTEM,
                api_clients.NewClient(
                    organisation_id=(organisation or self.district).id,
                    name=name,
                    role="social_worker",
                    scopes=scopes,
                ),
            )

    def system(self) -> FlaskClient:
        """A system's HTTP client: it keeps no cookie between calls."""
        return self.app.test_client(use_cookies=False)

    def call(self, token: str, method: str, path: str, body: object = None) -> TestResponse:
        return self.system().open(
            path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )

    def refer(self, token: str) -> TestResponse:
        body = {
            "child_id": self.child_id,
            "partner_id": self.partner.id,
            "preferred_format": "weekly",
        }
        return self.call(token, "POST", "/api/v1/referrals", body)


def make_world(app: Flask, factory: Factory) -> World:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow,
            social_worker_actor(factory, district),
            children.NewChild(invented_personnummer(2016, 4, 2), "Systembarn Qwyx"),
            today=clock.today(),
        )
    return World(app, factory, district, partner, child.id)


@pytest.fixture
def world(app: Flask, factory: Factory) -> World:
    return make_world(app, factory)


def _problem(response: TestResponse, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    detail: str = response.get_json()["detail"]
    return detail


def _entries(app: Flask, action: str | None = None) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.sequence)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(request_session().scalars(query))


def test_a_districts_system_creates_a_referral_and_reads_it_back_with_its_token_alone(
    world: World,
) -> None:
    issued = world.issue({"referral:create", "referral:read"})
    created = world.refer(issued.token)
    assert created.status_code == 201, created.get_json()
    assert "Set-Cookie" not in created.headers
    referral_id = created.get_json()["id"]

    read = world.call(issued.token, "GET", f"/api/v1/referrals/{referral_id}")
    assert read.status_code == 200, read.get_json()
    assert read.get_json()["status"] == "draft"
    listed = world.call(issued.token, "GET", "/api/v1/referrals")
    assert [r["id"] for r in listed.get_json()] == [referral_id]

    # Audited under the client's name, in its organisation and role, as a person would be.
    (entry,) = _entries(world.app, "referral:create")
    client_id = issued.client.id
    assert (entry.actor_id, entry.actor_name) == (f"client:{client_id}", "client:Procapita")
    assert (entry.actor_organisation_id, entry.actor_roles) == (world.district.id, "social_worker")
    assert _entries(world.app, "referral:read")[-1].actor_id == f"client:{client_id}"


@pytest.mark.asvs("V8.2.1", "V16.3.2")
def test_a_call_outside_the_clients_scopes_is_refused_naming_the_scope_and_logged(
    world: World,
) -> None:
    reader = world.issue({"referral:read"})
    detail = _problem(world.refer(reader.token), 403)
    assert "referral:create" in detail
    denial = _entries(world.app, "access:denied")[-1]
    assert (denial.actor_id, denial.object_id) == (
        f"client:{reader.client.id}",
        "api_referrals.Referrals",
    )
    # A permission the role itself lacks is refused as it is for a person of the role.
    assert "audit:search" in _problem(world.call(reader.token, "GET", "/api/v1/audit/entries"), 403)


def _refused_as_invalid(response: TestResponse) -> None:
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    "token",
    [
        "iop_" + "A" * 43,  # well formed, never issued
        "iop_short",
        "not-a-token-at-all",
        "",
        "iop_" + "A" * 42 + "\u00e5",
    ],
    ids=["unknown", "too short", "not ours", "empty", "not ascii"],
)
def test_a_token_the_service_did_not_issue_is_refused_as_invalid(world: World, token: str) -> None:
    _refused_as_invalid(world.call(token, "GET", "/api/v1/referrals"))


def test_an_expired_token_is_refused(world: World, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    issued = world.issue({"referral:read"})
    assert world.call(issued.token, "GET", "/api/v1/referrals").status_code == 200
    frozen_clock.move(days=api_clients.DEFAULT_VALID_DAYS, seconds=1)
    _refused_as_invalid(world.call(issued.token, "GET", "/api/v1/referrals"))


def test_a_revoked_token_is_refused_at_once(world: World) -> None:
    issued = world.issue({"referral:read"})
    assert world.call(issued.token, "GET", "/api/v1/referrals").status_code == 200
    with world.app.app_context(), UnitOfWork(request_session()) as uow:
        api_clients.revoke(uow, SYSTEM, issued.client.id)
    _refused_as_invalid(world.call(issued.token, "GET", "/api/v1/referrals"))
    assert _entries(world.app, "api_client:revoke")[-1].object_id == issued.client.id
    # The refused call is on record, naming the token by the prefix the admin list shows.
    refused = _entries(world.app, "access:denied")[-1]
    assert (refused.object_type, refused.object_id, refused.outcome) == (
        "api_token",
        issued.client.token_prefix,
        "denied",
    )
    assert issued.token not in repr([getattr(refused, c.key) for c in refused.__table__.columns])


def test_a_replaced_token_works_through_its_grace_days_and_then_stops(
    world: World,
    frozen_clock,  # type: ignore[no-untyped-def]
) -> None:
    old = world.issue({"referral:read"})
    with world.app.app_context(), UnitOfWork(request_session()) as uow:
        new = api_clients.rotate(uow, SYSTEM, old.client.id, grace_days=2)
    assert (new.client.name, new.client.role, new.client.scopes) == (
        old.client.name,
        old.client.role,
        old.client.scopes,
    )
    assert new.token != old.token
    with world.app.app_context():
        row = request_session().get(ApiClient, old.client.id)
        assert row is not None and row.replaced_by == new.client.id
    for token in (old.token, new.token):
        assert world.call(token, "GET", "/api/v1/referrals").status_code == 200
    frozen_clock.move(days=2, seconds=1)
    _refused_as_invalid(world.call(old.token, "GET", "/api/v1/referrals"))
    assert world.call(new.token, "GET", "/api/v1/referrals").status_code == 200


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_another_organisations_system_finds_nothing_of_this_ones(world: World) -> None:
    ours = world.issue({"referral:create", "referral:read"})
    referral_id = world.refer(ours.token).get_json()["id"]
    elsewhere = world.factory.organisation("district")
    theirs = world.issue({"referral:create", "referral:read"}, organisation=elsewhere)

    _problem(world.call(theirs.token, "GET", f"/api/v1/referrals/{referral_id}"), 404)
    assert world.call(theirs.token, "GET", "/api/v1/referrals").get_json() == []
    _problem(world.refer(theirs.token), 404)  # our child is no record of theirs


@pytest.mark.asvs("V3.5.1")
def test_a_bearer_request_needs_no_csrf_token_while_a_browser_session_still_does(
    world: World,
) -> None:
    issued = world.issue({"referral:create"})
    assert world.refer(issued.token).status_code == 201  # no X-CSRFToken sent

    person = api_client(world.app, world.factory.account("social_worker", world.district))
    body = {
        "child_id": world.child_id,
        "partner_id": world.partner.id,
        "preferred_format": "weekly",
    }
    assert person.client.post("/api/v1/referrals", json=body).status_code == 400
    assert person.post("/api/v1/referrals", body).status_code == 201
    # A token beside the session cookie does not spare the cookie's request the check.
    both = person.client.post(
        "/api/v1/referrals", json=body, headers={"Authorization": f"Bearer {issued.token}"}
    )
    assert both.status_code == 400


def test_a_token_is_refused_outside_the_api(world: World) -> None:
    issued = world.issue({"referral:read"})
    for path in ("/", "/login", "/admin/api-clients"):
        response = world.system().get(path, headers={"Authorization": f"Bearer {issued.token}"})
        assert response.status_code == 400, path


def test_the_client_is_marked_used_at_most_once_a_minute(
    world: World,
    frozen_clock,  # type: ignore[no-untyped-def]
) -> None:
    issued = world.issue({"referral:read"})

    def last_used() -> object:
        with world.app.app_context():
            row = request_session().get(ApiClient, issued.client.id)
            assert row is not None
            return row.last_used_at

    assert last_used() is None
    world.call(issued.token, "GET", "/api/v1/referrals")
    first = last_used()
    assert first == frozen_clock.moment
    frozen_clock.move(seconds=30)
    world.call(issued.token, "GET", "/api/v1/referrals")
    assert last_used() == first
    frozen_clock.move(seconds=31)
    world.call(issued.token, "GET", "/api/v1/referrals")
    assert last_used() == frozen_clock.moment


@pytest.fixture
def tight_app(settings_with) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    settings: Settings = settings_with(api_client_rate_limit="3 per minute")
    with app_in_rolled_back_transaction(settings) as app:
        yield app


@pytest.mark.asvs("V2.4.1")
def test_each_client_is_rate_limited_on_its_own(tight_app: Flask, settings_with) -> None:  # type: ignore[no-untyped-def]
    world = make_world(tight_app, Factory(tight_app, settings_with()))
    busy = world.issue({"referral:read"}, name="Busy")
    calm = world.issue({"referral:read"}, name="Calm")
    for _ in range(3):
        assert world.call(busy.token, "GET", "/api/v1/referrals").status_code == 200
    refused = world.call(busy.token, "GET", "/api/v1/referrals")
    _problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert world.call(calm.token, "GET", "/api/v1/referrals").status_code == 200


@pytest.mark.asvs("V16.2.5")
def test_the_token_is_in_no_log_line_and_no_access_log_entry(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = world.issue({"referral:create", "referral:read"})
    world.refer(issued.token)
    world.call(issued.token, "GET", "/api/v1/children")  # refused: no scope
    world.call(issued.token, "GET", "/")  # refused: not the API
    with world.app.app_context(), UnitOfWork(request_session()) as uow:
        replaced = api_clients.rotate(uow, SYSTEM, issued.client.id)
    with world.app.app_context(), UnitOfWork(request_session()) as uow:
        api_clients.revoke(uow, SYSTEM, replaced.client.id)
    world.call(replaced.token, "GET", "/api/v1/referrals")  # refused: revoked
    world.call(replaced.token + "x", "GET", "/api/v1/referrals")  # refused: malformed

    secrets = {issued.token, replaced.token, issued.token[12:], replaced.token[12:]}
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert not [s for s in secrets if s in logged]
    entries = _entries(world.app)
    assert {"api_client:issue", "api_client:rotate", "api_client:revoke"} <= {
        e.action for e in entries
    }
    with world.app.app_context():
        columns = [c.key for c in AuditEntry.__table__.columns]
        for entry in entries:
            stored = " ".join(str(getattr(entry, c, "")) for c in columns)
            assert not [s for s in secrets if s in stored], entry.action
    # Nor does the table keep it: only its hash and the prefix that names it.
    with world.app.app_context():
        row = request_session().get(ApiClient, issued.client.id)
        assert row is not None
        kept = " ".join(str(getattr(row, f.key)) for f in ApiClient.__table__.columns)
        assert issued.token not in kept and issued.token[12:] not in kept
        assert row.token_hash == api_clients.token_hash(issued.token)
        assert row.token_prefix == issued.token[:12]


@pytest.mark.asvs("V11.5.1")
def test_a_token_is_the_mark_and_256_random_bits() -> None:
    tokens = {api_clients.new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert api_clients.well_formed(token)
        assert token.startswith("iop_") and len(token) == 4 + 43


def test_the_issued_view_never_carries_the_hash() -> None:
    assert "token_hash" not in {f.name for f in fields(api_clients.ClientView)}


def test_a_system_asking_who_it_is_learns_its_client_name_organisation_and_role(
    world: World,
) -> None:
    issued = world.issue({"profile:read"}, name="Treserva Farsta")
    answer = world.call(issued.token, "GET", "/api/v1/me")
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["username"], body["organisation_id"], body["roles"]) == (
        "client:Treserva Farsta",
        world.district.id,
        ["social_worker"],
    )
    assert "X-CSRFToken" not in answer.headers  # no session, so no CSRF token to hand out


@pytest.mark.asvs("V2.4.1")
def test_refused_tokens_from_one_address_are_bounded_before_they_reach_the_log(
    settings_with,  # type: ignore[no-untyped-def]
) -> None:
    """Each refused token is an access-log entry: past the login rate from one address the
    caller is told to wait and nothing more is written, so no one can flood the log."""
    settings: Settings = settings_with(login_rate_limit="3 per minute")
    with app_in_rolled_back_transaction(settings) as app:
        world = make_world(app, Factory(app, settings))
        before = len(_entries(app, "access:denied"))
        for attempt in range(3):
            _refused_as_invalid(world.call(f"junk-{attempt}", "GET", "/api/v1/me"))
        flooded = world.call("junk-more", "GET", "/api/v1/me")
        _problem(flooded, 429)
        assert 1 <= int(flooded.headers["Retry-After"]) <= 60
        assert len(_entries(app, "access:denied")) == before + 3


def test_the_dpo_finds_a_systems_calls_by_its_client_name_or_id(world: World) -> None:
    issued = world.issue({"referral:create", "referral:read"}, name="Treserva Farsta")
    assert world.refer(issued.token).status_code == 201
    with world.app.app_context(), UnitOfWork(request_session()) as uow:
        by_name = audit_search.search(
            uow, SYSTEM, audit_search.AuditFilter(actor="client:Treserva Farsta")
        )
        by_id = audit_search.search(
            uow, SYSTEM, audit_search.AuditFilter(actor=f"client:{issued.client.id}")
        )
    assert by_name.entries and by_id.entries
    assert {e.actor_id for e in by_name.entries + by_id.entries} == {f"client:{issued.client.id}"}
