"""A database of a test group's own, for tests that commit for real (a live server cannot
share a test's transaction): what they leave behind must not reach the other tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from referral import create_app
from referral.db import migrate

F = TypeVar("F", bound=Callable[..., Any])


ROW_LOCKS = "row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite serialises all writers"
ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def only_on_postgres(reason: str) -> Callable[[F], F]:
    """For tests of what only PostgreSQL has (row locks, concurrent writers): marked
    postgres_only, and skipped with `reason` on the SQLite pass."""

    def mark(test: F) -> F:
        return pytest.mark.postgres_only(pytest.mark.skipif(not ON_POSTGRES, reason=reason)(test))

    return mark


def empty_postgres_database(url: str, name: str) -> str:
    """A new, empty database `name` on the server of `url` (dropped first if it exists)."""
    server = make_url(url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def own_database(url: str, tmp_path_factory: pytest.TempPathFactory | None, suffix: str) -> str:
    """A fresh, migrated database beside `url`: a new SQLite file (in `tmp_path_factory`), or
    `<name>_<suffix>` on the same PostgreSQL server (dropped and created again)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert tmp_path_factory is not None, "a SQLite database of its own needs a folder"
        own_url = f"sqlite:///{tmp_path_factory.mktemp(f'{suffix}-db') / f'{suffix}.sqlite3'}"
    else:
        own_url = empty_postgres_database(url, f"{parsed.database}_{suffix}")
    migrate.upgrade(own_url)
    return own_url


def own_postgres_app(settings: Settings, suffix: str) -> Flask:
    """An app on a PostgreSQL database of its own: concurrent threads need real, committing
    connections, which the rolled-back transaction of the other tests cannot give."""
    return create_app(
        replace(settings, database_url=own_database(settings.database_url, None, suffix))
    )
