"""The OpenID Connect relying party: Authlib's client for the protocol, our rules for trust.

Authorization code flow with PKCE (S256), a fresh state and nonce per attempt, and an ID token
checked before anything is believed: its signature against the provider's published keys
(JWKS from discovery; a key never seen before fetches them again, once), the issuer, the
audience (our client id, and azp when there are several), expiry and issue time with a
bounded clock skew, the nonce, and at_hash when present. The second factor is what the
provider says it did (acr or amr), compared with what the configuration accepts. No fetch
follows a redirect: discovery, keys and token come from the addresses configured or
published, or not at all.

Knows nothing of Flask or the database: the views hold the pending attempt, the service
decides who the subject may become.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import TYPE_CHECKING, Any

from config.settings import OidcProvider

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc.errors import InvalidClaimError, MissingClaimError
    from joserfc.jwk import KeySet
    from requests import Response

# Authlib, joserfc and requests are imported in the methods that use them: every web worker
# imports this module (the sign-in pages), and they are megabytes of memory that only an
# OpenID Connect sign-in needs (issue 18; tests/unit/test_import_footprint.py).

SCOPE = "openid email profile"
HTTP_TIMEOUT_SECONDS = 10
# Discovery and keys are read again after this long, so a provider's key rotation is seen.
METADATA_SECONDS = 3600
# An ID token from a code just exchanged is fresh: one issued longer ago than this is refused.
MAX_TOKEN_AGE_SECONDS = 600
# Asymmetric signatures only: never "none", never an HMAC keyed with our client secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")


class SignInRefused(Exception):
    """The provider's answer cannot be trusted; `reason` is a short code for the access log
    (never a token, a code or a claim's value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the provider says signed in, from a checked ID token."""

    provider: str
    subject: str
    email: str | None
    second_factor: bool  # the provider proved a second factor (acr/amr as configured)
    id_token: str  # kept only as the hint for the provider's logout


class ProviderClient:
    def __init__(self, provider: OidcProvider) -> None:
        self.provider = provider
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, Any] | None = None
        self._read_at = 0.0
        self._lock = Lock()

    def _session(self, redirect_uri: str | None = None) -> OAuth2Session:
        from authlib.integrations.requests_client import OAuth2Session

        session = OAuth2Session(
            client_id=self.provider.client_id,
            client_secret=self.provider.client_secret,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method's name
        )
        session.register_compliance_hook("access_token_response", _refuse_redirect)
        return session

    def _get_json(self, url: str) -> dict[str, Any]:
        import requests

        try:
            response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)
            _refuse_redirect(response)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError):
            raise SignInRefused("provider_unreachable") from None
        if not isinstance(body, dict):
            raise SignInRefused("provider_unreachable")
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._read_at > METADATA_SECONDS:
                url = self.provider.issuer + "/.well-known/openid-configuration"
                found = self._get_json(url)
                # Mix-up defence: the document must be the configured issuer's own, exactly
                # (the ID token's iss is compared with the same string).
                if found.get("issuer") != self.provider.issuer:
                    raise SignInRefused("issuer")
                self._metadata, self._keys, self._read_at = found, None, time.monotonic()
            return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        metadata = self.metadata()
        with self._lock:
            if self._keys is None or refresh:
                uri = metadata.get("jwks_uri")
                if not isinstance(uri, str):
                    raise SignInRefused("provider_unreachable")
                self._keys = self._get_json(uri)
            keys = self._keys
        try:
            return KeySet.import_key_set(keys)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise SignInRefused("signature") from None

    def authorization_request(self, redirect_uri: str) -> AuthorizationRequest:
        from authlib.common.security import generate_token

        metadata = self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        extra: dict[str, str] = {"nonce": nonce}
        if self.provider.acr_values:
            # Ask for the second factor; the token's acr is still what decides.
            extra["acr_values"] = " ".join(self.provider.acr_values)
        url, _ = self._session(redirect_uri).create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, **extra
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def complete(
        self,
        code: str,
        pending: AuthorizationRequest,
        redirect_uri: str,
        now: datetime,
        leeway_seconds: int,
    ) -> VerifiedIdentity:
        """Exchange the code (the provider honours it once) and check the ID token."""
        import requests
        from authlib.integrations.base_client.errors import OAuthError

        metadata = self.metadata()
        try:
            token = self._session(redirect_uri).fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
                redirect_uri=redirect_uri,
                timeout=HTTP_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except OAuthError:
            # invalid_grant: a code used before, expired, or not this client's.
            raise SignInRefused("code_refused") from None
        except requests.RequestException:
            raise SignInRefused("provider_unreachable") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("no_id_token")
        claims = self.verify_id_token(
            id_token,
            nonce=pending.nonce,
            access_token=token.get("access_token"),
            now=now,
            leeway_seconds=leeway_seconds,
        )
        email = claims.get("email")
        return VerifiedIdentity(
            provider=self.provider.key,
            subject=str(claims["sub"]),
            email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
            second_factor=self.proves_second_factor(claims),
            id_token=id_token,
        )

    def verify_id_token(
        self,
        id_token: str,
        *,
        nonce: str,
        access_token: object,
        now: datetime,
        leeway_seconds: int,
    ) -> dict[str, Any]:
        from authlib.oidc.core import CodeIDToken
        from joserfc import jwt
        from joserfc.errors import (
            BadSignatureError,
            ExpiredTokenError,
            InvalidClaimError,
            InvalidKeyIdError,
            JoseError,
            MissingClaimError,
        )
        from joserfc.jws import JWSRegistry

        supported = self.metadata().get("id_token_signing_alg_values_supported")
        algorithms = [a for a in ALGORITHMS if not supported or a in supported]
        if not algorithms:
            # An empty list would let the library fall back to its defaults (HMAC among
            # them): a provider that signs with none of ours cannot sign anyone in.
            raise SignInRefused("algorithm")
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), registry=registry)
            except InvalidKeyIdError:
                decoded = jwt.decode(id_token, self._key_set(refresh=True), registry=registry)
        except BadSignatureError:
            raise SignInRefused("signature") from None
        except (JoseError, ValueError):
            raise SignInRefused("malformed_token") from None
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.provider.client_id}
        if isinstance(access_token, str):
            params["access_token"] = access_token
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.provider.issuer},
            "aud": {"essential": True, "value": self.provider.client_id},
        }
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        moment = int(now.timestamp())
        try:
            claims.validate(now=moment, leeway=leeway_seconds)
        except ExpiredTokenError:
            raise SignInRefused("expired") from None
        except (InvalidClaimError, MissingClaimError) as error:
            raise SignInRefused(_claim_reason(error)) from None
        except JoseError:
            raise SignInRefused("malformed_token") from None
        if claims["iat"] < moment - MAX_TOKEN_AGE_SECONDS - leeway_seconds:
            raise SignInRefused("token_too_old")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise SignInRefused("invalid_sub")
        return dict(claims)

    def proves_second_factor(self, claims: dict[str, Any]) -> bool:
        acr = claims.get("acr")
        if isinstance(acr, str) and acr in self.provider.acr_values:
            return True
        amr = claims.get("amr")
        return isinstance(amr, list) and any(m in self.provider.amr_values for m in amr)

    def end_session_url(self, id_token_hint: str, post_logout_redirect_uri: str) -> str | None:
        """The provider's logout (RP-initiated), or None when it publishes none."""
        from authlib.common.urls import add_params_to_uri

        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except SignInRefused:
            return None
        if not isinstance(endpoint, str):
            return None
        params = {
            "id_token_hint": id_token_hint,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "client_id": self.provider.client_id,
        }
        return str(add_params_to_uri(endpoint, params))


def _refuse_redirect(response: Response) -> Response:
    """Discovery, keys and the token are fetched from the addresses configured or published,
    never from wherever an answer points (ASVS 5.0 V15.3.2): a redirect could send the
    client secret, the code or the request itself to another host, or into the internal
    network. A provider that moved is configured again."""
    if 300 <= response.status_code < 400:
        raise SignInRefused("redirected")
    return response


def _claim_reason(error: InvalidClaimError | MissingClaimError) -> str:
    """The claim at fault as a reason code: 'audience', 'issuer', 'nonce', 'invalid_iat'…"""
    from joserfc.errors import MissingClaimError

    names = {"aud": "audience", "azp": "audience", "iss": "issuer", "nonce": "nonce"}
    if error.claim in names:
        return names[error.claim]
    prefix = "missing_" if isinstance(error, MissingClaimError) else "invalid_"
    return prefix + "".join(c for c in error.claim if c.isalnum() or c == "_")[:20]


_clients: dict[tuple[str, str, str], ProviderClient] = {}
_clients_lock = Lock()


def client_for(provider: OidcProvider) -> ProviderClient:
    """One client per provider per process, so discovery and keys are cached between
    sign-ins."""
    key = (provider.key, provider.issuer, provider.client_id)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = ProviderClient(provider)
        return _clients[key]
