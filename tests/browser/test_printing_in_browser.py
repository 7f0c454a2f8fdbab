"""Printing in a real browser: the consent form shows a "Skriv ut" button that opens the
print dialog (only with script: without it the button stays hidden and the browser's own
print command does the job), and on paper the menu, the header and the button are gone
while the letter stays."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from referral import clock
from referral.actors import Actor
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Account, Factory, invented_personnummer

pytestmark = pytest.mark.browser

LETTER = "Stödgrupperna träffas åtta gånger."
# Counts the calls instead of opening a dialog the headless browser cannot close.
COUNT_PRINTS = "window.print = () => { window.printed = (window.printed || 0) + 1; };"


def _consent_form_url(live_url: str, live_factory: Factory) -> tuple[Account, str]:
    """A social worker's child placed under SoL with one guardian, and the address of the
    child's consent form for a partner with a published description."""
    district = live_factory.organisation("district")
    partner = live_factory.organisation("partner")
    live_factory.activity_description("Utskrift 2026:1", partner, LETTER)
    account = live_factory.account("social_worker", district)
    actor = Actor(account.user.id, account.username, district.id, frozenset({Role.SOCIAL_WORKER}))
    personnummer = invented_personnummer(clock.today().year - 9, 3, 14)
    with live_factory.app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(personnummer, "Utskrift Barnsson")
        )
        consent.record_placement(uow, actor, child.id, "SoL", today=clock.today())
        consent.add_guardian(uow, actor, child.id, "Vera Barnsson", None, True, today=clock.today())
    return account, f"{live_url}/children/{child.id}/consent-form?partner={partner.id}"


def _open(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Information till")


def test_the_print_button_opens_the_print_dialog_and_paper_shows_no_menu(
    browser: Browser, live_url: str, live_factory: Factory
) -> None:
    account, url = _consent_form_url(live_url, live_factory)
    page = _logged_in(browser, live_url, account)
    page.add_init_script(COUNT_PRINTS)
    _open(page, url)

    button = page.get_by_role("button", name="Skriv ut")
    expect(button).to_be_visible()
    button.click()
    assert page.evaluate("window.printed") == 1

    menu = page.get_by_role("navigation", name="Huvudmeny")
    expect(menu).to_be_visible()
    page.emulate_media(media="print")
    expect(menu).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    expect(button).to_be_hidden()
    expect(page.get_by_role("button", name="Logga ut")).to_be_hidden()
    expect(page.get_by_text(LETTER)).to_be_visible()
    expect(page.locator(".child-personnummer").first).to_be_visible()
    page.emulate_media(media="screen")
    expect(menu).to_be_visible()


def test_without_script_there_is_no_print_button_that_would_do_nothing(
    browser: Browser, live_url: str, live_factory: Factory
) -> None:
    account, url = _consent_form_url(live_url, live_factory)
    page = _logged_in(browser, live_url, account)
    context = browser.new_context(locale="sv-SE", java_script_enabled=False)
    context.add_cookies(page.context.cookies())
    bare = context.new_page()
    try:
        _open(bare, url)
        expect(
            bare.get_by_text("Skriv ut sidan med webbläsarens utskriftskommando")
        ).to_be_visible()
        expect(bare.locator("button[data-print]")).to_be_hidden()
    finally:
        context.close()
