"""Flask-Limiter counters in a database, so every gunicorn worker counts the same attempts.

Flask-Limiter's default in-memory storage counts per process: with two workers a limit of
20 logins a minute let about 40 through. This storage keeps fixed-window counters in a table
(`rate_limit_counters`) that all workers share, without a service beyond the database:

- on PostgreSQL, in the service's own database (migration 0015);
- on SQLite, in a file of its own beside the database, because the request's transaction
  may already hold the database's write lock when the limit is counted (once it has
  written), and a second connection to the same file would wait for it.

Redis can hold them instead: REFERRAL_RATE_LIMIT_STORAGE_URI=redis://… or rediss://… (see
referral/web/limit_storage_redis.py). Keys here are HMAC digests (the key names the client's
address), and expired counters are deleted as new ones are counted, so nothing outlives its
window by long.

Whichever storage holds them, a counter that cannot be counted refuses the request: storage
errors are raised as limits' StorageError (wrap_exceptions), which the app answers with 503
(referral/web/errors.py), and Flask-Limiter neither swallows them nor falls back to counting
in memory (referral/__init__.py).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from limits.storage import Storage
from sqlalchemy import Engine, Table, case, create_engine, delete, event, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from referral.db.files import prepare_sqlite_file, sqlite_path
from referral.db.rate_limits import RateLimitCounter
from referral.web.limit_storage_redis import SCHEME_PREFIX, is_redis

# Importing the Redis storage above registers its referral+redis schemes with limits.
COUNTERS: Table = RateLimitCounter.__table__  # type: ignore[assignment]
# How long a counter waits for another worker's increment on SQLite (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def storage_uri(configured: str, database_url: str) -> str:
    """The counters' storage: what is configured (Redis through our keyed-digest storage),
    else the service's database (its own file beside a SQLite database; an in-memory SQLite
    database counts in memory)."""
    if is_redis(configured):
        return SCHEME_PREFIX + configured
    if configured:
        return configured
    path = sqlite_path(database_url)
    if path is not None:
        return f"{SCHEME_PREFIX}sqlite:///{path.with_name(path.name + '.rate-limits')}"
    if database_url.startswith("sqlite"):
        return "memory://"
    return SCHEME_PREFIX + database_url


def key_secret(session_secret: str) -> bytes:
    """The counters' own key, derived from the session secret for this one purpose only
    (HKDF with a label of its own), so no operator has one more secret to keep."""
    derive = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"referral rate-limit counter keys"
    )
    return derive.derive(session_secret.encode())


def storage_options(uri: str, session_secret: str) -> dict[str, Any]:
    """Flask-Limiter's storage options: errors raised as limits' StorageError (so the app can
    refuse the request plainly), and the key secret for our own storages."""
    options: dict[str, Any] = {"wrap_exceptions": True}
    if uri.startswith(SCHEME_PREFIX):
        options["key_secret"] = key_secret(session_secret)
    return options


def _sqlite_counters_engine(url: str) -> Engine:
    prepare_sqlite_file(url)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    # The file is the counters' alone, so the storage creates its table itself.
    COUNTERS.create(engine, checkfirst=True)
    return engine


class DatabaseCounters(Storage):
    """Fixed-window counters (Flask-Limiter's default strategy) in `rate_limit_counters`."""

    STORAGE_SCHEME: list[str] | None = [  # noqa: RUF012 - limits registers schemes from this
        "referral+sqlite",
        "referral+postgresql",
        "referral+postgresql+psycopg",
    ]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        key_secret: bytes = b"",
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if not uri or not key_secret:
            raise ValueError("DatabaseCounters needs a database URI and a key secret")
        url = uri.removeprefix(SCHEME_PREFIX)
        self._key_secret = key_secret
        if url.startswith("sqlite"):
            self._engine = _sqlite_counters_engine(url)
        else:
            self._engine = create_engine(url, pool_size=2, pool_pre_ping=True)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def _digest(self, key: str) -> bytes:
        return hmac.new(self._key_secret, key.encode(), hashlib.sha256).digest()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        table = COUNTERS
        insert = sqlite_insert if self._engine.dialect.name == "sqlite" else postgresql_insert
        statement = insert(table).values(
            key_digest=self._digest(key), hits=amount, expires_at=now + expiry
        )
        expired = table.c.expires_at <= now
        upsert = statement.on_conflict_do_update(
            index_elements=[table.c.key_digest],
            set_={
                "hits": case((expired, amount), else_=table.c.hits + amount),
                "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.hits)
        with self._engine.begin() as connection:
            hits: int = connection.execute(upsert).scalar_one()
            # The counter just counted is live, so this deletes only other, finished windows.
            connection.execute(delete(table).where(expired))
        return hits

    def _live(self, key: str) -> tuple[int, float] | None:
        table = COUNTERS
        query = select(table.c.hits, table.c.expires_at).where(
            table.c.key_digest == self._digest(key), table.c.expires_at > time.time()
        )
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else (int(row.hits), float(row.expires_at))

    def get(self, key: str) -> int:
        live = self._live(key)
        return 0 if live is None else live[0]

    def get_expiry(self, key: str) -> float:
        live = self._live(key)
        return time.time() if live is None else live[1]

    def check(self) -> bool:
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine.begin() as connection:
            return connection.execute(delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(delete(COUNTERS).where(COUNTERS.c.key_digest == self._digest(key)))
