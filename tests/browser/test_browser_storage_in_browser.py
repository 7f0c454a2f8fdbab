"""What the browser keeps after a social worker has worked with a child's record (OWASP ASVS
5.0 V14.3.3): no personal data in the browser's storage. Script storage holds only the idle
deadline the session warning shares between tabs; there is no session storage, IndexedDB,
cache storage or service worker; the cookies are the session's and the language's, and none
carries a name or a personnummer."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from referral import clock
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Factory, invented_personnummer

pytestmark = pytest.mark.browser

CHILD = "Ingegerd Påhittad"
DEADLINE_KEY = "referral.session-deadline"


def _storage(page: Page) -> dict[str, object]:
    kept: dict[str, object] = page.evaluate(
        """async () => ({
            local: Object.fromEntries(Object.entries(window.localStorage)),
            session: Object.fromEntries(Object.entries(window.sessionStorage)),
            databases: indexedDB.databases ? (await indexedDB.databases()).map(d => d.name) : [],
            caches: await caches.keys(),
            workers: (await navigator.serviceWorker.getRegistrations()).length,
        })"""
    )
    return kept


@pytest.mark.asvs("V14.3.3")
def test_the_browser_keeps_no_personal_data_after_a_childs_record_is_worked_on(
    browser: Browser, live_url: str, live_factory: Factory
) -> None:
    district = live_factory.organisation("district")
    worker = _logged_in(browser, live_url, live_factory.account("social_worker", district))
    born = clock.today().replace(year=clock.today().year - 11, month=5, day=4)
    personnummer = invented_personnummer(born.year, born.month, born.day)

    worker.goto(f"{live_url}/children")
    register = worker.locator("form[action='/children']")
    register.get_by_label("Personnummer eller samordningsnummer").fill(personnummer)
    register.get_by_label("Namn").fill(CHILD)
    register.get_by_role("button", name="Registrera").click()
    expect(worker.get_by_role("heading", name=CHILD)).to_be_visible()
    worker.locator("#identity").get_by_role("button", name="Visa personnummer").click()
    expect(worker.locator('#identity [data-personnummer="revealed"]')).to_be_visible()
    worker.goto(f"{live_url}/children")
    expect(worker.get_by_text(CHILD).first).to_be_visible()

    kept = _storage(worker)
    assert kept["session"] == {}
    assert kept["databases"] == [] and kept["caches"] == [] and kept["workers"] == 0
    local = kept["local"]
    assert isinstance(local, dict) and set(local) == {DEADLINE_KEY}
    shared = json.loads(local[DEADLINE_KEY])
    assert set(shared) == {"deadline", "endsAt"}
    assert isinstance(shared["deadline"], int | float)
    assert re.fullmatch(r"\d{1,2}[:.]\d{2}", shared["endsAt"])
    cookies = worker.context.cookies()
    written = json.dumps([kept, cookies], ensure_ascii=False)
    for secret in (CHILD, CHILD.split()[0], personnummer, personnummer[2:], personnummer[8:]):
        assert secret not in written
    assert all(cookie["httpOnly"] for cookie in cookies), "a script can read a cookie"
