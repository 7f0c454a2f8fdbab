"""A person logs in with password and authenticator code in a real browser, and out again."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import Factory, code_for

pytestmark = pytest.mark.browser


def _log_in(page: Page, live_url: str, username: str, password: str) -> None:
    page.goto(f"{live_url}/login")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Fortsätt").click()


def test_a_group_leader_logs_in_with_a_code_sees_their_page_and_logs_out(
    page: Page, live_url: str, live_factory: Factory, tmp_path: Path
) -> None:
    account = live_factory.account("group_leader")
    _log_in(page, live_url, account.username, account.password)
    expect(page.get_by_role("heading", name="Ange din kod")).to_be_visible()
    page.get_by_label("Sexsiffrig kod").fill(account.next_code())
    page.get_by_role("button", name="Verifiera").click()
    expect(page.get_by_role("heading", name="Stödgruppsledare")).to_be_visible()
    page.screenshot(path=str(tmp_path / "home.png"))
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_text("Du är utloggad.")).to_be_visible()
    page.goto(f"{live_url}/")
    expect(page.get_by_role("heading", name="Logga in")).to_be_visible()


def test_a_new_user_enrols_from_the_qr_page_and_gets_in(
    page: Page, live_url: str, live_factory: Factory
) -> None:
    account = live_factory.account("dpo", enrolled=False)
    _log_in(page, live_url, account.username, account.password)
    expect(page.get_by_role("heading", name="Koppla din autentiseringsapp")).to_be_visible()
    expect(page.get_by_role("img", name="QR-kod för din autentiseringsapp")).to_be_visible()
    page.get_by_text("Går det inte att skanna?").click()
    seed = page.locator("code.seed").inner_text().strip()
    page.get_by_label("Sexsiffrig kod").fill(code_for(seed))
    page.get_by_role("button", name="Verifiera").click()
    expect(page.get_by_role("heading", name="Dataskyddsombud")).to_be_visible()


def test_a_wrong_password_keeps_the_visitor_on_the_login_page_with_a_message(
    page: Page, live_url: str, live_factory: Factory
) -> None:
    account = live_factory.account("social_worker")
    _log_in(page, live_url, account.username, "this is not the password")
    expect(page.get_by_role("alert")).to_contain_text("Fel användarnamn eller lösenord")
    expect(page.get_by_label("Användarnamn")).to_have_value(account.username)
