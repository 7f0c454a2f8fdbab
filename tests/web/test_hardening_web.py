"""Web and API hardening: what a hostile client sends never reaches the log, a redirect or a
500, and the API document and error answers say what a client may do."""

from __future__ import annotations

import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.db.audit_log import AuditEntry
from referral.db.engine import request_session
from tests.factories import Factory, log_in

CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _newest_request_id(factory: Factory) -> str | None:
    with factory.app.app_context():
        entry = (
            request_session()
            .scalars(select(AuditEntry).order_by(AuditEntry.sequence.desc()).limit(1))
            .one()
        )
        return entry.request_id


HOSTILE_REQUEST_IDS = [
    "abc",
    "abcdefgh\nforged entry",
    "0f8fad5b-d9cb-469f-a165-70867728950e\n",  # a good id with a trailing newline
    "x" * 200,
    "1'; DROP TABLE audit_entries; --",
    "{0f8fad5b-d9cb-469f-a165-70867728950e}",
    "0f8fad5bd9cb469fa16570867728950e",
    "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
]


@pytest.mark.parametrize("offered", HOSTILE_REQUEST_IDS)
def test_a_hostile_request_id_never_reaches_the_access_log_or_the_response(
    client: FlaskClient, factory: Factory, offered: str
) -> None:
    log_in(client, factory.account("admin"))
    # environ_overrides: the test client itself refuses a header value with a newline.
    response = client.get("/api/v1/users", environ_overrides={"HTTP_X_REQUEST_ID": offered})
    assert response.status_code == 200
    sent_back = response.headers["X-Request-ID"]
    assert CANONICAL_UUID.fullmatch(sent_back)
    assert sent_back != offered.strip().lower()
    assert _newest_request_id(factory) == sent_back


def test_a_proxys_well_formed_request_id_is_kept_in_the_log_and_the_response(
    client: FlaskClient, factory: Factory
) -> None:
    log_in(client, factory.account("admin"))
    offered = str(uuid.uuid4())
    response = client.get("/api/v1/users", headers={"X-Request-ID": offered.upper()})
    assert response.headers["X-Request-ID"] == offered
    assert _newest_request_id(factory) == offered


def test_every_answer_carries_a_request_id_even_without_one_offered(client: FlaskClient) -> None:
    response = client.get("/login")
    assert CANONICAL_UUID.fullmatch(response.headers["X-Request-ID"])
