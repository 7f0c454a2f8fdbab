"""Where the database writes the entries' canonical text (the verifier's fast path), the
verification says exactly what the chain verifier says over the same rows: intact logs with
sealed details and awkward values verify, and every edit the fast path might be blind to
(a NULL made an empty BLOB, text made a number or a BLOB, a value shaped like the JSON around
it) is named as an edit of that entry.

The log is a table of its own in SQLite (in a temporary file) and, when TEST_DATABASE_URL
names a PostgreSQL server, in a database of its own there."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from audit import stored_log
from audit.canonical import entry_hash
from audit.chain import (
    GENESIS_LINK,
    ChainEntry,
    ChainHead,
    ChainWalk,
    VerificationReport,
    begin_walk,
    head_mac,
    next_link,
    verify_chain,
)
from audit.stored_log import StoredLog, verify_stored_log
from audit.stored_text import TextCheck, postgres_types_fit, sqlite_columns

AUDIT_KEY = bytes(range(64, 96))
FIELDS = ("sequence", "actor_name", "object_id", "legal_basis", "details")
ENTRIES = 40
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


def values_of(sequence: int, *, sealed: bool = True) -> dict[str, object]:
    """Sealed details on every third entry (one of them empty), text with non-ASCII letters,
    quotes, a backslash and a control character here and there, NULLs in between."""
    awkward = {21: 'said "hello"', 25: "C:\\temp", 30: "two\nlines", 35: "bell\x07char"}
    details: bytes | None = None
    if sealed and sequence % 3 == 0:
        details = b"" if sequence == 9 else bytes([sequence]) * (sequence * 3)
    return {
        "sequence": sequence,
        "actor_name": f"handläggare-{sequence % 4}" if sequence % 5 else None,
        "object_id": awkward.get(sequence, f"object-{sequence}"),
        "legal_basis": "SoL 11 kap. 1 §" if sequence % 2 else None,
        "details": details,
    }


def stored_rows(*, sealed: bool = True) -> list[dict[str, object]]:
    rows, link = [], GENESIS_LINK
    for sequence in range(1, ENTRIES + 1):
        fields = values_of(sequence, sealed=sealed)
        digest = entry_hash(fields)
        link = next_link(AUDIT_KEY, link, digest)
        rows.append({**fields, "entry_hash": digest, "link": link})
    return rows


ROWS = stored_rows()
UNSEALED_ROWS = stored_rows(sealed=False)


def head_of(rows: list[dict[str, Any]]) -> ChainHead:
    link = rows[-1]["link"]
    return ChainHead(ENTRIES, link, head_mac(AUDIT_KEY, ENTRIES, link))


class Log:
    """The log in one database: a DBAPI connection, how to change a row, and the reports."""

    def __init__(
        self, connection: Any, postgresql: bool, rows: list[dict[str, Any]] = ROWS
    ) -> None:
        self.connection = connection
        self.head = head_of(rows)
        self.postgresql = postgresql
        self.marker = "%s" if postgresql else "?"
        cursor = connection.cursor()
        cursor.execute(
            "CREATE TABLE entries (sequence INTEGER PRIMARY KEY, actor_name VARCHAR(64),"
            " object_id VARCHAR(64), legal_basis VARCHAR(40),"
            f" details {'BYTEA' if postgresql else 'BLOB'},"
            f" entry_hash {'BYTEA' if postgresql else 'BLOB'} NOT NULL,"
            f" link {'BYTEA' if postgresql else 'BLOB'} NOT NULL)"
        )
        names = [*FIELDS, "entry_hash", "link"]
        cursor.executemany(
            f"INSERT INTO entries ({', '.join(names)}) VALUES ({', '.join([self.marker] * 7)})",
            [tuple(row[name] for name in names) for row in rows],
        )
        connection.commit()

    def change(self, sequence: int, column: str, value: object) -> None:
        cursor = self.connection.cursor()
        cursor.execute(
            f"UPDATE entries SET {column} = {self.marker} WHERE sequence = {self.marker}",
            (value, sequence),
        )
        self.connection.commit()

    def verified(self) -> VerificationReport:
        log = StoredLog("entries", FIELDS, self.postgresql)
        return verify_stored_log(self.connection, log, AUDIT_KEY, (), None, self.head)

    def reference(self) -> VerificationReport:
        """The chain verifier over the rows as the driver reads them, each encoded from its
        fields."""
        cursor = self.connection.cursor()
        cursor.execute(f"SELECT {', '.join(FIELDS)}, entry_hash, link FROM entries ORDER BY 1")
        entries = [
            ChainEntry(row[0], dict(zip(FIELDS, row, strict=False)), row[-2], row[-1])
            for row in cursor.fetchall()
        ]
        return verify_chain(entries, AUDIT_KEY, head=self.head)


def _sqlite_log(tmp_path: Path) -> Log:
    return Log(sqlite3.connect(tmp_path / "log.sqlite3"), postgresql=False)


def _postgres_log() -> Iterator[Log]:
    import psycopg

    server = make_url(POSTGRES_URL)
    database = f"{server.database}_stored_text"  # beside the test run's own database
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as admin_connection:
        admin_connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin_connection.execute(text(f"CREATE DATABASE {database}"))
    own = server.set(drivername="postgresql", database=database)
    connection = psycopg.connect(own.render_as_string(hide_password=False))
    try:
        yield Log(connection, postgresql=True)
    finally:
        connection.close()
        with admin.connect() as admin_connection:
            admin_connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of four, so that most are vouched for in bulk and an awkward value leaves
    only its own batch to the walker."""
    monkeypatch.setattr(stored_log, "FETCH_BATCH", 4)


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    if request.param == "postgresql":
        if not POSTGRES_URL.startswith("postgresql"):
            pytest.skip("TEST_DATABASE_URL names no PostgreSQL server")
        yield from _postgres_log()
    else:
        sqlite_log = _sqlite_log(tmp_path)
        yield sqlite_log
        sqlite_log.connection.close()


def test_an_intact_log_with_sealed_details_and_awkward_values_verifies(log: Log) -> None:
    report = log.verified()
    assert report.ok, report.reason
    assert report.entries_checked == ENTRIES
    assert report == log.reference()


def test_the_texts_sqlite_writes_are_vouched_for_as_they_are(tmp_path: Path) -> None:
    """The fast path is taken, not declined, for rows with sealed details, empty ones too."""
    log = _sqlite_log(tmp_path)
    columns = sqlite_columns(FIELDS)
    rows = log.connection.execute(
        f"SELECT {columns}, entry_hash, link FROM entries WHERE sequence <= 12 ORDER BY 1"
    ).fetchall()
    assert StoredLog("entries", FIELDS, False).text_check(log.connection, AUDIT_KEY)
    walk = begin_walk(AUDIT_KEY, (), None, None, log.head)
    assert isinstance(walk, ChainWalk)

    assert TextCheck(FIELDS, AUDIT_KEY).advance(walk, rows)
    assert walk.expected == 13
    log.connection.close()


@pytest.mark.parametrize(
    ("sequence", "column", "value"),
    [
        (4, "details", b""),  # NULL details made an empty BLOB
        (6, "details", None),  # sealed details removed
        (9, "details", None),  # empty sealed details removed
        (10, "object_id", "object-10 "),
        (12, "actor_name", None),
        (14, "legal_basis", ""),  # NULL made an empty string
        (15, "legal_basis", "null"),  # a string spelled like NULL
        # A value shaped like the JSON around it: the next key's NULL as a string.
        (16, "object_id", 'object-16","legal_basis":null,"x":"'),
        (18, "object_id", "object-18\\"),
        (25, "object_id", "C:\\\\temp"),  # spelled as the encoder escapes "C:\\temp"
        (21, "object_id", 'said \\"hello\\"'),  # spelled as the encoder escapes the quotes
        (20, "object_id", "object-20\x01"),
    ],
)
def test_an_edit_the_database_writes_into_the_text_is_named(
    log: Log, sequence: int, column: str, value: object
) -> None:
    log.change(sequence, column, value)
    report = log.verified()
    assert report == log.reference()
    assert report.first_bad_sequence == sequence
    assert report.reason == f"entry {sequence}: content does not match its hash (edited)."


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("object_id", 23),
        ("object_id", 23.0),
        ("object_id", b"object-23"),
        ("object_id", "object-23\x00"),
        ("details", "AAA="),
    ],
)
def test_a_value_stored_as_another_type_in_sqlite_is_what_the_walker_says(
    tmp_path: Path, column: str, value: object
) -> None:
    log = _sqlite_log(tmp_path)
    log.change(23, column, value)
    report = log.verified()
    assert report == log.reference()
    assert not report.ok
    assert report.first_bad_sequence == 23
    log.connection.close()


def test_empty_sealed_details_where_none_were_is_named_in_a_log_without_any(
    tmp_path: Path,
) -> None:
    log = Log(sqlite3.connect(tmp_path / "log.sqlite3"), postgresql=False, rows=UNSEALED_ROWS)
    log.change(4, "details", b"")
    report = log.verified()
    assert report == log.reference()
    assert report.first_bad_sequence == 4
    log.connection.close()


class CatalogCursor:
    """A cursor answering the catalog query with the given column types."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    def execute(self, query: str, parameters: tuple[str]) -> None:
        assert parameters == ("entries",)

    def fetchall(self) -> list[tuple[str, str]]:
        return list(self.types.items())


POSTGRES_TYPES = {
    "sequence": "bigint",
    "actor_name": "character varying(64)",
    "object_id": "text",
    "legal_basis": "character varying",
    "details": "bytea",
}


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("object_id", "character varying(64)[]"),  # an array's text is not its JSON
        ("object_id", "jsonb"),
        ("object_id", "integer"),
        ("details", "text"),
        ("sequence", "numeric"),
    ],
)
def test_postgresql_writes_the_texts_only_for_columns_of_the_logs_own_types(
    column: str, kind: str
) -> None:
    assert postgres_types_fit(CatalogCursor(POSTGRES_TYPES), "entries", FIELDS)
    assert not postgres_types_fit(
        CatalogCursor({**POSTGRES_TYPES, column: kind}), "entries", FIELDS
    )
