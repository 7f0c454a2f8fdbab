"""Rate limits counted in Redis (REFERRAL_RATE_LIMIT_STORAGE_URI=redis://…): the login limit
holds there as in the database, Redis sees digests and never a client's address, and while
the counters cannot be reached a counted request is refused, never let through uncounted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.settings import Settings
from referral.web.limit_storage import key_secret
from referral.web.limit_storage_redis import HashedRedisCounters
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import csrf_token
from tests.live.conftest import free_port
from tests.redis_server import RedisForTests, redis_for_tests

LIMIT = 3
KEY = "LIMITER/127.0.0.1/auth.login/3/1/minute"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisForTests]:
    with redis_for_tests(tmp_path_factory.mktemp("redis")) as server:
        yield server


@contextmanager
def _app_counting_in(settings: Settings, uri: str) -> Iterator[Flask]:
    limited = replace(settings, login_rate_limit=f"{LIMIT} per minute", rate_limit_storage_uri=uri)
    with app_in_rolled_back_transaction(limited) as app:
        yield app


def _wrong_passwords(client: FlaskClient, count: int) -> list[int]:
    token = csrf_token(client)
    data = {"username": "nobody", "password": "not it", "csrf_token": token}
    return [client.post("/login", data=data).status_code for _ in range(count)]


@pytest.mark.asvs("V2.4.1", "V6.3.1")
def test_the_login_limit_counts_in_redis_under_a_digest_never_the_clients_address(
    base_settings: Settings, redis_server: RedisForTests
) -> None:
    redis_server.forget()
    with _app_counting_in(base_settings, redis_server.storage_uri) as app:
        statuses = _wrong_passwords(app.test_client(), LIMIT + 2)

    assert statuses == [401] * LIMIT + [429, 429]
    counters = redis_server.counters()
    assert list(counters.values()) == [LIMIT + 2]  # every attempt counted, in Redis
    (key,) = counters
    assert key.startswith(f"{redis_server.key_prefix}:")
    assert "127.0.0.1" not in key and "login" not in key


@pytest.mark.asvs("V16.3.4", "V16.5.2", "V16.5.3")
def test_a_login_is_refused_while_its_limit_cannot_be_counted_and_the_failure_is_logged(
    base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    nothing_listens = f"redis://:a-password@127.0.0.1:{free_port()}/0"
    with _app_counting_in(base_settings, nothing_listens) as app:
        client = app.test_client()
        page = client.get("/login")  # no limit counts a page that is only read
        with caplog.at_level(logging.ERROR, logger="referral.web.errors"):
            statuses = _wrong_passwords(client, 2)
            api = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})

    assert page.status_code == 200
    assert statuses == [503, 503]  # the password is not even checked: nothing is counted
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    assert api.headers["Retry-After"] == "30"
    logged = [r.getMessage() for r in caplog.records if "rate-limit storage" in r.getMessage()]
    assert (
        logged == ["rate-limit storage unreachable (ConnectionError): request refused with 503"] * 3
    )
    assert all("a-password" not in message for message in logged)


def test_reset_clears_this_prefixs_counters_and_no_one_elses(redis_server: RedisForTests) -> None:
    redis_server.forget()
    secret = key_secret("a session secret for these tests only")
    ours = HashedRedisCounters("referral+" + redis_server.storage_uri, key_secret=secret)
    neighbour_prefix = f"{redis_server.key_prefix}-neighbour"
    neighbour = HashedRedisCounters(
        f"referral+{redis_server.url}?key_prefix={neighbour_prefix}", key_secret=secret
    )
    try:
        assert [ours.incr(KEY, 60) for _ in range(3)] == [1, 2, 3]
        neighbour.incr(KEY, 60)

        ours.reset()

        assert ours.get(KEY) == 0
        assert neighbour.get(KEY) == 1
    finally:
        neighbour.reset()
