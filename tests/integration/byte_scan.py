"""Reading a database's bytes as an attacker with the disk would, and finding canaries in
them: SQLite's main, -wal, -journal and -shm files, PostgreSQL's relation files and the WAL
it wrote. Shared by the canary scans (test_canary_scan.py, test_canary_columns.py)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

SQLITE_SUFFIXES = ("", "-wal", "-journal", "-shm")


def encodings(canary: str) -> Iterator[bytes]:
    """Every form in which the canary could sit in a file."""
    utf8 = canary.encode()
    yield utf8
    yield canary.encode("utf-16-le")
    yield canary.encode("utf-16-be")
    for shift in range(3):  # base64 of the canary at each alignment, edges trimmed
        encoded = base64.b64encode(b"\0" * shift + utf8)
        yield encoded[4:-4]


# A shorter form (the trimmed base64 of an eight-digit number is four characters) would be
# found in any ciphertext by chance.
SHORTEST_FORM = 8


def found(canaries: Iterable[str], blob: bytes) -> list[str]:
    """The canaries present in `blob` in any of their forms long enough to mean something."""
    return [
        canary
        for canary in canaries
        if any(len(form) >= SHORTEST_FORM and form in blob for form in encodings(canary))
    ]


def sqlite_files(path: Path) -> dict[str, bytes]:
    """The database file and its companions, by suffix ("" for the main file)."""
    return {
        suffix: Path(f"{path}{suffix}").read_bytes()
        for suffix in SQLITE_SUFFIXES
        if Path(f"{path}{suffix}").exists()
    }


def postgres_relation_files(connection: Connection) -> bytes:
    """The heap and TOAST files of every table after CHECKPOINT, where this user may read them."""
    connection.execute(text("CHECKPOINT"))
    data_directory = connection.execute(text("SHOW data_directory")).scalar_one()
    paths = connection.execute(
        text(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't')"
        )
    ).scalars()
    blob = b""
    for relative in paths:
        path = Path(data_directory) / relative
        if path.exists() and os.access(path, os.R_OK):
            blob += path.read_bytes()
    return blob


@dataclass(frozen=True)
class WalPosition:
    segment: str  # the WAL file's name under pg_wal
    offset: int  # the byte within it


def wal_position(connection: Connection) -> WalPosition:
    """Where the server writes its WAL now (the insert position, so nothing is missed)."""
    row = connection.execute(
        text(
            "SELECT file_name, file_offset FROM pg_walfile_name_offset(pg_current_wal_insert_lsn())"
        )
    ).one()
    return WalPosition(row.file_name, int(row.file_offset))


def wal_directory(connection: Connection) -> Path | None:
    """The server's pg_wal, when this process runs beside the server and may read it."""
    data_directory = connection.execute(text("SHOW data_directory")).scalar_one()
    directory = Path(data_directory) / "pg_wal"
    readable = directory.is_dir() and os.access(directory, os.R_OK | os.X_OK)
    return directory if readable else None


def wal_between(directory: Path, start: WalPosition, end: WalPosition) -> bytes:
    """The WAL the server wrote from `start` to `end`: every segment between them, cut at
    both positions. Segment names sort in write order (timeline, log, segment in hex)."""
    names = sorted(
        p.name for p in directory.iterdir() if len(p.name) == 24 and start.segment <= p.name
    )
    blob = b""
    for name in (n for n in names if n <= end.segment):
        data = (directory / name).read_bytes()
        first = start.offset if name == start.segment else 0
        last = end.offset if name == end.segment else len(data)
        blob += data[first:last]
    return blob
