"""What the service believes of an identity provider's answers: nothing from an address the
provider redirects to, and no discovery document or ID token naming another issuer than the
one configured. Each test uses a client of its own, so no document cached by an earlier
sign-in hides the provider's misbehaviour."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from referral.auth.oidc_client import ProviderClient, SignInRefused, VerifiedIdentity
from tests.oidc_provider import (
    StubProvider,
    stub_provider,  # noqa: F401 - a fixture
)

CALLBACK = "http://127.0.0.1/login/oidc/stub/callback"
ANOTHER_ISSUER = "https://idp.example.com"


@pytest.fixture
def stub(stub_provider: StubProvider) -> StubProvider:  # noqa: F811
    return stub_provider


def fresh_client(stub: StubProvider) -> ProviderClient:
    return ProviderClient(stub.config("Stadsdelsförvaltningen"))


def sign_in(stub: StubProvider, client: ProviderClient, **claims: object) -> VerifiedIdentity:
    """The whole round as the callback drives it: discovery, the code for a token, the token's
    signature against the published keys."""
    pending = client.authorization_request(CALLBACK)
    stub.next_id_token = stub.sign(stub.claims(pending.nonce, **claims))
    return client.complete("any-code", pending, CALLBACK, now=datetime.now(UTC), leeway_seconds=60)


def test_a_provider_answering_where_it_is_asked_signs_the_person_in(stub: StubProvider) -> None:
    assert sign_in(stub, fresh_client(stub)).subject == "stub-subject"


@pytest.mark.parametrize(
    "moved", ["/.well-known/openid-configuration", "/token", "/jwks"], ids=str.strip
)
@pytest.mark.asvs("V15.3.2")
def test_a_provider_answering_with_a_redirect_is_not_followed(
    stub: StubProvider, moved: str
) -> None:
    """The redirect points to the very same answer: following it would have signed in."""
    with stub.redirecting(moved), pytest.raises(SignInRefused) as refused:
        sign_in(stub, fresh_client(stub))
    assert refused.value.reason == "redirected"


@pytest.mark.parametrize("published", [ANOTHER_ISSUER, "{own}/", "{own}/tenant"])
@pytest.mark.asvs("V10.5.3")
def test_a_discovery_document_naming_another_issuer_is_refused(
    stub: StubProvider, published: str
) -> None:
    claimed = published.format(own=stub.issuer)
    with stub.claiming_issuer(claimed), pytest.raises(SignInRefused) as refused:
        fresh_client(stub).metadata()
    assert refused.value.reason == "issuer"


def test_an_id_token_from_another_issuer_is_refused_even_when_its_signature_holds(
    stub: StubProvider,
) -> None:
    with pytest.raises(SignInRefused) as refused:
        sign_in(stub, fresh_client(stub), iss=ANOTHER_ISSUER)
    assert refused.value.reason == "issuer"
