"""Files returned by partners, over HTTP, as the district's social worker uses them: the start
page counts what waits, the inbox names the child, the document page reads (and prints) the
participation with its signature's status, the JSON download verifies with the public key
the service offers, and the acknowledge button works once. A group leader and another
district's social worker get nothing."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from audit.checkpoints import key_id_of, load_public_key
from config.settings import Settings
from referral.db.audit_log import AuditEntry
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import returned_files
from tests.factories import SYSTEM, Factory, csrf_token, log_in
from tests.integration.test_returned_files import (
    CHILD_NAME,
    LAST,
    Completed,
    completed_participation,
    signing_key,
)


@dataclass
class World:
    completed: Completed
    file_id: str
    worker: FlaskClient  # a logged-in social worker of the district


def _client(app: Flask, factory: Factory, role: str, organisation: object = None) -> FlaskClient:
    client = app.test_client()
    log_in(client, factory.account(role, organisation))  # type: ignore[arg-type]
    return client


@pytest.fixture
def world(app: Flask, factory: Factory, settings: Settings) -> World:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        completed = completed_participation(uow, factory)
        delivered = returned_files.deliver(
            uow, SYSTEM, completed.referral_id, signing_key(settings), LAST
        )
        uow.commit()
    worker = _client(app, factory, "social_worker", completed.district)
    return World(completed, delivered.id, worker)


def _acknowledge(client: FlaskClient, file_id: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/returned-files/{file_id}")
    return client.post(f"/returned-files/{file_id}/acknowledge", data={"csrf_token": token})


def _entries(app: Flask, action: str) -> int:
    with app.app_context():
        return int(
            request_session().scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


def test_the_start_page_counts_the_files_waiting_and_the_inbox_names_the_child(
    world: World,
) -> None:
    start = world.worker.get("/").get_data(as_text=True)
    inbox = world.worker.get("/returned-files")
    page = inbox.get_data(as_text=True)
    assert 'data-unacknowledged="1"' in start
    assert 'href="/returned-files"' in start
    assert inbox.status_code == 200
    assert CHILD_NAME in page and world.completed.partner.name in page
    assert f'data-file="{world.file_id}" data-acknowledged="no"' in page
    assert f'href="/returned-files/{world.file_id}"' in page


def test_the_document_page_shows_the_participation_the_signature_and_prints(
    world: World, settings: Settings
) -> None:
    response = world.worker.get(f"/returned-files/{world.file_id}")
    page = response.get_data(as_text=True)
    key_id = key_id_of(signing_key(settings).public_key())
    assert response.status_code == 200
    assert CHILD_NAME in page and world.completed.personnummer in page
    assert 'data-signature="valid"' in page and key_id in page
    assert 'data-attended="6"' in page and 'data-absences="1"' in page
    assert 'data-session="2" data-attendance="absent"' in page
    assert f'data-report="{world.completed.report_id}"' in page
    assert "consent.css" in page  # the print stylesheet of the other printable pages
    assert f'action="/returned-files/{world.file_id}/acknowledge"' in page


def test_the_json_download_verifies_with_the_offered_public_key_and_not_when_changed(
    world: World,
) -> None:
    download = world.worker.get(f"/returned-files/{world.file_id}/document.json")
    pem = world.worker.get("/returned-files/public-key.pem")
    envelope = json.loads(download.get_data(as_text=True))
    public = load_public_key(pem.get_data())
    signature = base64.b64decode(envelope["signature"])
    changed = envelope["document"].replace('"status":"completed"', '"status":"withdrawn"')
    assert download.status_code == 200 and pem.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert set(envelope) == {"document", "signature", "key_id"}
    assert envelope["key_id"] == key_id_of(public)
    assert json.loads(envelope["document"])["child"]["name"] == CHILD_NAME
    assert returned_files.verify(envelope["document"], signature, public)
    assert changed != envelope["document"]
    assert not returned_files.verify(changed, signature, public)


def test_the_acknowledge_button_works_once(app: Flask, world: World) -> None:
    first = _acknowledge(world.worker, world.file_id)
    page = world.worker.get(f"/returned-files/{world.file_id}").get_data(as_text=True)
    start = world.worker.get("/").get_data(as_text=True)
    second = world.worker.post(
        f"/returned-files/{world.file_id}/acknowledge",
        data={"csrf_token": csrf_token(world.worker, "/")},
    )
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/returned-files/{world.file_id}")
    assert 'data-acknowledged="yes"' in page
    assert f'action="/returned-files/{world.file_id}/acknowledge"' not in page
    assert "data-unacknowledged" not in start
    assert second.status_code == 409
    assert _entries(app, "returned_file:acknowledge") == 1


def test_a_group_leader_and_another_districts_social_worker_get_nothing(
    app: Flask, factory: Factory, world: World
) -> None:
    leader = _client(app, factory, "group_leader", world.completed.partner)
    elsewhere = _client(app, factory, "social_worker")
    before = _entries(app, "returned_file:read")
    assert leader.get(f"/returned-files/{world.file_id}").status_code == 403
    assert leader.get("/returned-files").status_code == 403
    assert elsewhere.get(f"/returned-files/{world.file_id}").status_code == 404
    assert elsewhere.get(f"/returned-files/{world.file_id}/document.json").status_code == 404
    assert _acknowledge_status(elsewhere, world.file_id) == 404
    assert CHILD_NAME not in elsewhere.get("/returned-files").get_data(as_text=True)
    assert _entries(app, "returned_file:read") == before


def _acknowledge_status(client: FlaskClient, file_id: str) -> int:
    token = csrf_token(client, "/")
    return client.post(
        f"/returned-files/{file_id}/acknowledge", data={"csrf_token": token}
    ).status_code
