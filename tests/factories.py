"""Test factories: organisations, users with an enrolled authenticator, logged-in clients.

Names and numbers are invented. Usernames get a random suffix so that tests which commit
(browser tests) never collide with each other.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config.settings import Settings
from referral import clock
from referral.actors import Actor
from referral.auth import totp
from referral.db.models import Organisation, User
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import (
    activity_descriptions,
    children,
    consent,
    organisations,
    referrals,
    users,
)

PASSWORD = "correct horse battery staple"
_serial = itertools.cycle(range(100, 1000))


def invented_personnummer(year: int, month: int, day: int, serial: int | None = None) -> str:
    """An invented personnummer (YYYYMMDDNNNC) whose check digit is right (Luhn)."""
    serial = next(_serial) if serial is None else serial
    digits = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return f"{year:04d}{month:02d}{day:02d}{serial:03d}{(10 - total % 10) % 10}"


def social_worker_actor(factory: Factory, district: Organisation | None = None) -> Actor:
    """The actor of a social worker in `district` (a new one by default), without a login."""
    district = district or factory.organisation("district")
    return Actor(
        user_id=f"test-{secrets.token_hex(3)}",
        username="test-social-worker",
        organisation_id=district.id,
        roles=frozenset({Role.SOCIAL_WORKER}),
    )


SYSTEM = Actor.system_actor("tests")


def child_row(uow: UnitOfWork, registered: children.RegisteredChild) -> Child:
    """The district's record of a child just registered (the service answers with its id),
    for tests that look at the row itself."""
    row = uow.session.get(Child, registered.id)
    assert row is not None
    return row


# A code worked out closer than this to the end of its 30 seconds might reach the server
# after them (a browser test types it; a loaded machine answers slowly), when the server no
# longer takes it.
_TIME_LEFT_SECONDS = 2.0


class TotpTime:
    """The time TOTP steps are read by in this process: the codes worked out here and, while
    the suite runs, the service's own check (tests/conftest.py points referral.auth.totp at
    it).

    A code is taken once (the step is remembered), so a second login of one account must
    wait for the next 30-second step. When the server runs in this process (the test
    client, the browser tests' server thread), the clock is moved to the next step instead
    of sleeping: `virtual`, real time plus an offset that only grows. A server in another
    process (gunicorn, tests/live/conftest.py's LiveServer, which tests/assurance uses too)
    reads real time, so a code for it is worked out `in_real_time()` and the wait is real."""

    def __init__(self) -> None:
        self.virtual = False
        self._offset = 0.0

    def time(self) -> float:
        return time.time() + (self._offset if self.virtual else 0.0)

    def wait(self, seconds: float) -> None:
        if self.virtual:
            self._offset += seconds
        else:
            time.sleep(seconds)

    @contextmanager
    def in_real_time(self) -> Iterator[None]:
        virtual, self.virtual = self.virtual, False
        try:
            yield
        finally:
            self.virtual = virtual


TOTP_TIME = TotpTime()


def _step_with_time_left(after: int = -1) -> int:
    """The current TOTP step, once it is later than `after` and has time left: the server
    takes only the current step's code (referral/auth/totp.py), so this waits for the next
    step when needed (at most 30 seconds; see TotpTime)."""
    while True:
        now = TOTP_TIME.time()
        step = int(now // totp.STEP_SECONDS)
        ends_in = (step + 1) * totp.STEP_SECONDS - now
        if step > after and ends_in > _TIME_LEFT_SECONDS:
            return step
        # An account that signed in on the moved clock cannot sign in to a server reading
        # real time before real time catches up: fail rather than sleep for hours.
        assert TOTP_TIME.virtual or after <= step + 1, "signed in on the moved TOTP clock"
        TOTP_TIME.wait(ends_in + 0.01)


def code_for(seed: str, step: int | None = None) -> str:
    step = _step_with_time_left() if step is None else step
    return pyotp.TOTP(seed).at(step * totp.STEP_SECONDS)


@dataclass
class Account:
    app: Flask
    user: User  # as created; reload() for what the server has changed since
    seed: str
    password: str = PASSWORD

    @property
    def username(self) -> str:
        return self.user.username

    def reload(self) -> User:
        with self.app.app_context():
            user = request_session().get(User, self.user.id)
            assert user is not None
            return user

    def next_code(self) -> str:
        """A code the server has not seen yet and will still take: this step's, or, when it
        was used (the account signed in a moment ago) or is about to end, the next step's,
        after waiting for it."""
        return code_for(self.seed, _step_with_time_left(after=self.reload().totp_last_step))


class Factory:
    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def organisation(self, kind: str = "district", name: str | None = None) -> Organisation:
        name = name or f"Testorganisation {kind} {secrets.token_hex(3)}"
        with self.app.app_context():
            with UnitOfWork(request_session()) as uow:
                added = organisations.add_organisation(
                    uow, SYSTEM, organisations.NewOrganisation(name=name, kind=kind)
                )
            # A fresh read of the row, after the unit of work (whose end rolls back what was
            # read inside it): the tests hold their organisations as rows.
            organisation = request_session().get(Organisation, added.id)
        assert organisation is not None
        return organisation

    def account(
        self,
        role: str = "social_worker",
        organisation: Organisation | None = None,
        enrolled: bool = True,
    ) -> Account:
        kind = {"social_worker": "district", "group_leader": "partner"}.get(role, "city")
        organisation = organisation or self.organisation(kind)
        with self.app.app_context(), UnitOfWork(request_session()) as uow:
            added = users.add_user(
                uow,
                SYSTEM,
                users.NewUser(
                    username=f"{role.replace('_', '')}-{secrets.token_hex(3)}",
                    display_name=f"Test {role}",
                    organisation_id=organisation.id,
                    roles=[role],
                    password=PASSWORD,
                ),
            )
            # The row itself, to enrol the authenticator the test will use.
            user = uow.session.get(User, added.id)
            assert user is not None
            seed = totp.new_seed()
            if enrolled:
                user.totp_seed_encrypted = totp.seal_seed(self.settings.mfa_key, user.id, seed)
                user.totp_confirmed = True
            uow.commit()
        return Account(app=self.app, user=user, seed=seed)

    def activity_description(
        self,
        version: str = "A-2026:1",
        partner: Organisation | None = None,
        text: str = "Stödgrupper för familjehemsplacerade barn: åtta träffar om två timmar.",
    ) -> activity_descriptions.DescriptionView:
        """Publish a description of Programme A (for a new partner by default), so that
        consents may cite `version`."""
        partner = partner or self.organisation("partner")
        with self.app.app_context(), UnitOfWork(request_session()) as uow:
            return activity_descriptions.publish(
                uow,
                SYSTEM,
                activity_descriptions.NewDescription(
                    activity_descriptions.SUPPORT_GROUP, partner.id, version, text
                ),
            )


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    marker = 'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def log_in_with_password(client: FlaskClient, account: Account, password: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client)
    return client.post(
        "/login",
        data={
            "username": account.username,
            "password": password or account.password,
            "csrf_token": token,
        },
    )


def submit_code(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/mfa")
    return client.post("/mfa", data={"code": code, "csrf_token": token})


def log_in(client: FlaskClient, account: Account) -> None:
    """Password, then a fresh TOTP code: a fully verified session."""
    response = log_in_with_password(client, account)
    assert response.status_code == 302, response.get_data(as_text=True)
    response = submit_code(client, account.next_code())
    assert response.status_code == 302, response.status_code


def command_environment(settings: Settings) -> dict[str, str]:
    """The environment for running `flask ...` in a subprocess against these settings."""
    return {
        **os.environ,
        "FLASK_APP": "referral",
        "REFERRAL_ENV": "test",
        "REFERRAL_DATABASE_URL": settings.database_url,
        "REFERRAL_SECRET_KEY": settings.secret_key,
        "REFERRAL_MFA_KEY": settings.mfa_key,
        "REFERRAL_BLIND_INDEX_KEY": settings.blind_index_key,
        "REFERRAL_AUDIT_KEY": settings.audit_key,
        "REFERRAL_KEYRING_PATH": settings.keyring_path,
        "REFERRAL_AUDIT_CHECKPOINT_DIR": settings.audit_checkpoint_dir,
        "REFERRAL_AUDIT_SIGNING_KEY_PATH": settings.audit_signing_key_path,
        "REFERRAL_AUDIT_CHECKPOINT_EVERY": str(settings.audit_checkpoint_every),
    }


@dataclass
class ApiClient:
    """A logged-in API client that sends the CSRF header with every write."""

    client: FlaskClient
    headers: dict[str, str]

    def get(self, path: str) -> TestResponse:
        return self.client.get(path)

    def post(self, path: str, body: object = None) -> TestResponse:
        return self.client.post(path, json=body, headers=self.headers)

    def put(self, path: str, body: object) -> TestResponse:
        return self.client.put(path, json=body, headers=self.headers)

    def send(self, method: str, path: str, body: object) -> TestResponse:
        return self.client.open(path, method=method, json=body, headers=self.headers)


def api_client(app: Flask, account: Account) -> ApiClient:
    """Logged in with password and code; the CSRF token comes from GET /api/v1/me."""
    client = app.test_client()
    log_in(client, account)
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    return ApiClient(client, {"X-CSRFToken": me.headers["X-CSRFToken"]})


def placed_under_sol_with_consent(
    uow: UnitOfWork,
    worker: Actor,
    child_id: str,
    *,
    on: date,
    until: date,
    description: str,
    guardian: str = "Vårdnadshavare Påhittad",
    categories: tuple[str, ...] = ("name", "age", "participation"),
) -> str:
    """Under SoL, the one custodian's written consent given on `on` and lasting `until` (the
    activity description `description` must be published); the guardian's id."""
    consent.record_placement(uow, worker, child_id, "SoL", today=on)
    added = consent.add_guardian(uow, worker, child_id, guardian, None, True, today=on)
    consent.record_consent(
        uow,
        worker,
        child_id,
        consent.ConsentInput(
            party=added.id,
            decision="given",
            categories=categories,
            decided_on=on,
            valid_until=until,
            method="written",
            description_version=description,
        ),
        today=on,
    )
    return added.id


def referred(uow: UnitOfWork, worker: Actor, child_id: str, partner_id: str, *, on: date) -> str:
    """A weekly-group referral of the child to the partner, submitted on `on` (shared at once
    when sharing is lawful); the referral's id."""
    referral = referrals.create_referral(
        uow, worker, referrals.NewReferral(child_id, partner_id, "weekly"), today=on
    )
    referrals.submit_referral(uow, worker, referral.id, on)
    return referral.id


def consent_body(party: str, description: str) -> dict[str, object]:
    """A party's written consent given today, as an API client sends it (and as
    bench/http_bench.py writes it): `party` is a custodian's id, or "child"."""
    today = clock.today()
    return {
        "party": party,
        "decision": "given",
        "categories": ["name", "age", "contact_details", "participation"],
        "decided_on": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "method": "written",
        "description_version": description,
    }
