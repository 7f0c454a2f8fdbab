"""A canary name and personnummer, written through the normal flows, are nowhere in the
database's raw bytes: not in UTF-8, UTF-16 or base64. A negative control that stores them
in clear proves the scan finds what is there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, text

from config.settings import Settings
from crypto import FieldContext
from referral import clock, create_app
from referral.db import migrate
from referral.db.encryption import FieldCipher, Sealed
from referral.db.models import Organisation
from referral.db.people import PartnerFile
from referral.db.uow import UnitOfWork
from referral.request_scope import get_database, request_session
from referral.services import children, concern_reports
from referral.services.concern_reports import AcknowledgementRule, NewConcernReport
from referral.working_time import WorkingDay
from tests.factories import Factory, invented_personnummer, social_worker_actor
from tests.integration.byte_scan import encodings, postgres_relation_files, sqlite_files
from tests.own_database import empty_postgres_database

CANARY_NAME = "Kanarievägen Zyxtrobolin"
CANARY_NOTE = "Kanarieanteckning Qwmphrt"
CANARY_PERSONNUMMER = invented_personnummer(2013, 7, 14, serial=987)
CANARY_MUNICIPALITY = "Kanariekommun Vxqzlöt"
CANARY_CONCERN = "Kanarieoro Wqzxplöt slog barnet"


def canaries() -> list[bytes]:
    forms: list[bytes] = []
    for canary in (
        CANARY_NAME,
        CANARY_NOTE,
        CANARY_MUNICIPALITY,
        CANARY_CONCERN,
        CANARY_PERSONNUMMER,
        CANARY_PERSONNUMMER[2:],
    ):
        forms.extend(encodings(canary))
    return forms


def found_in(blob: bytes) -> list[bytes]:
    return [form for form in canaries() if form in blob]


class PlaintextCipher(FieldCipher):
    """The negative control: 'encryption' that stores the value as it is."""

    def seal(  # type: ignore[override]
        self, session: object, obj: object, current: object = None
    ) -> None:
        for field in obj.__personal_fields__.values():  # type: ignore[attr-defined]
            value = getattr(obj, field.sealed_attr)
            if value is not None and not isinstance(value, Sealed):
                setattr(obj, field.sealed_attr, Sealed(value.plaintext.encode()))
                if field.index:
                    setattr(obj, field.index, 0)


def _write_canaries_through_the_normal_flows(app: Flask, settings: Settings) -> None:
    factory = Factory(app, settings)
    actor = social_worker_actor(factory)
    partner = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(CANARY_PERSONNUMMER, CANARY_NAME)
        )
        children.update_details(
            uow, actor, child.id, children.ChildDetails(paying_municipality=CANARY_MUNICIPALITY)
        )
        uow.session.add(PartnerFile(child_id=child.id, partner_id=partner.id, notes=CANARY_NOTE))
        uow.commit()
        # A concern report on the child, and one on a child known only by what was seen.
        socialjouren = uow.session.get(Organisation, factory.organisation("city").id)
        assert socialjouren is not None
        socialjouren.social_emergency_service = True
        uow.commit()
        rule = AcknowledgementRule(4, WorkingDay(8, 17))
        for new in (
            NewConcernReport(CANARY_CONCERN, "070-1", child_id=child.id),
            NewConcernReport(CANARY_CONCERN, "070-1", subject_name=CANARY_NAME),
        ):
            concern_reports.file_report(uow, actor, new, rule, clock.today())


def _app_on(settings: Settings, url: str, plaintext: bool) -> Flask:
    migrate.upgrade(url)
    app = create_app(replace(settings, database_url=url))
    if plaintext:
        database = get_database(app)
        assert database.cipher is not None
        database.use_cipher(PlaintextCipher(database.cipher.keys, database.cipher.index_key))
    return app


def _sqlite_files(path: Path) -> bytes:
    return b"".join(sqlite_files(path).values())


@pytest.mark.parametrize("plaintext", [False, True], ids=["encrypted", "negative-control"])
@pytest.mark.asvs("V14.2.4")
def test_no_canary_in_the_sqlite_files(
    base_settings: Settings, tmp_path: Path, plaintext: bool
) -> None:
    path = tmp_path / "canary.sqlite3"
    app = _app_on(base_settings, f"sqlite:///{path}", plaintext)
    _write_canaries_through_the_normal_flows(app, base_settings)
    raw = _sqlite_files(path)  # before the engine closes: the WAL still holds the writes
    get_database(app).engine.dispose()
    raw += _sqlite_files(path)
    if plaintext:
        assert CANARY_NAME.encode() in raw and CANARY_PERSONNUMMER.encode() in raw
        assert CANARY_CONCERN.encode() in raw
    else:
        assert found_in(raw) == []


def _postgres_tables(app: Flask) -> Iterator[tuple[str, list[tuple[object, ...]]]]:
    with app.app_context():
        db = request_session()
        for table in inspect(db.get_bind()).get_table_names():
            rows = db.execute(text(f'SELECT * FROM "{table}"')).all()
            yield table, [tuple(row) for row in rows]


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def _postgres_relation_files(app: Flask) -> bytes:
    with app.app_context():
        return postgres_relation_files(request_session().connection())


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the PostgreSQL scan runs in the PostgreSQL pass of .ci/run",
)
@pytest.mark.parametrize("plaintext", [False, True], ids=["encrypted", "negative-control"])
@pytest.mark.asvs("V14.2.4")
def test_no_canary_in_postgresql_tables_or_relation_files(
    base_settings: Settings, plaintext: bool
) -> None:
    url = empty_postgres_database(os.environ["TEST_DATABASE_URL"], "test_canary")
    app = _app_on(base_settings, url, plaintext)
    _write_canaries_through_the_normal_flows(app, base_settings)
    contents = b"".join(
        _as_bytes(value) for _table, rows in _postgres_tables(app) for row in rows for value in row
    )
    files = _postgres_relation_files(app)
    get_database(app).engine.dispose()
    if plaintext:
        assert CANARY_NAME.encode() in contents
        assert files == b"" or CANARY_NAME.encode() in files, "the file scan finds clear text"
    else:
        assert found_in(contents) == []
        assert found_in(files) == []


def test_field_context_never_carries_personal_data() -> None:
    with pytest.raises(ValueError):
        FieldContext("children", "name", CANARY_PERSONNUMMER, "person-1")
