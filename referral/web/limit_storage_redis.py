"""Flask-Limiter's counters in Redis, for a deployment that runs one (docs/deployment.md).

REFERRAL_RATE_LIMIT_STORAGE_URI=redis://host:6379/0 (rediss:// for TLS) puts every counter
in Redis instead of the database. This is limits' own RedisStorage with three changes:

- each key is an HMAC digest of limits' key (as in the database storage), so Redis never
  holds a client's address or an API client's id, not even for the window;
- keys begin with the URI's `key_prefix` (default `referral-limits`), so that deployments and
  tests sharing one Redis keep apart, and `reset` clears only this service's counters;
- a Redis that does not answer fails the request within seconds (REDIS_TIMEOUT_SECONDS, one
  retry without backoff) instead of redis-py's default of three retries with backoff; the app
  then refuses the request (503), never lets it through uncounted (referral/web/errors.py).

redis-py is imported only when such a storage is made, so a worker on the database storage
never loads it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from limits.storage import RedisStorage

SCHEME_PREFIX = "referral+"
SCHEMES = ("redis", "rediss")
KEY_PREFIX_OPTION = "key_prefix"
DEFAULT_KEY_PREFIX = "referral-limits"
# Connecting and each answer; a login waits at most about twice this when Redis is gone.
REDIS_TIMEOUT_SECONDS = 2.0


def is_redis(uri: str) -> bool:
    return urlsplit(uri).scheme in SCHEMES


def split_key_prefix(uri: str) -> tuple[str, str]:
    """The Redis URI without our own query option, and the key prefix it named."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == KEY_PREFIX_OPTION]
    rest = [(name, value) for name, value in query if name != KEY_PREFIX_OPTION]
    prefix = prefixes[-1] if prefixes else DEFAULT_KEY_PREFIX
    return urlunsplit(parts._replace(query=urlencode(rest))), prefix


def _fail_fast() -> dict[str, Any]:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        # One retry mends a pooled connection that died with a restarted Redis.
        "retry": Retry(NoBackoff(), 1),
    }


class HashedRedisCounters(RedisStorage):
    """limits' Redis storage with keyed-digest keys under the service's own prefix."""

    STORAGE_SCHEME: list[str] = [  # noqa: RUF012 - limits registers schemes from this
        SCHEME_PREFIX + scheme for scheme in SCHEMES
    ]

    def __init__(
        self,
        uri: str,
        wrap_exceptions: bool = False,
        key_secret: bytes = b"",
        **options: Any,
    ) -> None:
        if not key_secret:
            raise ValueError("HashedRedisCounters needs a key secret")
        self._key_secret = key_secret
        redis_uri, prefix = split_key_prefix(uri.removeprefix(SCHEME_PREFIX))
        super().__init__(
            redis_uri,
            key_prefix=prefix,
            wrap_exceptions=wrap_exceptions,
            **{**_fail_fast(), **options},
        )

    def prefixed_key(self, key: str) -> str:
        # `reset` asks for the pattern of every key under the prefix: that stays a pattern.
        if key == "*":
            return super().prefixed_key(key)
        digest = hmac.new(self._key_secret, key.encode(), hashlib.sha256).hexdigest()
        return super().prefixed_key(digest)
