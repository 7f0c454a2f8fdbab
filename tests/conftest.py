"""Shared fixtures: a migrated database per run, a rolled-back transaction per test.

TEST_DATABASE_URL picks the database (SQLite in a temporary file by default; CI sets a
PostgreSQL URL). Each test that uses `app` runs inside one outer transaction that is rolled
back at the end, so tests never see each other's data. Tests on the default settings share
one app (`shared_app`); a test with settings of its own gets an app of its own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, create_engine, text

from audit.checkpoints import generate_signing_key, private_pem
from config.settings import Environment, Settings
from crypto import LocalKeyring
from referral import clock, create_app, return_signing
from referral.auth import totp
from referral.db import migrate
from referral.request_scope import get_database
from referral.web.limits import limiter
from tests.factories import TOTP_TIME, Factory

pytest_plugins = ["tests.asvs_marker"]  # @pytest.mark.asvs(...): README's ASVS table

# Properties assert behaviour, never speed (performance is measured in bench/): without a
# deadline, an example slowed by a busy machine is not reported as a flaky failure.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def totp_steps_without_sleeping() -> Iterator[None]:
    """The service checks codes by TOTP_TIME, which moves to the next step instead of
    sleeping for it (tests/factories.py, TotpTime); a login to gunicorn in another process
    works its code out in real time (tests/live/conftest.py, LiveServer.log_in)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(totp, "time", TOTP_TIME)
        TOTP_TIME.virtual = True
        yield
        TOTP_TIME.virtual = False


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def keyring_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("keys") / "keyring.json"
    LocalKeyring.create(path)
    return str(path)


@pytest.fixture(scope="session")
def audit_paths(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    directory = tmp_path_factory.mktemp("audit")
    signing_key = directory / "signing-key.pem"
    signing_key.write_bytes(private_pem(generate_signing_key()))
    signing_key.chmod(0o600)
    return str(directory / "checkpoints"), str(signing_key)


@pytest.fixture(scope="session")
def return_signing_key_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The key that signs files returned to social services: its own, never the audit key."""
    path = tmp_path_factory.mktemp("returns") / "return-signing-key.pem"
    return_signing.create_key(path)
    return str(path)


@pytest.fixture(scope="session")
def base_settings(
    database_url: str,
    keyring_path: str,
    audit_paths: tuple[str, str],
    return_signing_key_path: str,
) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(48),
        mfa_key=secrets.token_urlsafe(48),
        blind_index_key=secrets.token_urlsafe(48),
        keyring_path=keyring_path,
        audit_key=secrets.token_urlsafe(48),
        audit_checkpoint_dir=audit_paths[0],
        audit_signing_key_path=audit_paths[1],
        audit_checkpoint_every=0,  # tests that want automatic checkpoints ask for them
        return_signing_key_path=return_signing_key_path,
        # Generous by default; the rate-limit test builds an app with a tight limit.
        login_rate_limit="1000 per minute",
        # Each in-process app counts on its own; the live servers use the shared default.
        rate_limit_storage_uri="memory://",
    )


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings


@contextmanager
def app_in_rolled_back_transaction(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    try:
        with rolled_back(app):
            yield app
    finally:
        get_database(app).engine.dispose()


@contextmanager
def rolled_back(app: Flask) -> Iterator[Connection]:
    """Every session of `app` inside one outer transaction (on the connection yielded),
    rolled back at the end."""
    database = get_database(app)
    cipher = database.cipher
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to(connection)
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()
        if cipher is not None:
            database.use_cipher(cipher)  # unbinds too: a test may have swapped the cipher


@pytest.fixture(scope="session")
def shared_app(base_settings: Settings) -> Iterator[Flask]:
    """One app for every test on the default settings. Building an app compiles some 1 100
    URL rules and the OpenAPI document, about 0.13 s: once for each of some 6 900 tests, that
    was some 14 minutes a pass. What a test leaves behind is undone per test (see `app`)."""
    app = create_app(base_settings)
    yield app
    get_database(app).engine.dispose()


@pytest.fixture
def app(
    settings: Settings, base_settings: Settings, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    if settings is not base_settings:
        with app_in_rolled_back_transaction(settings) as app:
            yield app
        return
    app = request.getfixturevalue("shared_app")
    # The rate limiter is one object for every app (Flask-Limiter keeps its storage on the
    # extension, not the app): counts start empty for each test, as with an app of its own.
    limiter.init_app(app)
    with rolled_back(app):
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def factory(app: Flask, settings: Settings) -> Factory:
    return Factory(app, settings)


@pytest.fixture
def settings_with(base_settings: Settings):  # type: ignore[no-untyped-def]
    """Settings with some fields changed, e.g. settings_with(session_idle_minutes=1)."""

    def make(**changes: object) -> Settings:
        return replace(base_settings, **changes)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


class FrozenClock:
    """The service's one clock (referral.clock), stopped at a moment and moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
        self.moment = moment
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    def move(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Just before midnight in Stockholm on 1 March 2027 (22:59:30 UTC, winter time)."""
    return FrozenClock(monkeypatch, datetime(2027, 3, 1, 22, 59, 30, tzinfo=UTC))
