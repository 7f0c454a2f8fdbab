"""The start page is each person's work (issue 16, finding 1), in a real browser at desktop
and phone widths: the social worker's own children, the overdue step first, filtered and
sorted by a click, each child's link opening the part of the record where the step is taken;
the group leader's referrals to answer and groups starting soon with the pre-group visits
still missing. Neither page scrolls sideways on a phone, nor at 320 px.

The live server runs on today's clock, so what is seeded is dated from today: a consent that
ended three days ago was recorded (and the referral shared) twenty days ago.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, expect

from referral import clock
from referral.actors import Actor
from referral.db.groups import VisitKind
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, groups, referrals
from tests.browser.axe import sideways_overflow
from tests.browser.role_paths import _actor
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import (
    Factory,
    invented_personnummer,
    placed_under_sol_with_consent,
    referred,
)

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
NARROWEST = 320
DESCRIPTION = "Start 2026:1"
LAPSED, WAITING = "Bo Förfallosson", "Alva Svarsdotter"
COLLEAGUES = "Dan Kollegasson"


def _child(uow: UnitOfWork, worker: Actor, name: str) -> str:
    born = clock.today().year - 9
    return children.register_child(
        uow, worker, children.NewChild(invented_personnummer(born, 5, 17), name), clock.today()
    ).id


def _under_lvu(uow: UnitOfWork, worker: Actor, child_id: str) -> None:
    consent.record_placement(
        uow, worker, child_id, "LVU", "Beslut 12/2026", "SDN", clock.today(),
        today=clock.today(), lvu_shared=("name", "age", "participation"),
    )  # fmt: skip


def _with_a_consent_that_ended(
    uow: UnitOfWork, worker: Actor, child_id: str, partner: Organisation, ended: date
) -> None:
    """Under SoL, the guardian's consent given twenty days ago and ended on `ended`; the
    referral went to the partner while the consent held."""
    back_then = clock.today() - timedelta(days=20)
    placed_under_sol_with_consent(
        uow,
        worker,
        child_id,
        on=back_then,
        until=ended,
        description=DESCRIPTION,
        guardian="Berit Förfallosson",
    )
    referred(uow, worker, child_id, partner.id, on=back_then)


def _my_cases(page: Page) -> Locator:
    return page.locator("section[data-section='my-cases']")


def _children_in_order(page: Page) -> list[str]:
    return _my_cases(page).locator("tbody tr td:first-child a").all_inner_texts()


def no_sideways_scroll(page: Page) -> None:
    """Neither at the test's width nor at the narrowest (320 px, WCAG 1.4.10)."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    for at in (width, NARROWEST):
        page.set_viewport_size({"width": at, "height": 900})
        assert sideways_overflow(page) == 0, f"{page.url} scrolls sideways at {at} px"
    page.set_viewport_size({"width": width, "height": 900})


@pytest.mark.parametrize("width", WIDTHS)
def test_a_social_worker_starts_from_their_own_children_overdue_first_and_filters_by_a_click(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory, width: int
) -> None:
    district = live_factory.organisation("district")
    partner = live_factory.organisation("partner")
    live_factory.activity_description(DESCRIPTION, partner)
    me = live_factory.account("social_worker", district)
    colleague = live_factory.account("social_worker", district)
    worker = _actor(me, Role.SOCIAL_WORKER)
    ended = clock.today() - timedelta(days=3)
    with live_app.app_context(), UnitOfWork(request_session()) as uow:
        lapsed = _child(uow, worker, LAPSED)
        _with_a_consent_that_ended(uow, worker, lapsed, partner, ended)
        waiting = _child(uow, worker, WAITING)
        _under_lvu(uow, worker, waiting)
        referred(uow, worker, waiting, partner.id, on=clock.today())
        _child(uow, _actor(colleague, Role.SOCIAL_WORKER), COLLEAGUES)
        uow.commit()

    page = _logged_in(browser, live_url, me)
    page.set_viewport_size({"width": width, "height": 900})
    cases = _my_cases(page)
    expect(cases.get_by_role("heading", name="Mina barn och anmälningar")).to_be_visible()
    # Most urgent first: the lapsed consent is the social worker's to renew, and late.
    assert _children_in_order(page) == [LAPSED, WAITING]
    first, second = cases.locator("tbody tr").nth(0), cases.locator("tbody tr").nth(1)
    expect(first).to_contain_text("Försenad")
    expect(first).to_contain_text("Förnya samtycket")
    expect(first).to_contain_text(f"{ended.isoformat()}, 3 dagar sedan")
    expect(first).to_contain_text("Delad med partnern")
    expect(second).to_contain_text("Väntar på partnerns svar")
    expect(second).not_to_contain_text("Försenad")
    expect(cases).not_to_contain_text(COLLEAGUES)  # on the colleague's list, not mine
    no_sideways_scroll(page)

    cases.get_by_role("link", name="Namn", exact=True).click()
    assert _children_in_order(page) == [WAITING, LAPSED]
    expect(cases.get_by_text("Namn", exact=True)).to_have_attribute("aria-current", "true")

    cases.get_by_role("link", name="Mitt nästa steg").click()
    assert _children_in_order(page) == [LAPSED]  # the partner's move is not mine
    expect(cases.get_by_text("Mitt nästa steg")).to_have_attribute("aria-current", "true")
    no_sideways_scroll(page)

    cases.get_by_role("link", name=LAPSED).click()
    expect(page.get_by_role("heading", level=1, name=LAPSED)).to_be_visible()
    assert page.url.endswith(f"/children/{lapsed}#consents")
    expect(page.locator("#consents")).to_be_in_viewport()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_group_leader_starts_from_referrals_to_answer_and_groups_missing_a_visit(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory, width: int
) -> None:
    district = live_factory.organisation("district")
    partner = live_factory.organisation("partner")
    worker = _actor(live_factory.account("social_worker", district), Role.SOCIAL_WORKER)
    leader_account = live_factory.account("group_leader", partner)
    leader = _actor(leader_account, Role.GROUP_LEADER)
    starts = clock.today() + timedelta(days=10)
    with live_app.app_context(), UnitOfWork(request_session()) as uow:
        unanswered = _child(uow, worker, "Nora Nyanmäld")
        _under_lvu(uow, worker, unanswered)
        referred(uow, worker, unanswered, partner.id, on=clock.today())
        group = groups.create_group(
            uow,
            leader,
            groups.NewGroup("Vintergruppen", "weekly", starts, 7, 12, [leader.user_id]),
            clock.today(),
        )
        enrolments = []
        for name in ("Ivar Placerad", "Ines Placerad"):
            placed = _child(uow, worker, name)
            _under_lvu(uow, worker, placed)
            referral_id = referred(uow, worker, placed, partner.id, on=clock.today())
            referrals.respond(uow, leader, referral_id, accept=True, today=clock.today())
            enrolments.append(groups.enrol(uow, leader, group.group_id, referral_id, clock.today()))
        visit = groups.NewVisit(enrolments[0].enrolment_id, VisitKind.HOME.value, clock.today())
        groups.record_visit(uow, leader, group.group_id, visit, clock.today())
        uow.commit()

    page = _logged_in(browser, live_url, leader_account)
    page.set_viewport_size({"width": width, "height": 900})
    answer = page.locator("section[data-section='awaiting-answer']")
    expect(answer.get_by_role("heading", name="Nya anmälningar att besvara")).to_be_visible()
    expect(answer.get_by_role("listitem")).to_have_text(
        [f"Mottagen {clock.today().isoformat()}, i dag"]
    )
    expect(page.locator("main")).not_to_contain_text("Nora Nyanmäld")  # the inbox names them

    soon = page.locator("section[data-section='groups-soon']")
    expect(soon.get_by_role("heading", name="Grupper som startar snart")).to_be_visible()
    row = soon.get_by_role("row").filter(has_text="Vintergruppen")
    expect(row).to_contain_text(f"{starts.isoformat()}, om 10 dagar")
    expect(row.get_by_role("cell").last).to_have_text("1 barn")  # one of two still unvisited
    no_sideways_scroll(page)

    answer.get_by_role("link", name="Svara i inkorgen").click()
    expect(page.get_by_role("main")).to_contain_text("Nora Nyanmäld")
