"""The session token a browser holds (OWASP ASVS 5.0 V7.2.3): 256 random bits, a new one for
every session, and only its hash in the database, so a copy of the database opens no session."""

from __future__ import annotations

import base64
import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.db.models import AuthSession
from referral.request_scope import request_session
from tests.factories import Factory, log_in


def _token(app: Flask, client: FlaskClient) -> str:
    """The token inside the signed session cookie (Flask-Login keeps it as the user id)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    token: str = serializer.loads(cookie.value)["_user_id"]
    return token


@pytest.mark.asvs("V7.2.3")
def test_each_session_has_its_own_256_bit_token_and_the_database_keeps_only_its_hash(
    app: Flask, factory: Factory
) -> None:
    accounts = [factory.account() for _ in range(3)]
    tokens = []
    for account in accounts:
        client = app.test_client()
        log_in(client, account)
        tokens.append(_token(app, client))
    assert len(set(tokens)) == 3
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 256
    with app.app_context():
        stored = set(
            request_session().scalars(
                select(AuthSession.token_hash).where(
                    AuthSession.user_id.in_([a.user.id for a in accounts])
                )
            )
        )
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    assert not stored & set(tokens)
