"""A step that cannot be undone asks twice, in a real browser and without script: the
administrator's "disable" first says what follows, and only the second click disables."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Factory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_disabling_an_account_takes_a_second_click_after_saying_what_follows(
    browser: Browser, live_url: str, live_factory: Factory, width: int
) -> None:
    city = live_factory.organisation("city")
    colleague = live_factory.account("dpo", city)
    page = _logged_in(browser, live_url, live_factory.account("admin", city))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_url}/admin/users")
    row = page.get_by_role("row").filter(has_text=colleague.username)
    row.get_by_text("Stäng av…").click()
    expect(row.get_by_text("loggas ut direkt och kan inte logga in igen")).to_be_visible()
    expect(row).to_contain_text("Aktivt")  # nothing has happened yet
    row.get_by_role("button", name="Ja, stäng av kontot").click()
    row = page.get_by_role("row").filter(has_text=colleague.username)
    expect(row).to_contain_text("Avstängt")
