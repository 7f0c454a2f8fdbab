"""Signing in through the city's identity provider in Chromium, end to end: an administrator
invites a staff member, who follows the link, signs in on the provider's own page
(oidc-provider-mock on loopback) and lands on their start page; the next time the button on
the login page is enough; logging out offers the provider's logout too."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from config.settings import Settings
from referral import create_app
from referral.request_scope import get_database
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Factory
from tests.oidc_provider import (
    SECOND_FACTOR_ACR,
    MockProvider,
    mock_provider,  # noqa: F401 - a fixture
    new_subject,
    serve,
)
from tests.own_database import own_database

pytestmark = pytest.mark.browser

DISTRICT = f"Stadsdelsförvaltning i webbläsaren {secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def oidc_app(
    base_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    mock_provider: MockProvider,  # noqa: F811
) -> Iterator[tuple[Flask, Settings]]:
    settings = replace(
        base_settings,
        database_url=own_database(base_settings.database_url, tmp_path_factory, "oidc"),
        oidc_providers=(mock_provider.config(DISTRICT),),
    )
    app = create_app(settings)
    yield app, settings
    get_database(app).engine.dispose()


@pytest.fixture(scope="module")
def oidc_url(oidc_app: tuple[Flask, Settings]) -> Iterator[str]:
    with serve(oidc_app[0]) as url:
        yield url


def _sign_in_at_provider(page: Page, subject: str) -> None:
    """The provider's own page: who signs in."""
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()


def test_an_invited_staff_member_signs_in_through_the_provider(
    browser: Browser,
    oidc_app: tuple[Flask, Settings],
    oidc_url: str,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    app, settings = oidc_app
    factory = Factory(app, settings)
    admin = factory.account("admin")
    # A newly set up staff member (no authenticator yet): the invitation links at once. An
    # account already in use would first be asked for its own code (tests/web).
    worker = factory.account(
        "social_worker", factory.organisation("district", DISTRICT), enrolled=False
    )
    subject = new_subject()
    mock_provider.set_user(subject, email="anna@stockholm.se", acr=SECOND_FACTOR_ACR)

    # The administrator makes the invitation; the link is shown once.
    admin_page = _logged_in(browser, oidc_url, admin)
    admin_page.goto(f"{oidc_url}/admin/users")
    admin_page.locator(f"#user-{worker.user.id}").get_by_role(
        "link", name="Bjud in till inloggning via Stockholms stad"
    ).click()
    admin_page.get_by_role("button", name="Skapa en inbjudan").click()
    link = admin_page.locator("code.invitation-link").inner_text()
    assert link.startswith(f"{oidc_url}/login/invitation/")

    # The staff member follows it, signs in at the provider, and is in.
    page = browser.new_context(locale="sv-SE").new_page()
    page.goto(link)
    assert page.url.startswith(mock_provider.issuer + "/oauth2/authorize")
    _sign_in_at_provider(page, subject)
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    assert page.url == f"{oidc_url}/"

    # Logging out ends our session and offers the provider's.
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_text("Du är fortfarande inloggad hos Stockholms stad.")).to_be_visible()
    page.get_by_role("link", name="Logga ut även hos Stockholms stad").click()
    assert page.url.startswith(mock_provider.issuer + "/oauth2/end_session")

    # The next time, the login page's button is enough (the link was made once).
    page.goto(f"{oidc_url}/login")
    page.get_by_role("link", name="Logga in med Stockholms stad").click()
    _sign_in_at_provider(page, subject)
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def test_someone_the_service_does_not_know_is_refused_on_the_login_page(
    browser: Browser,
    oidc_url: str,
    mock_provider: MockProvider,  # noqa: F811
) -> None:
    subject = new_subject()
    mock_provider.set_user(subject, acr=SECOND_FACTOR_ACR)
    page = browser.new_context(locale="sv-SE").new_page()
    page.goto(f"{oidc_url}/login")
    page.get_by_role("link", name="Logga in med Stockholms stad").click()
    _sign_in_at_provider(page, subject)
    expect(page.get_by_text("Be din administratör om en inbjudan.")).to_be_visible()
    page.goto(f"{oidc_url}/")
    assert page.url.startswith(f"{oidc_url}/login")
