"""A provider that signs ID tokens with none of the asymmetric algorithms the service allows
signs no one in: an empty allow-list must never fall back to the library's defaults, which
include HMAC (a token "signed" with the client secret, or with a public key as HMAC key)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import OidcProvider
from referral.auth.oidc_client import ProviderClient, SignInRefused


class _ProviderSigningWith(ProviderClient):
    def __init__(self, algorithms: list[str]) -> None:
        super().__init__(
            OidcProvider(
                key="city",
                display_name="Staden",
                issuer="https://idp.example",
                client_id="iop",
                client_secret="not-used-here",
                organisation="org",
            )
        )
        self._advertised = algorithms

    def metadata(self) -> dict[str, Any]:
        return {"id_token_signing_alg_values_supported": self._advertised}


@pytest.mark.parametrize("advertised", [["HS256"], ["HS256", "none"], ["ES512"]])
@pytest.mark.asvs("V9.1.2")
def test_a_provider_with_none_of_our_algorithms_is_refused_before_any_token_is_read(
    advertised: list[str],
) -> None:
    with pytest.raises(SignInRefused) as refused:
        _ProviderSigningWith(advertised).verify_id_token(
            "eyJhbGciOiJIUzI1NiJ9.e30.sig",
            nonce="n",
            access_token=None,
            now=datetime(2027, 1, 1, tzinfo=UTC),
            leeway_seconds=30,
        )
    assert refused.value.reason == "algorithm"
