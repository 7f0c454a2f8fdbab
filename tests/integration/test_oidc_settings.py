"""How identity providers are configured, and what stops the service from starting."""

from __future__ import annotations

import secrets

import pytest

from config.settings import ConfigError, load_settings

BASE = {
    "REFERRAL_SECRET_KEY": secrets.token_urlsafe(48),
    "REFERRAL_MFA_KEY": secrets.token_urlsafe(48),
    "REFERRAL_BLIND_INDEX_KEY": secrets.token_urlsafe(48),
    "REFERRAL_AUDIT_KEY": secrets.token_urlsafe(48),
}
CITY = {
    "REFERRAL_OIDC_PROVIDERS": "city",
    "REFERRAL_OIDC_CITY_ISSUER": "https://idp.stockholm.se/realms/staff/",
    "REFERRAL_OIDC_CITY_CLIENT_ID": "iop-referrals",
    "REFERRAL_OIDC_CITY_CLIENT_SECRET": "the-secret-the-city-issued-for-us",
    "REFERRAL_OIDC_CITY_ORGANISATION": "Stadsdelsförvaltning Norr",
    "REFERRAL_OIDC_CITY_DISPLAY_NAME": "Stockholms stad",
    "REFERRAL_OIDC_CITY_EMAIL_DOMAINS": "stockholm.se, @edu.stockholm.se",
    "REFERRAL_OIDC_CITY_ACR_VALUES": "urn:siths:loa3,urn:freja:loa3",
}
PRODUCTION = {
    "REFERRAL_ENV": "production",
    "REFERRAL_DATABASE_URL": "postgresql+psycopg://db/referral",
    "REFERRAL_AUDIT_CHECKPOINT_MIRROR": "syslog",
}


def test_without_providers_there_are_none() -> None:
    assert load_settings(BASE).oidc_providers == ()


def test_a_provider_is_read_from_its_variables() -> None:
    (city,) = load_settings({**BASE, **CITY}).oidc_providers
    assert city.key == "city" and city.display_name == "Stockholms stad"
    assert city.issuer == "https://idp.stockholm.se/realms/staff"
    assert city.email_domains == ("stockholm.se", "edu.stockholm.se")
    assert city.acr_values == ("urn:siths:loa3", "urn:freja:loa3")
    assert "the-secret" not in repr(city), "the secret is never shown"


@pytest.mark.parametrize("secret", ["", "changeme"])
@pytest.mark.asvs("V13.2.3")
def test_a_provider_without_its_secret_stops_the_start(secret: str) -> None:
    with pytest.raises(ConfigError, match="REFERRAL_OIDC_CITY_CLIENT_SECRET"):
        load_settings({**BASE, **CITY, "REFERRAL_OIDC_CITY_CLIENT_SECRET": secret})


def test_production_refuses_a_provider_without_its_secret() -> None:
    environment = {**BASE, **CITY, **PRODUCTION, "REFERRAL_PUBLIC_URL": "https://iop.example"}
    environment.pop("REFERRAL_OIDC_CITY_CLIENT_SECRET")
    with pytest.raises(ConfigError, match="CLIENT_SECRET is missing"):
        load_settings(environment)


def test_production_wants_the_public_https_address_for_the_redirect_uri() -> None:
    with pytest.raises(ConfigError, match="REFERRAL_PUBLIC_URL"):
        load_settings({**BASE, **CITY, **PRODUCTION})
    settings = load_settings(
        {**BASE, **CITY, **PRODUCTION, "REFERRAL_PUBLIC_URL": "https://iop.example/"}
    )
    assert settings.public_url == "https://iop.example"


def test_an_issuer_without_tls_is_refused_except_on_loopback_outside_production() -> None:
    with pytest.raises(ConfigError, match="ISSUER"):
        load_settings({**BASE, **CITY, "REFERRAL_OIDC_CITY_ISSUER": "http://idp.example"})
    loopback = {**BASE, **CITY, "REFERRAL_OIDC_CITY_ISSUER": "http://127.0.0.1:8080"}
    assert load_settings(loopback).oidc_providers[0].issuer == "http://127.0.0.1:8080"


@pytest.mark.parametrize("missing", ["ISSUER", "CLIENT_ID", "ORGANISATION"])
def test_a_provider_missing_a_required_variable_is_named(missing: str) -> None:
    environment = {**BASE, **CITY}
    environment.pop(f"REFERRAL_OIDC_CITY_{missing}")
    with pytest.raises(ConfigError, match=f"REFERRAL_OIDC_CITY_{missing}"):
        load_settings(environment)


def test_the_clock_skew_is_at_most_a_minute() -> None:
    assert (
        load_settings({**BASE, "REFERRAL_OIDC_CLOCK_SKEW_SECONDS": "60"}).oidc_clock_skew_seconds
        == 60
    )
    with pytest.raises(ConfigError, match="OIDC_CLOCK_SKEW_SECONDS"):
        load_settings({**BASE, "REFERRAL_OIDC_CLOCK_SKEW_SECONDS": "61"})


def test_a_provider_key_is_short_and_plain() -> None:
    with pytest.raises(ConfigError, match="provider key"):
        load_settings({**BASE, "REFERRAL_OIDC_PROVIDERS": "City Hall"})
