"""The shared rate-limit counters count like Flask-Limiter's own fixed windows, keep no
client address in the clear, and start afresh when a window ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from referral.web import limit_storage
from referral.web.limit_storage import COUNTERS, DatabaseCounters, storage_uri
from referral.web.limit_storage_redis import split_key_prefix

SECRET = limit_storage.key_secret("a session secret for these tests only")
KEY = "LIMITER/127.0.0.1/auth.login/6/1/minute"


@pytest.fixture
def counters(tmp_path: Path) -> DatabaseCounters:
    return DatabaseCounters(f"referral+sqlite:///{tmp_path / 'limits.sqlite3'}", key_secret=SECRET)


def test_hits_add_up_within_a_window_and_each_key_counts_alone(counters: DatabaseCounters) -> None:
    assert [counters.incr(KEY, 60) for _ in range(3)] == [1, 2, 3]
    assert counters.incr("another key", 60) == 1
    assert counters.get(KEY) == 3


def test_a_window_that_has_ended_counts_from_one_again(
    counters: DatabaseCounters, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_800_000_000.0
    monkeypatch.setattr(limit_storage.time, "time", lambda: now)
    counters.incr(KEY, 60)
    counters.incr(KEY, 60)
    assert counters.get_expiry(KEY) == now + 60

    now += 61
    assert counters.get(KEY) == 0
    assert counters.incr(KEY, 60) == 1
    assert counters.get_expiry(KEY) == now + 60


def test_the_table_holds_a_keyed_digest_and_never_the_clients_address(
    counters: DatabaseCounters, tmp_path: Path
) -> None:
    counters.incr(KEY, 60)
    engine = create_engine(f"sqlite:///{tmp_path / 'limits.sqlite3'}")
    with engine.connect() as connection:
        stored = connection.execute(select(COUNTERS.c.key_digest)).scalars().all()
    engine.dispose()
    assert len(stored) == 1
    assert b"127.0.0.1" not in stored[0]
    assert len(stored[0]) == 32


def test_clear_and_reset_forget_counts(counters: DatabaseCounters) -> None:
    counters.incr(KEY, 60)
    counters.incr("another key", 60)
    counters.clear(KEY)
    assert counters.get(KEY) == 0
    assert counters.get("another key") == 1
    assert counters.reset() == 1
    assert counters.check()


def test_by_default_the_counters_live_beside_the_database_and_are_shared() -> None:
    assert storage_uri("", "sqlite:////srv/referral/referral.sqlite3") == (
        "referral+sqlite:////srv/referral/referral.sqlite3.rate-limits"
    )
    assert storage_uri("", "postgresql+psycopg://db.example/referral") == (
        "referral+postgresql+psycopg://db.example/referral"
    )
    assert storage_uri("memory://", "sqlite:///x.sqlite3") == "memory://"


def test_a_redis_uri_goes_to_the_storage_that_hashes_keys_under_the_uris_own_prefix() -> None:
    assert storage_uri("rediss://cache.example:6380/1", "sqlite:///x.sqlite3") == (
        "referral+rediss://cache.example:6380/1"
    )
    assert split_key_prefix("redis://cache.example:6379/0?key_prefix=referral-prod") == (
        "redis://cache.example:6379/0",
        "referral-prod",
    )
    assert split_key_prefix("redis://:pw@cache.example/2") == (
        "redis://:pw@cache.example/2",
        "referral-limits",
    )
