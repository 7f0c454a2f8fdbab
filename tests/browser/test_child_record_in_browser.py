"""The child's record on a phone (390 px), in a real browser: the personnummer is masked, one
press on "Visa personnummer" shows it in full (a POST: the address never holds it), and the
page neither scrolls sideways nor keeps the number once left."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from referral import clock
from referral.db.audit_log import AuditEntry
from referral.request_scope import request_session
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Factory, invented_personnummer

pytestmark = pytest.mark.browser

CHILD = "Vilgot Påhittad"


def test_a_social_worker_on_a_phone_reveals_the_personnummer_and_the_look_is_on_record(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory
) -> None:
    district = live_factory.organisation("district")
    worker = _logged_in(browser, live_url, live_factory.account("social_worker", district))
    worker.set_viewport_size({"width": 390, "height": 844})
    born = clock.today().replace(year=clock.today().year - 9, month=3, day=12)
    personnummer = invented_personnummer(born.year, born.month, born.day)
    written_out = f"{personnummer[:8]}-{personnummer[8:]}"

    worker.goto(f"{live_url}/children")
    register = worker.locator("form[action='/children']")
    register.get_by_label("Personnummer eller samordningsnummer").fill(personnummer)
    register.get_by_label("Namn").fill(CHILD)
    register.get_by_role("button", name="Registrera").click()
    expect(worker.get_by_role("heading", name=CHILD)).to_be_visible()
    child_id = worker.url.rsplit("/", 1)[-1]

    identity = worker.locator("#identity")
    expect(identity.locator("[data-personnummer]")).to_have_text(f"{personnummer[:8]}-****")
    assert personnummer[8:] not in worker.content()
    show = identity.get_by_role("button", name="Visa personnummer")
    expect(show).to_be_visible()
    show.click()

    expect(identity.locator('[data-personnummer="revealed"]')).to_have_text(written_out)
    assert personnummer not in worker.url and personnummer[8:] not in worker.url
    # Nothing on the phone's page is wider than the screen.
    assert worker.evaluate("document.documentElement.scrollWidth") <= 390
    with live_app.app_context():
        reveals = request_session().scalars(
            select(AuditEntry.subject_id).where(AuditEntry.action == "child:reveal_personnummer")
        )
        assert child_id in set(reveals)

    identity.get_by_role("link", name="Dölj personnumret").click()
    expect(worker.locator("#identity [data-personnummer]")).to_have_text(f"{personnummer[:8]}-****")
    assert personnummer[8:] not in worker.content()
