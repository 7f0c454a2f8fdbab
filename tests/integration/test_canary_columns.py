"""A distinct canary in every personal column, written through the public interface, is
nowhere in the database's bytes: not in SQLite's main, -wal or -shm file while the app has
them open nor after the checkpoint, not in PostgreSQL's relation files nor in the WAL it
wrote meanwhile; in UTF-8, UTF-16 or base64. A canary written in clear into a plain column
in the same way is found by the same scan, so the scan can fail.

The personal columns are read from the models (every column of type EncryptedText), so a
new one fails here until tests/integration/canary_columns.py gives it a canary or a reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from config.settings import Settings
from referral import clock, create_app
from referral.db import migrate, schema
from referral.db.encryption import EncryptedRecord, EncryptedText
from referral.request_scope import get_database, request_session
from tests.factories import Factory, csrf_token, log_in
from tests.integration.byte_scan import (
    found,
    postgres_relation_files,
    sqlite_files,
    wal_between,
    wal_directory,
    wal_position,
)
from tests.integration.canary_columns import (
    COLUMNS,
    COMPOSED,
    EXCLUDED,
    MORNING,
    SCANNED,
    Walked,
    write_every_canary,
)
from tests.own_database import ON_POSTGRES, empty_postgres_database

# The negative control: an organisation's postal address is kept in clear (it is not a
# person's), written through the administrator's form like any other field.
IN_CLEAR = "Kontrollgatan Klartext 17, 111 22 Stockholm"


def sealed_columns() -> set[tuple[str, str]]:
    return {
        (table.name, column.name)
        for table in schema.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    }


@pytest.mark.asvs("V14.1.1")
def test_every_sealed_column_has_a_canary_or_a_reason() -> None:
    named = [*COLUMNS, *COMPOSED, *EXCLUDED]
    assert len(named) == len(set(named)), "a column is named twice"
    assert sealed_columns() - set(named) == set(), "sealed columns no canary reaches"
    assert set(named) - sealed_columns() == set(), "named columns that are not sealed"
    values = [canary.value for canary in COLUMNS.values()]
    assert len(values) == len(set(values)), "two columns share a canary"


def _plaintexts(app: Flask) -> dict[tuple[str, str], list[str]]:
    """Every sealed column's values, opened through the models as the service opens them."""
    opened: dict[tuple[str, str], list[str]] = {}
    with app.app_context():
        session = request_session()
        for model in _records(EncryptedRecord):
            mapper = inspect(model)
            table = mapper.local_table.name
            for row in session.scalars(select(model)):
                for field in model.__personal_fields__.values():
                    column = mapper.attrs[field.sealed_attr].columns[0].name
                    value = getattr(row, field.name)
                    if value is not None:
                        opened.setdefault((table, column), []).append(str(value))
    return opened


def _records(base: type[EncryptedRecord]) -> Iterator[type[EncryptedRecord]]:
    """The mapped models with personal fields (the access log's is mapped onto a table
    declared apart, so it is found by its mapper, not its __tablename__)."""
    for model in base.__subclasses__():
        if "__mapper__" in dir(model):
            yield model
        yield from _records(model)


def _assert_every_canary_reached_its_column(app: Flask) -> None:
    opened = _plaintexts(app)
    missed = [
        key
        for key, canary in COLUMNS.items()
        if not any(canary.value in value for value in opened.get(key, []))
    ]
    assert missed == [], "canaries that did not reach their column"
    for key, carried in COMPOSED.items():
        assert opened.get(key), f"nothing was written into {key}"
        for canary in carried:
            assert any(canary in value for value in opened[key]), (key, canary)


def _write_in_clear(app: Flask, settings: Settings, walked: Walked) -> None:
    client = app.test_client()
    log_in(client, Factory(app, settings).account("admin"))
    response = client.post(
        f"/admin/organisations/{walked.district_id}/postal-address",
        data={"postal_address": IN_CLEAR, "csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code in (302, 303), response.status_code


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The service's clock, stopped on a registration morning; the walk moves it on."""
    cell = [MORNING]
    monkeypatch.setattr(clock, "now", lambda: cell[0])
    return cell


def _app(settings: Settings, url: str) -> Flask:
    migrate.upgrade(url)
    return create_app(replace(settings, database_url=url))


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite files are scanned in the SQLite pass")
@pytest.mark.asvs("V14.2.4")
def test_no_personal_canary_in_the_sqlite_files_or_their_wal_and_the_clear_control_is_found(
    base_settings: Settings, tmp_path: Path, moment: list[datetime]
) -> None:
    path = tmp_path / "canaries.sqlite3"
    app = _app(base_settings, f"sqlite:///{path}")
    walked = write_every_canary(app, base_settings, moment)
    _assert_every_canary_reached_its_column(app)
    _write_in_clear(app, base_settings, walked)

    open_files = sqlite_files(path)  # the engine still holds them: the WAL has the writes
    assert set(open_files) >= {"", "-wal", "-shm"}
    for suffix, blob in open_files.items():
        assert found(SCANNED, blob) == [], f"canaries in clear in the database file{suffix}"
    assert found([IN_CLEAR], open_files["-wal"]) == [IN_CLEAR], "the WAL scan finds clear text"

    get_database(app).engine.dispose()  # the last connection checkpoints the WAL
    checkpointed = sqlite_files(path)
    for suffix, blob in checkpointed.items():
        assert found(SCANNED, blob) == [], f"canaries in clear in the database file{suffix}"
    assert found([IN_CLEAR], checkpointed[""]) == [IN_CLEAR], "the file scan finds clear text"


@pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL scan runs in the PostgreSQL pass")
@pytest.mark.asvs("V14.2.4")
def test_no_personal_canary_in_postgresql_relation_files_or_wal_and_the_clear_control_is_found(
    base_settings: Settings, moment: list[datetime]
) -> None:
    url = empty_postgres_database(os.environ["TEST_DATABASE_URL"], "test_canary_columns")
    app = _app(base_settings, url)
    with app.app_context():
        connection = request_session().connection()
        pg_wal = wal_directory(connection)
        if pg_wal is None:
            pytest.skip("the server's pg_wal is not readable by this process (not its host)")
        start = wal_position(connection)
        request_session().rollback()
    walked = write_every_canary(app, base_settings, moment)
    _assert_every_canary_reached_its_column(app)
    _write_in_clear(app, base_settings, walked)
    with app.app_context():
        connection = request_session().connection()
        end = wal_position(connection)
        relations = postgres_relation_files(connection)
    wal = wal_between(pg_wal, start, end)
    get_database(app).engine.dispose()

    assert found(SCANNED, wal) == [], "canaries in clear in the WAL"
    assert found([IN_CLEAR], wal) == [IN_CLEAR], "the WAL scan finds clear text"
    assert relations, "no relation file was readable"
    assert found(SCANNED, relations) == [], "canaries in clear in the relation files"
    assert found([IN_CLEAR], relations) == [IN_CLEAR], "the file scan finds clear text"
