"""SQLite files are personal data at rest: owner-only, like the keyring.

SQLite creates the -wal and -shm files with the main file's permissions, so creating the
main file 0600 (inside a 0700 directory) before SQLite opens it covers all three.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIRECTORY = 0o700


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for another database or an in-memory one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


def prepare_sqlite_file(database_url: str) -> None:
    """Create the database file owner-only (and its directory, when new, owner-only too);
    tighten an existing file that group or others may read."""
    path = sqlite_path(database_url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=OWNER_ONLY_DIRECTORY, parents=True)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY_FILE)
    os.close(descriptor)
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(OWNER_ONLY_FILE)
