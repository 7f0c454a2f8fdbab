"""The SQLite files hold the personal data at rest: only the service's own user may read them,
as with the keyring (the landed service created them 0644 in a 0755 instance/)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from config import dev_secrets
from referral.db.engine import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _an_ordinary_umask() -> object:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_database_and_its_write_ahead_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "referral.sqlite3"
    database = Database(f"sqlite:///{path}")
    with database.engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.commit()
        companions = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert {p.name: _mode(p) for p in companions} == {p.name: 0o600 for p in companions}
    database.engine.dispose()
    assert _mode(path.parent) == 0o700


def test_an_existing_database_that_others_could_read_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "referral.sqlite3"
    path.touch(mode=0o644)
    Database(f"sqlite:///{path}").engine.dispose()
    assert _mode(path) == 0o600


@pytest.mark.asvs("V13.3.2")
def test_the_instance_folder_with_the_secrets_is_owner_only(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    dev_secrets.ensure(instance / "dev.env")
    assert _mode(instance) == 0o700
    assert _mode(instance / "dev.env") == 0o600
