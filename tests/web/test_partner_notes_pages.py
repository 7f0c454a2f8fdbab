"""The group leader's notes on a referral, on the page and over the API: the inbox and the
roster link to them, a note written shows on the page, a refused note keeps what was typed
and names the field, and another partner's leader is told the referral does not exist."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from referral import clock
from referral.actors import Actor
from referral.api.partner_files import NoteOut, PartnerFileOut, WrittenNoteOut
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.people import PartnerNote
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, groups, partner_files, referrals
from tests.factories import Account, Factory, api_client, csrf_token, invented_personnummer, log_in

NOTE = "Sjöng med i sången, ville inte gå hem."


def _leader_actor(leader: Account, partner: Organisation) -> Actor:
    return Actor(leader.user.id, leader.username, partner.id, frozenset({Role.GROUP_LEADER}))


def _accepted(app: Flask, factory: Factory, partner: Organisation, leader: Account) -> str:
    """An LVU child referred to `partner` and accepted by `leader`: the referral's id."""
    district = factory.organisation("district")
    worker = Actor("sw-notes", "handlaggare", district.id, frozenset({Role.SOCIAL_WORKER}))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow,
            worker,
            children.NewChild(
                invented_personnummer(clock.today().year - 10, 4, 2), "Anteckningssida"
            ),
        )
        consent.record_placement(
            uow,
            worker,
            child.id,
            "LVU",
            "Beslut 2/2026",
            "SDN",
            date(2026, 1, 15),
            today=clock.today(),
            lvu_shared=("name", "age", "participation"),
        )
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner.id, "weekly"), today=clock.today()
        )
        referrals.submit_referral(uow, worker, referral.id, clock.today())
        referrals.respond(uow, _leader_actor(leader, partner), referral.id, True, clock.today())
    return referral.id


def _post(client: FlaskClient, path: str, data: dict[str, object]) -> TestResponse:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def _notes_stored(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(PartnerNote)) or 0)


def _entries(app: Flask, action: str) -> int:
    with app.app_context():
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return int(request_session().scalar(query) or 0)


@pytest.fixture
def partner(factory: Factory) -> Organisation:
    return factory.organisation("partner")


@pytest.fixture
def leader(factory: Factory, partner: Organisation) -> Account:
    return factory.account("group_leader", partner)


# --- the page --------------------------------------------------------------------------------


def test_the_leader_follows_the_inbox_link_writes_a_note_and_sees_it_on_the_page(
    app: Flask, factory: Factory, client: FlaskClient, partner: Organisation, leader: Account
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    log_in(client, leader)
    inbox = client.get("/partner/referrals").get_data(as_text=True)
    path = f"/partner/referrals/{referral_id}/notes"
    assert f'href="{path}"' in inbox

    empty = client.get(path)
    assert empty.status_code == 200
    page = empty.get_data(as_text=True)
    assert "data-note=" not in page
    assert "gallras när deltagandet har avslutats" in html.unescape(page)  # what the file is

    saved = _post(client, path, {"text": NOTE})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(path)
    shown = html.unescape(client.get(path).get_data(as_text=True))
    assert NOTE in shown and "Test group_leader" in shown
    assert len(re.findall(r'data-note="[0-9a-f-]{36}"', shown)) == 1


def test_the_roster_links_each_placed_child_to_its_notes(
    app: Flask, factory: Factory, client: FlaskClient, partner: Organisation, leader: Account
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    actor = _leader_actor(leader, partner)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = groups.create_group(
            uow,
            actor,
            groups.NewGroup(
                "Anteckningsgrupp",
                "weekly",
                clock.today() + timedelta(days=3),
                7,
                18,
                [actor.user_id],
            ),
            clock.today(),
        )
        groups.enrol(uow, actor, group.group_id, referral_id, clock.today())
    log_in(client, leader)
    roster = client.get(f"/partner/groups/{group.group_id}").get_data(as_text=True)
    assert f'href="/partner/referrals/{referral_id}/notes"' in roster


def test_a_refused_note_keeps_what_was_typed_and_names_the_field(
    app: Flask, factory: Factory, client: FlaskClient, partner: Organisation, leader: Account
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    log_in(client, leader)
    path = f"/partner/referrals/{referral_id}/notes"
    for typed in ("x" * 4001, "Före\x00efter"):  # too long; a control character
        refused = _post(client, path, {"text": typed})
        assert refused.status_code == 422
        page = refused.get_data(as_text=True)
        assert 'id="text-error"' in page and 'aria-invalid="true"' in page
        assert re.search(r"<textarea[^>]*>\s*" + re.escape(typed) + "</textarea>", page)
    empty = _post(client, path, {"text": "   "})
    assert empty.status_code == 422 and 'id="text-error"' in empty.get_data(as_text=True)
    assert _notes_stored(app) == 0


def test_another_partners_leader_is_told_the_page_does_not_exist(
    app: Flask, factory: Factory, client: FlaskClient, partner: Organisation, leader: Account
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        actor = _leader_actor(leader, partner)
        partner_files.write_note(uow, actor, referral_id, NOTE, clock.today())
    stranger = factory.account("group_leader", factory.organisation("partner"))
    log_in(client, stranger)
    path = f"/partner/referrals/{referral_id}/notes"
    for response in (client.get(path), _post(client, path, {"text": "Intrång"})):
        assert response.status_code == 404
        assert NOTE not in html.unescape(response.get_data(as_text=True))
    assert _notes_stored(app) == 1


def test_a_social_worker_may_not_open_the_notes_page(
    app: Flask, factory: Factory, client: FlaskClient, partner: Organisation, leader: Account
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    log_in(client, factory.account("social_worker"))
    assert client.get(f"/partner/referrals/{referral_id}/notes").status_code == 403


# --- the API ---------------------------------------------------------------------------------


def _assert_problem(response: TestResponse, status: int, field: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem: dict[str, Any] = response.get_json()
    assert field in problem["errors"] and field in problem["detail"], problem


def test_the_leader_writes_and_reads_notes_over_the_api(
    app: Flask, factory: Factory, partner: Organisation, leader: Account
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    api = api_client(app, leader)
    path = f"/api/v1/partner/referrals/{referral_id}/notes"
    assert api.get(path).get_json() == {"referral_id": referral_id, "notes": []}
    assert _entries(app, "partner_file:read") == 0  # an empty file: nothing read

    written = api.post(path, {"text": NOTE})
    assert written.status_code == 201, written.get_json()
    body = written.get_json()
    assert set(body) == {"id", "written_at"} and NOTE not in written.get_data(as_text=True)

    file = api.get(path).get_json()
    assert file["referral_id"] == referral_id
    assert [(n["id"], n["text"], n["written_by"]) for n in file["notes"]] == [
        (body["id"], NOTE, "Test group_leader")
    ]
    assert file["notes"][0]["written_at"] == body["written_at"]
    assert _entries(app, "partner_file:read") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"text": "Före\x00efter"}, "text"),
        ({"text": "Bra", "child_name": "Någon"}, "child_name"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    app: Flask,
    factory: Factory,
    partner: Organisation,
    leader: Account,
    body: dict[str, str],
    field: str,
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    api = api_client(app, leader)
    response = api.post(f"/api/v1/partner/referrals/{referral_id}/notes", body)
    _assert_problem(response, 422, field)
    assert _notes_stored(app) == 0


def test_another_partners_leader_gets_404_over_the_api(
    app: Flask, factory: Factory, partner: Organisation, leader: Account
) -> None:
    referral_id = _accepted(app, factory, partner, leader)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        partner_files.write_note(
            uow, _leader_actor(leader, partner), referral_id, NOTE, clock.today()
        )
    stranger = api_client(app, factory.account("group_leader", factory.organisation("partner")))
    path = f"/api/v1/partner/referrals/{referral_id}/notes"
    for response in (stranger.get(path), stranger.post(path, {"text": "Intrång"})):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert NOTE not in response.get_data(as_text=True)
    assert _notes_stored(app) == 1


@pytest.mark.parametrize(
    ("schema", "read_model"),
    [
        (WrittenNoteOut, partner_files.WrittenNote),
        (NoteOut, partner_files.NoteView),
        (PartnerFileOut, partner_files.PartnerFileView),
    ],
)
def test_each_schema_carries_exactly_what_its_read_model_carries(
    schema: type[Schema], read_model: Any
) -> None:
    assert set(schema().fields) == {f.name for f in dataclasses.fields(read_model)}


def test_the_openapi_document_describes_the_notes(
    app: Flask, factory: Factory, partner: Organisation, leader: Account
) -> None:
    api = api_client(app, leader)
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    operations = paths["/api/v1/partner/referrals/{referral_id}/notes"]
    assert {"get", "post"} <= set(operations)
    assert "404" in operations["get"]["responses"] and "201" in operations["post"]["responses"]
