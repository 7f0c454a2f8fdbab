"""The data-protection officer searches the access log, reports on one person's access,
checks integrity and sees alerts, without ever seeing a case's content."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.record import record
from config.settings import Settings
from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.uow import UnitOfWork
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import audit_search, children
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import Factory, csrf_token, invented_personnummer, log_in, social_worker_actor
from tests.integration.statement_scene import actor_of

CANARY_NAME = "Granskningsbarn Vxqzy"


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    from audit.checkpoints import generate_signing_key, private_pem

    key = tmp_path / "signing-key.pem"
    key.write_bytes(private_pem(generate_signing_key()))
    return replace(
        base_settings,
        audit_checkpoint_dir=str(tmp_path / "checkpoints"),
        audit_signing_key_path=str(key),
    )


def _child_with_history(app: Flask, factory: Factory) -> str:
    """A child registered and looked up by a social worker; returns the personnummer."""
    actor = social_worker_actor(factory)
    personnummer = invented_personnummer(2012, 12, 12)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        children.register_child(uow, actor, children.NewChild(personnummer, CANARY_NAME))
        children.find_children_by_personnummer(uow, actor, personnummer)
    return personnummer


@pytest.fixture
def dpo(client: FlaskClient, factory: Factory) -> FlaskClient:
    log_in(client, factory.account("dpo"))
    return client


def test_the_dpo_sees_who_accessed_a_person_but_not_the_persons_data(
    app: Flask, factory: Factory, dpo: FlaskClient
) -> None:
    personnummer = _child_with_history(app, factory)
    token = csrf_token(dpo, "/dpo/subject-access")
    page = dpo.post("/dpo/subject-access", data={"personnummer": personnummer, "csrf_token": token})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-action="child:create"' in body and 'data-action="child:search"' in body
    assert "test-social-worker" in body
    assert CANARY_NAME not in body


def test_the_subject_access_report_downloads_as_csv(
    app: Flask, factory: Factory, dpo: FlaskClient
) -> None:
    personnummer = _child_with_history(app, factory)
    token = csrf_token(dpo, "/dpo/subject-access")
    download = dpo.post(
        "/dpo/subject-access",
        data={"personnummer": personnummer, "csrf_token": token, "download": "1"},
    )
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    lines = download.get_data(as_text=True).splitlines()
    # In Swedish (a guardian may receive it), the time on Stockholm's clock, actions in words.
    assert lines[0].startswith("När,Vem,Organisation,Roller,Vad,Utfall")
    assert any(",Barn registrerat," in line for line in lines[1:])
    assert not any("Z," in line or "child:create" in line for line in lines[1:])
    assert len(lines) >= 3


@pytest.mark.asvs("V14.2.1")
def test_a_personnummer_never_travels_in_a_url(
    app: Flask, factory: Factory, dpo: FlaskClient
) -> None:
    personnummer = _child_with_history(app, factory)
    token = csrf_token(dpo, "/dpo/audit")
    response = dpo.post(
        "/dpo/audit/person", data={"personnummer": personnummer, "csrf_token": token}
    )
    assert response.status_code == 302
    assert personnummer not in response.location and personnummer[2:] not in response.location
    assert "subject=" in response.location
    page = dpo.get(response.location).get_data(as_text=True)
    assert 'data-action="child:create"' in page and CANARY_NAME not in page


@pytest.mark.asvs("V16.2.4")
def test_searching_and_exporting_are_themselves_recorded(
    app: Flask, factory: Factory, dpo: FlaskClient
) -> None:
    dpo.get("/dpo/audit?action=auth:login")
    export = dpo.get("/dpo/audit/export?format=jsonl&action=auth:login")
    assert export.mimetype == "application/x-ndjson"
    assert '"action": "auth:login"' in export.get_data(as_text=True)
    csv_export = dpo.get("/dpo/audit/export?format=csv")
    assert csv_export.get_data(as_text=True).startswith("sequence,occurred_at")
    page = dpo.get("/dpo/audit?action=audit:export").get_data(as_text=True)
    assert page.count("audit:export") >= 2


def test_a_long_export_is_streamed_whole_and_in_order(
    dpo: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_search, "EXPORT_BATCH", 2)  # several pieces from a short log
    for _ in range(3):
        dpo.get("/dpo/audit")
    export = dpo.get("/dpo/audit/export?format=csv")
    assert export.is_streamed
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    sequences = [int(row["sequence"]) for row in rows]
    assert len(rows) > 2 * audit_search.EXPORT_BATCH
    assert sequences == sorted(set(sequences))
    assert rows[-1]["action"] == "audit:export"  # recorded before it was read
    lines = dpo.get("/dpo/audit/export?format=jsonl").get_data(as_text=True).splitlines()
    assert [json.loads(line)["sequence"] for line in lines[: len(rows)]] == sequences


def test_the_exports_own_session_lasts_as_long_as_the_download(
    app: Flask, dpo: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = get_database(app)
    opened: list[Session] = []
    new_session = database.new_session

    def noting_each() -> Session:
        opened.append(new_session())
        return opened[-1]

    monkeypatch.setattr(database, "new_session", noting_each)
    monkeypatch.setattr(audit_search, "EXPORT_BATCH", 2)
    export = dpo.get("/dpo/audit/export?format=csv")  # answered, the body not yet read
    [reading] = [session for session in opened if session.in_transaction()]
    assert export.get_data(as_text=True).startswith("sequence,")
    export.close()
    assert not reading.in_transaction()


def test_an_export_that_cannot_read_the_log_fails_before_anything_is_sent(
    dpo: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(_session: object, _criteria: object) -> Iterator[tuple[object, ...]]:
        raise OperationalError("SELECT", {}, ConnectionError("the database went away"))
        yield ()  # a generator, as the log's reader is

    monkeypatch.setattr(audit_search, "_rows", unreadable)
    for fmt in ("csv", "jsonl"):
        export = dpo.get(f"/dpo/audit/export?format={fmt}")
        assert export.status_code == 500  # not a 200 with a file cut short
        assert "attachment" not in export.headers.get("Content-Disposition", "")


def test_a_bad_filter_is_refused_with_the_field_named(dpo: FlaskClient) -> None:
    response = dpo.get("/dpo/audit?since=yesterday-ish")
    assert response.status_code == 422
    assert 'id="since-error"' in response.get_data(as_text=True)


def test_the_dpo_verifies_the_log_and_signs_a_checkpoint_from_the_integrity_page(
    dpo: FlaskClient,
) -> None:
    before = dpo.get("/dpo/integrity").get_data(as_text=True)
    assert "data-checkpoint=" not in before and "data-verification=" not in before
    token = csrf_token(dpo, "/dpo/integrity")
    dpo.post("/dpo/integrity/checkpoint", data={"csrf_token": token})
    dpo.post("/dpo/integrity/verify", data={"csrf_token": token})
    page = dpo.get("/dpo/integrity").get_data(as_text=True)
    signed_at = re.search(r'data-checkpoint="(\d+)"', page)
    assert signed_at is not None and int(signed_at.group(1)) > 0
    assert re.search(r'data-verification="intact" data-checkpoints-checked="[1-9]\d*"', page)


@pytest.mark.asvs("V16.3.2")
def test_repeated_refusals_raise_an_alert(app: Flask, factory: Factory) -> None:
    intruder = app.test_client()
    account = factory.account("group_leader")
    log_in(intruder, account)
    for _ in range(6):
        assert intruder.get("/admin/users").status_code == 403
    dpo = app.test_client()
    log_in(dpo, factory.account("dpo"))
    page = dpo.get("/dpo/alerts").get_data(as_text=True)
    assert 'data-alert="denials"' in page and account.username in page


def test_reading_many_people_in_an_hour_raises_an_alert(settings: Settings) -> None:
    with app_in_rolled_back_transaction(replace(settings, alert_distinct_people_per_hour=2)) as app:
        factory = Factory(app, settings)
        actor = social_worker_actor(factory)
        with app.app_context(), UnitOfWork(request_session()) as uow:
            for day in (1, 2, 3):
                children.register_child(
                    uow, actor, children.NewChild(invented_personnummer(2011, 2, day), f"M{day}")
                )
        dpo = app.test_client()
        log_in(dpo, factory.account("dpo"))
        assert 'data-alert="many_people"' in dpo.get("/dpo/alerts").get_data(as_text=True)


def test_personal_data_read_outside_working_hours_raises_an_alert(settings: Settings) -> None:
    hour = datetime.now(ZoneInfo("Europe/Stockholm")).hour
    start, end = (0, 1) if hour >= 12 else (20, 23)
    with app_in_rolled_back_transaction(
        replace(settings, working_hours_start=start, working_hours_end=end)
    ) as app:
        factory = Factory(app, settings)
        _child_with_history(app, factory)
        dpo = app.test_client()
        log_in(dpo, factory.account("dpo"))
        assert 'data-alert="off_hours"' in dpo.get("/dpo/alerts").get_data(as_text=True)


@pytest.mark.asvs("V16.2.5")
def test_no_name_or_personnummer_reaches_the_logs_or_the_audit_table(
    app: Flask, factory: Factory, dpo: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    personnummer = _child_with_history(app, factory)
    token = csrf_token(dpo, "/dpo/subject-access")
    dpo.post("/dpo/subject-access", data={"personnummer": personnummer, "csrf_token": token})
    dpo.post("/dpo/subject-access", data={"personnummer": "20121212-0000", "csrf_token": token})
    assert CANARY_NAME not in caplog.text and personnummer not in caplog.text
    with app.app_context():
        from sqlalchemy import text

        rows = request_session().execute(text("SELECT * FROM audit_entries")).all()
    raw = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
        for row in rows
        for v in row
    )
    assert CANARY_NAME.encode() not in raw
    assert personnummer.encode() not in raw and personnummer[2:].encode() not in raw


@pytest.mark.asvs("V16.4.2")
def test_only_the_dpo_reaches_the_access_log(client: FlaskClient, factory: Factory) -> None:
    log_in(client, factory.account("admin"))
    for path in ("/dpo/audit", "/dpo/subject-access", "/dpo/integrity", "/dpo/alerts"):
        assert client.get(path).status_code == 403
    assert client.get("/api/v1/audit/entries").status_code == 403


@pytest.mark.asvs("V1.4.2")
def test_the_api_pages_through_the_log_and_reports_on_a_person(
    app: Flask, factory: Factory, dpo: FlaskClient
) -> None:
    personnummer = _child_with_history(app, factory)
    token = dpo.get("/api/v1/me").headers["X-CSRFToken"]
    page = dpo.get("/api/v1/audit/entries?action=child:create").get_json()
    assert page["entries"] and {"sequence", "action", "subject_id"} <= set(page["entries"][0])
    report = dpo.post(
        "/api/v1/audit/subject-access",
        json={"personnummer": personnummer},
        headers={"X-CSRFToken": token},
    ).get_json()
    assert report["records_found"] == 1 and len(report["lines"]) >= 2
    bad = dpo.get("/api/v1/audit/entries?outcome=maybe")
    assert bad.status_code == 422 and "outcome" in bad.get_json()["errors"]
    # A page boundary beyond any sequence number the database can hold is refused by name.
    beyond = dpo.get(f"/api/v1/audit/entries?before={2**63}")
    assert beyond.status_code == 422 and "before" in beyond.get_json()["errors"]
    last = dpo.get(f"/api/v1/audit/entries?before={2**63 - 1}&action=child:create")
    assert last.get_json()["entries"] == page["entries"]
    verified = dpo.post("/api/v1/audit/verify", headers={"X-CSRFToken": token}).get_json()
    assert verified["ok"] is True


def test_the_dpos_log_reads_in_swedish_words_and_on_stockholms_clock(
    app: Flask, factory: Factory, dpo: FlaskClient
) -> None:
    _child_with_history(app, factory)
    body = dpo.get("/dpo/audit").get_data(as_text=True)
    assert "Barn registrerat" in body and "Tillåten" in body and "Socialsekreterare" in body
    # No code and no UTC text between tags: only in attributes, for machines.
    shown = re.findall(r">([^<]*)<", body)
    assert not [t for t in shown if re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", t)]
    assert not [t for t in shown if t.strip() in {"child:create", "allowed", "social_worker"}]
    options = re.findall(r'<option value="child:read">([^<]*)</option>', body)
    assert options == ["Barnets uppgifter lästa"]


def test_a_search_by_dates_alone_pages_newest_first_without_losing_or_repeating_an_entry(
    app: Flask, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in the order of the index on the entry's time (issue 18): entries written in one
    request share their moment and are ordered by their sequence, a clock set back puts an
    entry where its time says, and a page ends anywhere, even inside one moment."""
    dpo = actor_of(factory.account("dpo"), Role.DPO)
    system = Actor.system_actor("dates-test")
    base = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    moments = [base + timedelta(minutes=m) for m in (0, 5, 5, 5, 10, 3, 20, 20, 30)]
    with app.app_context(), UnitOfWork(request_session()) as uow:
        for moment in moments:
            monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
            record(uow.session, system, Action.AUDIT_SEARCH, object_type="dates-test")
        uow.commit()
        written = [
            (entry.sequence, entry.occurred_at)
            for entry in uow.session.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "dates-test")
            )
        ]
    monkeypatch.setattr(clock, "now", lambda: base + timedelta(days=1))
    monkeypatch.setattr(audit_search, "PAGE_SIZE", 2)
    criteria = audit_search.AuditFilter(
        since=base - timedelta(minutes=1), until=base + timedelta(hours=1)
    )
    seen: list[int] = []
    before = None
    with app.app_context(), UnitOfWork(request_session()) as uow:
        while True:
            page = audit_search.search(uow, dpo, criteria, before)
            seen += [e.sequence for e in page.entries if e.object_type == "dates-test"]
            if page.next_before is None:
                break
            before = page.next_before
    newest_first = sorted(written, key=lambda w: (w[1], w[0]), reverse=True)
    assert seen == [sequence for sequence, _at in newest_first]
    # The entry written at 12:03 after the one at 12:10 comes after it in time order.
    assert len(seen) == len(moments) == len(set(seen))


@pytest.mark.asvs("V1.4.2")
@pytest.mark.parametrize("before", [str(2**63), "0", "-5", "sista"])
def test_a_page_boundary_the_log_cannot_hold_is_refused_by_name_on_the_dpos_page(
    dpo: FlaskClient, before: str
) -> None:
    """Past the 64-bit sequence, the database could not even compare it: that was a 500."""
    response = dpo.get(f"/dpo/audit?before={before}")
    assert response.status_code == 422
    assert 'id="before-error"' in response.get_data(as_text=True)


def test_the_dpos_page_links_to_the_next_page_and_it_continues_the_log(
    app: Flask, factory: Factory, dpo: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _child_with_history(app, factory)
    monkeypatch.setattr(audit_search, "PAGE_SIZE", 2)
    first = dpo.get("/dpo/audit").get_data(as_text=True)
    link = re.search(r'href="(/dpo/audit\?before=\d+)"', first)
    assert link is not None
    assert dpo.get(link.group(1).replace("&amp;", "&")).status_code == 200
