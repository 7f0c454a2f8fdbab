"""Backups of the database: a consistent dump, sealed into a backup file, and its way back.

What a backup holds is the database and nothing else: the data keys in it are wrapped by the
key-encryption keys, which live in the keyring (or a KMS) and never in a backup. So a backup
is readable only with the keyring of its day, and once a key epoch ends (`flask crypto
rotate`, then `flask crypto retire` of the old version) a data key shredded by a purge since
the backup cannot be unwrapped from it any more (README, "Backups").

- SQLite: `VACUUM INTO` a file of its own, one read transaction (consistent while the
  service writes), rebuilt without free pages, so no page a purge freed rides along.
- PostgreSQL: `pg_dump --format=custom`, which reads every table in one snapshot; streamed
  through the encryption, never written out in clear.

Restoring loads into an empty database (or, with `force`, replaces what is there) in one
transaction: SQLite's online backup API from the decrypted file, `pg_restore
--single-transaction` on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from referral.backup_file import (
    BackupFileError,
    BackupHeader,
    new_header,
    read_backup,
    write_backup,
)
from referral.db.engine import SQLITE_BUSY_TIMEOUT_MS
from referral.db.files import OWNER_ONLY_DIRECTORY, OWNER_ONLY_FILE, sqlite_path

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class BackupError(Exception):
    """A backup or restore that cannot go on; one sentence for an operator."""


@dataclass(frozen=True)
class Written:
    header: BackupHeader
    path: Path
    dump_bytes: int
    file_bytes: int


def kind_of(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend == SQLITE:
        if sqlite_path(database_url) is None:
            raise BackupError("A database in memory has nothing to back up.")
        return SQLITE
    if backend == POSTGRESQL:
        return POSTGRESQL
    raise BackupError(f"Backups know SQLite and PostgreSQL, not {backend}.")


def _beside_the_database(database_url: str) -> Path | None:
    """Where a dump waits in the clear: beside a SQLite file (whose folder holds the same bytes
    already), never beside the backup, which may be on another host's storage. PostgreSQL's
    dump is streamed, so only its tools' messages wait, in the temporary folder."""
    path = sqlite_path(database_url)
    return None if path is None else path.parent


@contextlib.contextmanager
def _private_folder(near: Path | None) -> Iterator[Path]:
    """A 0700 folder for a dump in the clear (its personal fields are still sealed), removed
    with what it holds however the command ends."""
    folder = Path(tempfile.mkdtemp(prefix=".referral-backup-", dir=near))
    try:
        folder.chmod(OWNER_ONLY_DIRECTORY)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: a PostgreSQL backup needs its client tools.")
    return found


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The libpq address of a SQLAlchemy URL, and the environment that carries its password
    (never on a command line, where any user of the machine can read it)."""
    url: URL = make_url(database_url)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None)
    return address.render_as_string(hide_password=False), environment


def _failure(tool: str, returncode: int, stderr: IO[bytes]) -> BackupError:
    stderr.seek(0)
    said = stderr.read().decode("utf-8", "replace").strip().splitlines()
    reason = said[-1] if said else f"exit status {returncode}"
    return BackupError(f"{tool} failed: {reason}")


@contextlib.contextmanager
def _dump_of(database_url: str, folder: Path) -> Iterator[IO[bytes]]:
    """The database's consistent dump, as a stream to read once."""
    if kind_of(database_url) == SQLITE:
        copy = folder / "snapshot.sqlite3"
        source = sqlite_path(database_url)
        assert source is not None
        if not source.exists():
            raise BackupError(f"There is no database at {source}.")
        connection = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            # One read transaction: what was committed when it began, whatever writes after.
            connection.execute("VACUUM INTO ?", (str(copy),))
        except sqlite3.Error as error:
            raise BackupError(f"SQLite could not copy the database: {error}.") from None
        finally:
            connection.close()
        with copy.open("rb") as dump:
            yield dump
        return
    address, environment = _libpq(database_url)
    command = [_tool("pg_dump"), "--format=custom", "--dbname", address]
    with tempfile.TemporaryFile(dir=folder) as stderr:
        # The tool by absolute path, its arguments a list (no shell): the address is ours.
        process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.PIPE, stderr=stderr, env=environment
        )
        assert process.stdout is not None
        try:
            yield process.stdout
        finally:
            process.stdout.close()
            returncode = process.wait()
        if returncode != 0:
            raise _failure("pg_dump", returncode, stderr)


def create(
    database_url: str,
    destination: Path,
    backup_key: bytes,
    before_dump: Callable[[BackupHeader], None] | None = None,
) -> Written:
    """Write a backup of the database to `destination`, which must not exist. It appears
    there only once complete (written beside it, synced, then renamed). `before_dump` is
    called with the backup's header once the file is claimed and before the database is
    read (the command records the backup in the access log there)."""
    kind = kind_of(database_url)
    if destination.exists():
        raise BackupError(f"{destination} exists already; a backup never overwrites a file.")
    if not destination.parent.is_dir():
        raise BackupError(f"There is no folder {destination.parent} to write the backup in.")
    partial = destination.with_name(f".{destination.name}.partial")
    header = new_header(backup_key, kind, datetime.now(UTC).isoformat(timespec="seconds"))
    with _private_folder(_beside_the_database(database_url)) as folder:
        try:
            descriptor = os.open(partial, _CREATE_NEW, OWNER_ONLY_FILE)
        except FileExistsError:
            raise BackupError(
                f"{partial} exists: another backup to {destination} is running, or one was "
                "interrupted (then delete it)."
            ) from None
        except OSError as error:
            raise BackupError(f"Cannot write {partial}: {error.strerror}.") from None
        try:
            with os.fdopen(descriptor, "wb") as target:
                if before_dump is not None:
                    before_dump(header)
                with _dump_of(database_url, folder) as dump:
                    dump_bytes = write_backup(target, dump, backup_key, header)
                target.flush()
                os.fsync(target.fileno())
            os.replace(partial, destination)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
    return Written(header, destination, dump_bytes, destination.stat().st_size)


def is_empty(database_url: str) -> bool:
    """No table at all: a database made for the restore (a migrated one is not empty)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == SQLITE:
                query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            else:
                query = (
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            return not connection.execute(text(query)).scalar()
    finally:
        engine.dispose()


def restore(
    database_url: str, source: Path, backup_key: bytes, *, force: bool, work: Path | None
) -> BackupHeader:
    """Check the whole backup file, then load it into the database in one transaction.

    Nothing is loaded from a file that fails any check (the dump is decrypted into a private
    folder first, in `work` or beside a SQLite database, else in the temporary folder, and
    used only once every chunk and the file's end authenticate). A database with tables is
    refused unless `force`."""
    kind = kind_of(database_url)
    if not force and not is_empty(database_url):
        raise BackupError(
            "The database is not empty: restore into an empty one, or pass --force to replace "
            "what it holds."
        )
    with _private_folder(work or _beside_the_database(database_url)) as folder:
        dump = folder / "dump"
        try:
            with source.open("rb") as sealed, dump.open("wb") as plain:
                header = read_backup(sealed, backup_key, plain, str(source))
        except OSError as error:
            raise BackupError(f"Cannot read {source}: {error.strerror}.") from None
        except BackupFileError as error:
            raise BackupError(f"{error} Nothing was restored.") from None
        if header.database != kind:
            raise BackupError(
                f"{source} is a backup of a {header.database} database; this service's "
                f"database is {kind}. Nothing was restored."
            )
        if kind == SQLITE:
            _load_sqlite(dump, database_url)
        else:
            _load_postgresql(dump, database_url, force, folder)
    return header


def _load_sqlite(dump: Path, database_url: str) -> None:
    target = sqlite_path(database_url)
    assert target is not None
    source = sqlite3.connect(dump)
    try:
        if source.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError("The backup decrypts but is not a sound SQLite database.")
        destination = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            # Page by page into the live file, under its write lock and journal: whole or not.
            source.backup(destination)
        finally:
            destination.close()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite could not restore the database: {error}.") from None
    finally:
        source.close()


def _load_postgresql(dump: Path, database_url: str, force: bool, folder: Path) -> None:
    address, environment = _libpq(database_url)
    command = [
        _tool("pg_restore"),
        "--single-transaction",  # whole or not at all
        "--exit-on-error",
        "--no-owner",  # the objects belong to whoever restores, as they did to the service
        "--no-privileges",
        *(["--clean", "--if-exists"] if force else []),
        "--dbname",
        address,
        str(dump),
    ]
    with tempfile.TemporaryFile(dir=folder) as stderr:
        returncode = subprocess.call(  # noqa: S603 - as pg_dump above
            command, stdout=subprocess.DEVNULL, stderr=stderr, env=environment
        )
        if returncode != 0:
            raise _failure("pg_restore", returncode, stderr)
