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
# transaction never asks for the write lock, so it never waits behind a writer.
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
        # Deferred: the transaction reads from a snapshot of its own, beside the other
        # worker's, and asks for the write lock only when it first writes (below).
        connection.exec_driver_sql("BEGIN")
        connection.info[_READING] = not connection.get_execution_options().get(READ_ONLY)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(
        connection: Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if connection.info.get(_READING) and _writes(statement, context):
            connection.info[_READING] = False
            _begin_writing(cursor.connection)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Connection) -> None:
        connection.info[_READING] = False


# Set on a connection whose transaction has only read so far (deferred BEGIN, no lock).
_READING = "referral_reading"


def _writes(statement: str, context: Any) -> bool:
    """Does this statement write, or read in order to write (SELECT … FOR UPDATE, which
    SQLite does not spell but the code asks for exactly where a decision must hold until
    commit)? Anything but a plain SELECT counts: INSERT, UPDATE, DELETE, SAVEPOINT, DDL."""
    if not statement.lstrip()[:6].upper().startswith("SELECT"):
        return True
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


def _begin_writing(dbapi_connection: Any) -> None:
    """End the reading snapshot and take the write lock, waiting for it under busy_timeout.

    A deferred transaction that has read cannot simply start writing: if the other worker
    committed in between, its snapshot is stale and SQLite fails at once with "database is
    locked" (busy_timeout cannot help). Holding the lock from BEGIN (IMMEDIATE) avoids that
    but makes the workers take turns for the whole request, reads and decryption included.
    So the reads before the first write end here, and the writes (with every read after
    them) run under the lock on the newest data. Nothing has been written yet, so ending
    the snapshot loses nothing; what was read stays as read, which is what PostgreSQL's
    READ COMMITTED gives the same code: a decision that must hold until commit locks its
    rows (`with_for_update()`), and that lock is a write here. SQLAlchemy still sees one
    transaction: its commit or rollback ends the one begun here."""
    dbapi_connection.execute("COMMIT")
    dbapi_connection.execute("BEGIN IMMEDIATE")


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
