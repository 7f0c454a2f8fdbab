"""Consent periods that fit the group (issue 16, finding 5), in a real browser at desktop and
phone widths: for a child placed in a group whose last session is three months ahead, the
consent form offers that session as the end date; a consent recorded to end sooner is flagged
at once on the child's page; and the lapse queue, six weeks deep, lists it with a link that
opens the child's consents. Neither page scrolls sideways on a phone, nor at 320 px."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from referral import clock
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, groups, referrals
from tests.browser.role_paths import _actor
from tests.browser.test_referral_main_path import _logged_in
from tests.browser.test_start_page_in_browser import no_sideways_scroll
from tests.factories import (
    Account,
    Factory,
    invented_personnummer,
    placed_under_sol_with_consent,
    referred,
)

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
DESCRIPTION = "Period 2026:1"
CHILD, GUARDIAN, GROUP = "Ella Periodsson", "Vera Periodsson", "Vårgruppen Period"


@dataclass(frozen=True)
class PlacedChild:
    worker: Account  # the social worker responsible for the child
    child_id: str
    first_session: date
    last_session: date


def a_child_placed_in_a_group(app: Flask, factory: Factory) -> PlacedChild:
    """A child under SoL whose guardian consented until the group's last session, referred,
    accepted and placed in a weekly group starting in six weeks: eight meetings, the last
    one about three months from today."""
    district, partner = factory.organisation("district"), factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker_account = factory.account("social_worker", district)
    leader_account = factory.account("group_leader", partner)
    worker = _actor(worker_account, Role.SOCIAL_WORKER)
    leader = _actor(leader_account, Role.GROUP_LEADER)
    first = clock.today() + timedelta(days=45)
    last = first + timedelta(weeks=7)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow,
            worker,
            children.NewChild(invented_personnummer(clock.today().year - 9, 4, 2), CHILD),
        )
        placed_under_sol_with_consent(
            uow,
            worker,
            child.id,
            on=clock.today(),
            until=last,
            description=DESCRIPTION,
            guardian=GUARDIAN,
        )
        referral_id = referred(uow, worker, child.id, partner.id, on=clock.today())
        referrals.respond(uow, leader, referral_id, accept=True, today=clock.today())
        group = groups.create_group(
            uow,
            leader,
            groups.NewGroup(GROUP, "weekly", first, 7, 12, [leader.user_id]),
            clock.today(),
        )
        groups.enrol(uow, leader, group.group_id, referral_id, clock.today())
        uow.commit()
        return PlacedChild(worker_account, child.id, first, last)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_consent_defaults_to_the_groups_end_and_one_ending_sooner_is_flagged_and_queued(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory, width: int
) -> None:
    placed = a_child_placed_in_a_group(live_app, live_factory)
    last = placed.last_session.isoformat()
    page = _logged_in(browser, live_url, placed.worker)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_url}/children/{placed.child_id}")
    expect(page.locator("#referrals")).to_contain_text(
        f"Placerad i {GROUP}: {placed.first_session.isoformat()} – {last}"
    )
    consents = page.locator("#consents")
    warning = consents.locator("[data-warning='consent-ends-before-group']")
    expect(warning).to_have_count(0)  # the consent on record lasts the group

    consents.get_by_text("Registrera ett samtyckesbeslut").click()
    ends = consents.get_by_label("Gäller till och med")
    expect(ends).to_have_value(last)  # not a month, not the configured half-year
    sooner = clock.today() + timedelta(days=30)
    consents.get_by_label("Vems beslut").select_option(label=GUARDIAN)
    consents.get_by_label("Beslut", exact=True).select_option(label="Lämnat")
    for category in ("Namn", "Ålder", "Registrering av deltagande"):
        consents.get_by_label(category, exact=True).check()
    ends.fill(sooner.isoformat())
    consents.get_by_label("Version av verksamhetsbeskrivningen").select_option(DESCRIPTION)
    consents.get_by_role("button", name="Registrera beslutet").click()

    expect(page.get_by_text("Samtyckesbeslutet registrerades.")).to_be_visible()
    assert page.url.endswith("#consents")
    expect(warning).to_have_count(1)
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(GUARDIAN)
    expect(warning).to_contain_text(f"upphör {sooner.isoformat()}")
    expect(warning).to_contain_text(f"gruppen pågår till {last}")
    no_sideways_scroll(page)

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Start").click()
    page.get_by_role("link", name="Samtycken som löper ut").click()
    expect(page.get_by_role("heading", level=1, name="Samtycken som löper ut")).to_be_visible()
    expect(page.locator("main")).to_contain_text("42 dagar")  # six weeks ahead, not two
    row = page.get_by_role("row").filter(has_text=CHILD)
    expect(row).to_have_count(1)
    cells = row.get_by_role("cell")
    expect(cells.nth(1)).to_have_text(GUARDIAN)
    expect(cells.nth(2)).to_have_text(sooner.isoformat())
    expect(cells.nth(3)).to_have_text("30")  # days left
    no_sideways_scroll(page)
    row.get_by_role("link", name=CHILD).click()
    expect(page.get_by_role("heading", level=1, name=CHILD)).to_be_visible()
    assert page.url.endswith(f"/children/{placed.child_id}#consents")
    expect(page.locator("#consents")).to_be_in_viewport()
