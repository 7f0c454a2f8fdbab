"""Identity providers for the sign-in tests, on loopback ports of their own.

- `mock_provider`: oidc-provider-mock, a real OpenID Connect provider (discovery, an
  authorize page, a token endpoint that honours a code once, JWKS, end-session). A test sets
  a subject's claims (email, acr, amr) with `provider.set_user(...)`.
- `stub_provider`: a provider that answers the token request with whatever ID token the test
  signed (with its own key, served from its JWKS), for the tokens a real provider never
  issues: the wrong audience, expired, a foreign nonce, a bad signature. A test may also make
  it misbehave otherwise: answer with a redirect (`stub.redirecting(...)`), or publish a
  discovery document naming another issuer (`stub.claiming_issuer(...)`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import oidc_provider_mock
import pytest
import requests
from flask import Flask, jsonify, redirect, request
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from config.settings import OidcProvider

CLIENT_ID = "referral-test-client"
CLIENT_SECRET = "a-secret-the-provider-issued-" + "x" * 8
SECOND_FACTOR_ACR = "urn:stockholm:loa:mfa"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """`app` on a free loopback port until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@dataclass
class MockProvider:
    issuer: str

    def set_user(self, subject: str, **claims: object) -> None:
        response = requests.put(f"{self.issuer}/users/{subject}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def config(self, organisation: str, key: str = "city", **changes: Any) -> OidcProvider:
        values: dict[str, Any] = {
            "key": key,
            "display_name": "Stockholms stad",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "organisation": organisation,
            "acr_values": (SECOND_FACTOR_ACR,),
        }
        values.update(changes)
        return OidcProvider(**values)


@pytest.fixture(scope="session")
def mock_provider() -> Iterator[MockProvider]:
    with serve(oidc_provider_mock.app(require_nonce=True)) as issuer:
        yield MockProvider(issuer)


def new_subject() -> str:
    return f"subject-{secrets.token_hex(6)}"


def authorize_at_mock(authorize_url: str, subject: str) -> str:
    """What the person does on the provider's page: signs in as `subject`. Returns where the
    provider sends the browser back to (our callback, with code and state)."""
    response = requests.post(authorize_url, data={"sub": subject}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return str(response.headers["Location"])


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start_sign_in(client: FlaskClient, key: str = "city") -> str:
    """Press the provider's button: our redirect to its authorize endpoint."""
    response = client.get(f"/login/oidc/{key}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.location)


def sign_in_through_mock(client: FlaskClient, subject: str, key: str = "city"):  # type: ignore[no-untyped-def]
    """The whole round: our button, the provider's page, back to our callback."""
    back = authorize_at_mock(start_sign_in(client, key), subject)
    return client.get(path_of(back))


@dataclass
class StubProvider:
    """Answers the token request with `next_id_token`, signed by the test."""

    issuer: str
    key: RSAKey
    next_id_token: str = ""
    foreign_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048))
    # Paths answered with a redirect to the same answer under /moved (307: a POST stays one).
    redirected: frozenset[str] = frozenset()
    # The issuer the discovery document names, when not its own.
    published_issuer: str | None = None

    @contextmanager
    def redirecting(self, *paths: str) -> Iterator[None]:
        self.redirected = frozenset(paths)
        try:
            yield
        finally:
            self.redirected = frozenset()

    @contextmanager
    def claiming_issuer(self, issuer: str) -> Iterator[None]:
        self.published_issuer = issuer
        try:
            yield
        finally:
            self.published_issuer = None

    def config(self, organisation: str, key: str = "stub", **changes: Any) -> OidcProvider:
        values: dict[str, Any] = {
            "key": key,
            "display_name": "Stubbleverantören",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "organisation": organisation,
            "acr_values": (SECOND_FACTOR_ACR,),
        }
        values.update(changes)
        return OidcProvider(**values)

    def claims(self, nonce_sent: str, /, **changes: Any) -> dict[str, Any]:
        """A good token's claims; a change of None removes the claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": "stub-subject",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce_sent,
            "acr": SECOND_FACTOR_ACR,
        }
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        signing = key or self.key
        header = {"alg": "RS256", "kid": signing.kid}
        return jwt.encode(header, claims, signing)


def _stub_app(stub: StubProvider) -> Flask:
    app = Flask("stub_provider")

    @app.before_request
    def moved() -> Any:
        if request.path in stub.redirected:
            return redirect("/moved" + request.path, code=307)
        return None

    @app.get("/.well-known/openid-configuration")
    @app.get("/moved/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=stub.published_issuer or stub.issuer,
            authorization_endpoint=stub.issuer + "/authorize",
            token_endpoint=stub.issuer + "/token",
            jwks_uri=stub.issuer + "/jwks",
            id_token_signing_alg_values_supported=["RS256"],
        )

    @app.get("/jwks")
    @app.get("/moved/jwks")
    def jwks() -> Any:
        return jsonify(KeySet([stub.key]).as_dict(private=False))

    @app.post("/token")
    @app.post("/moved/token")
    def token() -> Any:
        return jsonify(
            access_token="stub-access-token",
            token_type="Bearer",
            expires_in=300,
            id_token=stub.next_id_token,
        )

    return app


@pytest.fixture(scope="session")
def stub_provider() -> Iterator[StubProvider]:
    key = RSAKey.generate_key(2048, parameters={"kid": "stub-key-1"})
    foreign = RSAKey.generate_key(2048, parameters={"kid": "stub-key-1"})
    stub = StubProvider(issuer="", key=key, foreign_key=foreign)
    with serve(_stub_app(stub)) as issuer:
        stub.issuer = issuer
        yield stub
