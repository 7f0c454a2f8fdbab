"""Stockholm's clock and Swedish words (issue 16, finding 4), in a real browser at desktop and
phone widths: the data-protection officer's access log shows a known entry at the hour
Stockholm's clocks showed, filters on that clock too, and names the action, its outcome and
the actor's role in words; the administrator's staff list names roles in words. No code
(`child:create`, `allowed`, `social_worker`) and no UTC text (`…T…Z`) is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from referral import clock
from referral.db.audit_log import AuditEntry
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children
from tests.browser.role_paths import _actor
from tests.browser.test_referral_main_path import _logged_in
from tests.browser.test_start_page_in_browser import no_sideways_scroll
from tests.factories import Account, Factory, invented_personnummer

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
# Read with the standard library, not the service's own formatting, so the test cannot
# agree with a mistake in it.
STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d(:\d\d)?Z")
CODES = ("child:create", "allowed", "social_worker")


@dataclass(frozen=True)
class KnownEntry:
    sequence: int
    at: datetime  # on Stockholm's clock


def _a_registration(app: Flask, worker: Account) -> KnownEntry:
    """A social worker registers a child: the access log's entry of it, as stored."""
    today = clock.today()
    with app.app_context(), UnitOfWork(request_session()) as uow:
        children.register_child(
            uow,
            _actor(worker, Role.SOCIAL_WORKER),
            children.NewChild(invented_personnummer(today.year - 10, 2, 8), "Tid Påhittad"),
            today,
        )
        uow.commit()
    with app.app_context():
        sequence, occurred_at = (
            request_session()
            .execute(
                select(AuditEntry.sequence, AuditEntry.occurred_at).where(
                    AuditEntry.actor_id == worker.user.id, AuditEntry.action == "child:create"
                )
            )
            .one()
        )
    return KnownEntry(sequence, datetime.fromisoformat(occurred_at).astimezone(STOCKHOLM))


def _row_of(page: Page, entry: KnownEntry) -> Locator:
    number = page.get_by_role("cell", name=str(entry.sequence), exact=True)
    return page.get_by_role("row").filter(has=number)


def _shows_no_code_and_no_utc(shown: str) -> None:
    assert not UTC_TEXT.search(shown), shown
    for code in CODES:
        assert code not in shown, f"{code!r} shown: {shown}"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_access_log_shows_a_known_entry_on_stockholms_clock_in_swedish_words(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory, width: int
) -> None:
    worker = live_factory.account("social_worker")
    entry = _a_registration(live_app, worker)
    page = _logged_in(browser, live_url, live_factory.account("dpo"))
    page.set_viewport_size({"width": width, "height": 900})

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Åtkomstlogg").click()
    page.get_by_label("Användare (användarnamn eller id)").fill(worker.username)
    # From the entry's minute as Stockholm's clock showed it: read as UTC, that minute
    # would lie an hour or two after the entry, and hide it.
    page.get_by_label("Från").fill(entry.at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Filtrera").click()

    row = _row_of(page, entry)
    expect(row).to_have_count(1)
    cells = row.get_by_role("cell")
    expect(cells.nth(1)).to_have_text(entry.at.strftime("%Y-%m-%d %H:%M"))
    expect(cells.nth(2)).to_contain_text("Socialsekreterare")
    expect(cells.nth(3)).to_have_text("Barn registrerat")
    expect(cells.nth(4)).to_have_text("Tillåten")
    _shows_no_code_and_no_utc(page.locator("main table").inner_text())
    # The codes stay for machines (the export, the API), in attributes a reader never sees.
    expect(cells.nth(3)).to_have_attribute("data-action", "child:create")
    no_sideways_scroll(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_staff_list_names_each_role_in_swedish(
    browser: Browser, live_url: str, live_factory: Factory, width: int
) -> None:
    city = live_factory.organisation("city")
    worker = live_factory.account("social_worker")
    leader = live_factory.account("group_leader")
    officer = live_factory.account("dpo", city)
    page = _logged_in(browser, live_url, live_factory.account("admin", city))
    page.set_viewport_size({"width": width, "height": 900})

    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Användarkonton"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Användarkonton")).to_be_visible()
    roles = page.get_by_role("columnheader").all_inner_texts().index("Roller")
    for account, words in (
        (worker, "Socialsekreterare"),
        (leader, "Stödgruppsledare"),
        (officer, "Dataskyddsombud"),
    ):
        row = page.get_by_role("row").filter(has_text=account.username)
        expect(row.get_by_role("cell").nth(roles)).to_have_text(words)
    shown_roles = page.locator(f"main tbody td:nth-child({roles + 1})").all_inner_texts()
    assert shown_roles and not [r for r in shown_roles if re.search(r"[a-z]_[a-z]|^[a-z]+$", r)]
    no_sideways_scroll(page)
