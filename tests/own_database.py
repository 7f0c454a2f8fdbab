"""A database of a test group's own, for tests that commit for real (a live server cannot
share a test's transaction): what they leave behind must not reach the other tests."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from referral.db import migrate


def own_database(url: str, tmp_path_factory: pytest.TempPathFactory, suffix: str) -> str:
    """A fresh, migrated database beside `url`: a new SQLite file, or `<name>_<suffix>` on the
    same PostgreSQL server (dropped and created again)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        own_url = f"sqlite:///{tmp_path_factory.mktemp(f'{suffix}-db') / f'{suffix}.sqlite3'}"
    else:
        name = f"{parsed.database}_{suffix}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        own_url = parsed.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(own_url)
    return own_url
