"""The menu every page carries, in a real browser at desktop and phone widths: the places of
the user's work, the page they are on marked for screen readers (aria-current), the unread
notifications counted; and an activity report that reads on a phone without the page
scrolling sideways."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from referral import clock
from referral.db.models import Organisation
from referral.db.notifications import NoticeKind, Notification
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import children, referrals
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Factory, invented_personnummer, social_worker_actor

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)


def _two_unread_notices(
    app: Flask, factory: Factory, district: Organisation, partner_id: str
) -> None:
    """A referral of the district's, and two unread notices about it."""
    worker = social_worker_actor(factory, district)
    assert worker.organisation_id is not None
    today = clock.today()
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow,
            worker,
            children.NewChild(invented_personnummer(2015, 6, 7), "Nora Påhittad"),
            today,
        )
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner_id, "weekly"), today=today
        )
        for kind in (NoticeKind.REFERRAL_ACCEPTED, NoticeKind.REFERRAL_DECLINED):
            uow.session.add(
                Notification(
                    organisation_id=worker.organisation_id, kind=kind.value, referral_id=referral.id
                )
            )
        uow.commit()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_marks_the_page_the_social_worker_is_on_and_counts_unread_notices(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory, width: int
) -> None:
    district = live_factory.organisation("district")
    _two_unread_notices(live_app, live_factory, district, live_factory.organisation("partner").id)
    page = _logged_in(browser, live_url, live_factory.account("social_worker", district))
    page.set_viewport_size({"width": width, "height": 900})
    menu = page.get_by_role("navigation", name="Huvudmeny")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="Start")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("link", name="Meddelanden")).to_contain_text("2")
    menu.get_by_role("link", name="Barn och anmälningar").click()
    expect(menu.get_by_role("link", name="Barn och anmälningar")).to_have_attribute(
        "aria-current", "page"
    )
    expect(menu.get_by_role("link", name="Start")).not_to_have_attribute("aria-current", "page")
    # Only the social worker's own places: no report, no access log.
    assert menu.get_by_role("link", name="Verksamhetsrapporter").count() == 0
    assert menu.get_by_role("link", name="Åtkomstlogg").count() == 0


def test_an_activity_report_reads_on_a_phone_without_the_page_scrolling_sideways(
    browser: Browser, live_url: str, live_factory: Factory
) -> None:
    city = live_factory.organisation("city")
    page = _logged_in(browser, live_url, live_factory.account("coordinator", city))
    page.set_viewport_size({"width": 390, "height": 900})
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Verksamhetsrapporter"
    ).click()
    page.get_by_role("link").filter(has_text="november").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verksamhetsrapport")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
