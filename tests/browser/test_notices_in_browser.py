"""Notifications that say what to do (issue 16, finding 6), in a real browser at desktop and
phone widths: when a partner places the social worker's child in a group, the notice names
the child (read from the record, never stored in the notice), the group and its dates, says
"arrange travel" with a link to the child's referral, and is dated on Stockholm's clock;
"mark all read" empties the menu's count. The page does not scroll sideways on a phone, nor
at 320 px."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from referral.db.notifications import NoticeKind, Notification
from referral.request_scope import request_session
from tests.browser.test_consent_period_in_browser import CHILD, GROUP, a_child_placed_in_a_group
from tests.browser.test_referral_main_path import _logged_in
from tests.browser.test_start_page_in_browser import no_sideways_scroll
from tests.factories import Factory

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_social_worker_is_told_their_child_is_placed_and_to_arrange_travel(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory, width: int
) -> None:
    placed = a_child_placed_in_a_group(live_app, live_factory)
    district = placed.worker.user.organisation_id
    with live_app.app_context():
        notices = request_session().scalars(
            select(Notification).where(Notification.organisation_id == district)
        )
        by_kind = {notice.kind: notice for notice in notices}
    # The partner's acceptance, then the placing: two unread, the placing the newest.
    assert set(by_kind) == {NoticeKind.REFERRAL_ACCEPTED, NoticeKind.CHILD_PLACED}
    placed_at = by_kind[NoticeKind.CHILD_PLACED].created_at.astimezone(STOCKHOLM)
    page = _logged_in(browser, live_url, placed.worker)
    page.set_viewport_size({"width": width, "height": 900})

    menu = page.get_by_role("navigation", name="Huvudmeny")
    notices_link = menu.get_by_role("link", name="Meddelanden")
    expect(notices_link).to_have_text("Meddelanden 2 olästa")
    notices_link.click()
    expect(page.get_by_role("heading", level=1, name="Meddelanden")).to_be_visible()
    expect(page.get_by_text("Olästa: 2")).to_be_visible()

    notice = page.locator("li.notice", has_text="har placerat")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(f"{CHILD} i {GROUP}")  # the child by name, and the group
    expect(notice).to_contain_text(
        f"{placed.first_session.isoformat()} – {placed.last_session.isoformat()}"
    )
    expect(notice.locator(".next-step")).to_have_text("Att göra: Ordna resa till gruppen")
    expect(notice).to_contain_text(placed_at.strftime("%Y-%m-%d %H:%M"))
    assert "Z" not in notice.locator(".hint").inner_text()
    no_sideways_scroll(page)

    page.get_by_role("button", name="Markera alla som lästa").click()
    expect(page.get_by_text("Olästa: 0")).to_be_visible()
    expect(notices_link).to_have_text("Meddelanden")  # no count left in the menu
    expect(page.get_by_role("button", name="Markera alla som lästa")).to_have_count(0)

    notice.get_by_role("link", name="Ordna resa till gruppen").click()
    expect(page.get_by_role("heading", level=1, name=CHILD)).to_be_visible()
    assert page.url.endswith(f"/children/{placed.child_id}#referrals")
    expect(page.locator("#referrals")).to_contain_text(f"Placerad i {GROUP}")
