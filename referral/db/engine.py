"""Engine and session wiring: one Database per app, nothing at import (the request's session is
referral.request_scope's)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit.record import SESSION_KEY as AUDIT_SESSION_KEY
from audit.record import AuditConfig
from referral.db import encryption
from referral.db.encryption import FieldCipher
from referral.db.files import prepare_sqlite_file

# Long enough for a key rotation or a burst of 20 writers on two workers to take its turn.
SQLITE_BUSY_TIMEOUT_MS = 30_000


log = logging.getLogger(__name__)

# An execution option for a connection that only reads (the health check): on SQLite its
# transaction does not take the write lock, so it never waits behind a writer.
READ_ONLY = "referral_read_only"


def _make_engine(url: str) -> Engine:
    # hide_parameters: an error message must never carry the values of a statement,
    # which could be personal data.
    if url.startswith("sqlite"):
        prepare_sqlite_file(url)
        engine = create_engine(url, hide_parameters=True)
        _use_real_sqlite_transactions(engine)
        return engine
    return create_engine(url, hide_parameters=True, pool_pre_ping=True)


def _use_real_sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, issue BEGIN, so savepoints and locking behave."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # A writer that finds the database locked waits this long for its turn (milliseconds):
        # two gunicorn workers writing at once must cost time, never an error.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Write-ahead log: readers never wait for the writer, and a commit is an append
        # rather than a rewrite. NORMAL sync keeps every commit across an application crash
        # (only an OS crash or power cut can lose the last ones); production runs PostgreSQL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed in place, not left in free space: what a
        # purge (gallring) empties is then gone from the file, not merely unlinked.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")  # reads only: it never needs the write lock
            return
        # IMMEDIATE takes the write lock at the start, waiting for it under busy_timeout. A
        # deferred BEGIN reads first and asks for the lock at its first write; if another
        # worker committed in between, SQLite cannot wait (the snapshot is stale) and fails
        # at once with "database is locked". Nearly every transaction here writes (each read
        # appends its access-log entry), so taking the lock up front costs nothing extra.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine and hands out sessions; tests may bind it to one outer transaction.

    Every session carries the field cipher, which seals personal fields at flush."""

    def __init__(
        self, url: str, cipher: FieldCipher | None = None, audit: AuditConfig | None = None
    ) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self.cipher = cipher
        self.audit = audit
        self._factory = self._sessionmaker(bind=self.engine)

    def _sessionmaker(self, **options: Any) -> sessionmaker[Session]:
        info = {encryption.SESSION_KEY: self.cipher, AUDIT_SESSION_KEY: self.audit}
        factory = sessionmaker(expire_on_commit=False, info=info, **options)
        encryption.install(factory)
        return factory

    def use_cipher(self, cipher: FieldCipher) -> None:
        """Swap the field cipher (tests use a plaintext one as a negative control)."""
        self.cipher = cipher
        self._factory = self._sessionmaker(bind=self.engine)

    def bind_to(self, connection: Connection) -> None:
        """Run every session inside `connection`'s transaction (tests roll it back)."""
        self._factory = self._sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint"
        )

    def new_session(self) -> Session:
        return self._factory()

    def is_reachable(self) -> bool:
        """For the health check: does the database answer? A read only (on SQLite it never
        waits behind a writer); the reason for a failure goes to the log, never the caller."""
        try:
            with self.engine.connect().execution_options(**{READ_ONLY: True}) as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            log.warning("health check: database unreachable")
            return False
        return True
