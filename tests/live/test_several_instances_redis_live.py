"""Two instances on one PostgreSQL database with their rate limits counted in Redis
(REFERRAL_RATE_LIMIT_STORAGE_URI=redis://…), deployed as docs/deployment.md says: each its own
gunicorn (two workers) behind one reverse proxy (REFERRAL_TRUSTED_PROXIES=1).

The Redis is the test's own redis-server on a free loopback port when one is installed, else
the one on 127.0.0.1:6379 under a key prefix of this run's own (tests/redis_server.py), else
the module is skipped. One client's failed logins are counted together whichever instance
answers, in Redis and not in the database; Redis holds digests, never the client's address;
and while Redis hangs, both instances refuse a login rather than let it through uncounted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bench.http_server import Server
from config.settings import Settings
from tests.live.deployment import (
    ONLY_ON_POSTGRES,
    Deployment,
    deployment,
    rate_limit_counters_in_database,
    wrong_password,
)
from tests.redis_server import RedisForTests, redis_for_tests

LOGIN_LIMIT = 6
# Addresses for documentation (RFC 5737): clients as the proxy names them.
CLIENT = "198.51.100.7"
OTHER_CLIENT = "198.51.100.8"
PATIENT_CLIENT = "198.51.100.9"
LATE_CLIENT = "198.51.100.10"

pytestmark = ONLY_ON_POSTGRES


@dataclass
class Instances:
    deployment: Deployment
    redis: RedisForTests
    a: Server
    b: Server


@pytest.fixture(scope="module")
def redis_limits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisForTests]:
    with redis_for_tests(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def instances(
    base_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    redis_limits: RedisForTests,
) -> Iterator[Instances]:
    with (
        deployment(
            base_settings,
            tmp_path_factory,
            "instances_redis",
            checkpoint_every=0,
            LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
            TRUSTED_PROXIES="1",
            RATE_LIMIT_STORAGE_URI=redis_limits.storage_uri,
        ) as shared,
        shared.serve("a", "referral.wsgi:app") as a,
        shared.serve("b", "referral.wsgi:app") as b,
    ):
        yield Instances(shared, redis_limits, a, b)


@pytest.mark.asvs("V2.4.1", "V6.3.1")
def test_one_clients_failed_logins_are_counted_together_in_redis_whichever_instance_answers(
    instances: Instances,
) -> None:
    a, b, redis = instances.a, instances.b, instances.redis

    spread = [wrong_password(a if n % 2 == 0 else b, CLIENT) for n in range(LOGIN_LIMIT + 2)]
    another = [wrong_password(b, OTHER_CLIENT), wrong_password(a, OTHER_CLIENT)]

    assert spread == [401] * LOGIN_LIMIT + [429, 429]
    assert another == [401, 401]
    # One counter per client in Redis, every attempt counted (the refused ones too), and
    # none in the database's table.
    counters = redis.counters()
    assert sorted(counters.values()) == [2, LOGIN_LIMIT + 2]
    assert rate_limit_counters_in_database(instances.deployment) == 0


def test_redis_holds_keyed_digests_under_the_prefix_never_a_clients_address(
    instances: Instances,
) -> None:
    keys = list(instances.redis.counters())

    assert keys, "the test before counted in Redis"
    for key in keys:
        prefix, digest = key.split(":")
        assert prefix == instances.redis.key_prefix
        assert len(digest) == 64 and int(digest, 16) >= 0  # HMAC-SHA256, hex
    assert not any(CLIENT in key or OTHER_CLIENT in key for key in keys)


@pytest.mark.asvs("V16.3.4", "V16.5.2", "V16.5.3")
def test_while_redis_hangs_both_instances_refuse_a_login_and_answer_again_when_it_is_back(
    instances: Instances,
) -> None:
    a, b = instances.a, instances.b

    with instances.redis.hung():
        started = time.monotonic()
        during = [wrong_password(a, PATIENT_CLIENT), wrong_password(b, PATIENT_CLIENT)]
        waited = (time.monotonic() - started) / 2
    # Another client: the attempts sent while Redis hung may still be counted when it wakes.
    after = [wrong_password(a, LATE_CLIENT), wrong_password(b, LATE_CLIENT)]

    assert during == [503, 503]  # refused, not let through uncounted
    assert waited < 10  # redis-py's timeouts, well inside gunicorn's 30 s worker timeout
    assert after == [401, 401]
    for server in (a, b):
        assert "rate-limit storage unreachable (TimeoutError)" in server.log.read_text()
    print(f"\nA login while Redis hangs is refused after {waited:.1f} s")
