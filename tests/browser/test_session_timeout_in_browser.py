"""WCAG failures axe cannot see, in a real browser: the idle limit is announced before it ends
the session and can be extended (2.2.1), and tables on a phone keep their column headings
(1.3.1) without the page scrolling sideways (1.4.10).

The browser's clock is Playwright's (page.clock), moved by hand: the warning is drawn from
the seconds the server said were left, so thirteen minutes pass in a moment. The server's
own clock runs as usual, and what it holds is checked in its database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from referral.db.models import AuthSession
from referral.request_scope import request_session
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Account, Factory

pytestmark = pytest.mark.browser


def _logged_in_with_a_clock(browser: Browser, live_url: str, account: Account) -> Page:
    page = browser.new_context(locale="sv-SE").new_page()
    page.clock.install()
    page.goto(f"{live_url}/login")
    page.get_by_label("Användarnamn").fill(account.username)
    page.get_by_label("Lösenord").fill(account.password)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Sexsiffrig kod").fill(account.next_code())
    page.get_by_role("button", name="Verifiera").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    # The warning's script is deferred: it may run after the page is shown. Moved on before
    # it has counted its deadline, the clock would only move that deadline along.
    page.wait_for_function("window.localStorage.getItem('referral.session-deadline') !== null")
    return page


def _last_seen(app: Flask, account: Account) -> datetime:
    with app.app_context():
        seen = request_session().scalars(
            select(AuthSession.last_seen_at).where(AuthSession.user_id == account.user.id)
        )
        return max(seen)


def _idle_for(app: Flask, account: Account, idle: timedelta) -> None:
    """As if the person's last request had been `idle` ago."""
    with app.app_context():
        db = request_session()
        for row in db.scalars(select(AuthSession).where(AuthSession.user_id == account.user.id)):
            row.last_seen_at = datetime.now(UTC) - idle
        db.commit()


def test_two_minutes_before_the_idle_limit_the_page_warns_and_the_person_stays_logged_in(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory
) -> None:
    account = live_factory.account("social_worker")
    page = _logged_in_with_a_clock(browser, live_url, account)
    menu_link = page.get_by_role("navigation", name="Huvudmeny").get_by_role("link").first
    menu_link.focus()
    warning = page.get_by_role("alertdialog", name="Du loggas snart ut")
    page.clock.fast_forward("12:45")
    expect(warning).to_be_hidden()

    page.clock.fast_forward("00:30")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(re.compile(r"avslutas kl\. \d\d:\d\d \(svensk tid\)"))
    stay = warning.get_by_role("button", name="Fortsätt vara inloggad")
    expect(stay).to_be_focused()
    expect(warning.get_by_role("button", name="Logga ut")).to_be_visible()

    # Thirteen and a half minutes idle on the server too: without the click it would soon end.
    _idle_for(live_app, account, timedelta(minutes=13, seconds=30))
    page.keyboard.press("Enter")
    expect(warning).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="Du är fortfarande inloggad")).to_have_count(
        1
    )
    expect(menu_link).to_be_focused()
    assert datetime.now(UTC) - _last_seen(live_app, account) < timedelta(seconds=30)

    # A full idle period again before the next warning.
    page.clock.fast_forward("12:45")
    expect(warning).to_be_hidden()
    page.clock.fast_forward("00:30")
    expect(warning).to_be_visible()


def test_when_the_time_passes_the_page_says_the_session_has_ended_and_offers_the_login(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory
) -> None:
    account = live_factory.account("group_leader")
    page = _logged_in_with_a_clock(browser, live_url, account)
    page.clock.fast_forward("15:05")
    _idle_for(live_app, account, timedelta(minutes=15, seconds=5))
    ended = page.get_by_role("alertdialog", name="Din session har avslutats")
    expect(ended).to_be_visible()
    login = ended.get_by_role("link", name="Logga in igen")
    expect(login).to_be_focused()
    login.click()
    expect(page.get_by_role("heading", name="Logga in")).to_be_visible()


def test_a_session_that_ended_on_the_server_is_reported_ended_when_the_person_asks_for_more(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory
) -> None:
    account = live_factory.account("social_worker")
    page = _logged_in_with_a_clock(browser, live_url, account)
    page.clock.fast_forward("13:30")
    warning = page.get_by_role("alertdialog", name="Du loggas snart ut")
    expect(warning).to_be_visible()
    _idle_for(live_app, account, timedelta(minutes=16))
    warning.get_by_role("button", name="Fortsätt vara inloggad").click()
    expect(page.get_by_role("alertdialog", name="Din session har avslutats")).to_be_visible()


def _page_scrolls_sideways(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


@pytest.mark.parametrize("width", [390, 320])
def test_the_dpos_access_log_keeps_its_column_headings_on_a_phone(
    browser: Browser, live_url: str, live_factory: Factory, width: int
) -> None:
    page = _logged_in(browser, live_url, live_factory.account("dpo"))
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_url}/dpo/audit")
    log = page.get_by_role("region", name="Åtkomstlogg")
    for heading in ("När", "Vem", "Person (pseudonym)"):
        expect(log.get_by_role("columnheader", name=heading)).to_be_visible()
    assert page.get_by_role("row").count() > 1  # the DPO's own login is in it
    assert not _page_scrolls_sideways(page)
    # The wide table scrolls in its own region, which the keyboard can reach and move.
    log.focus()
    expect(log).to_be_focused()
    assert page.evaluate(
        "(() => { const r = document.querySelector('.table-scroll');"
        " return r.scrollWidth > r.clientWidth; })()"
    )
    page.keyboard.press("ArrowRight")
    expect(log).not_to_have_js_property("scrollLeft", 0)


@pytest.mark.parametrize("width", [390, 320])
def test_the_social_workers_list_of_children_keeps_its_column_headings_on_a_phone(
    browser: Browser, live_url: str, live_factory: Factory, width: int
) -> None:
    page = _logged_in(browser, live_url, live_factory.account("social_worker"))
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_url}/children")
    for heading in ("Namn", "Pågående anmälningar"):
        expect(page.get_by_role("columnheader", name=heading)).to_be_visible()
    assert not _page_scrolls_sideways(page)
