"""A concern report in a real browser, in Swedish: a group leader files one on a child placed
under SoL whose guardian has not consented; the district's social worker sees it as new on the
start page, opens it and acknowledges it; the group leader sees "acknowledged"; the group
leader still cannot open the child."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from referral import clock
from referral.actors import Actor
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, referrals
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Factory, invented_personnummer

pytestmark = pytest.mark.browser

CHILD = "Vilma Påhittad"
CONCERN = "Vilma kom till gruppen med ett blåmärke på kinden och sa att pappa slog henne."


def _sol_child_without_consent(app: Flask, worker: Actor, partner_id: str) -> tuple[str, str]:
    """An SoL child with one custodial guardian who has not consented, referred to the partner:
    the referral waits for consent, so the partner sees nothing of the child."""
    personnummer = invented_personnummer(2016, 2, 11)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, worker, children.NewChild(personnummer, CHILD), clock.today()
        )
        consent.record_placement(uow, worker, child.id, "SoL", today=clock.today())
        consent.add_guardian(
            uow, worker, child.id, "Mona Påhittad", None, True, today=clock.today()
        )
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner_id, "weekly"), today=clock.today()
        )
        referrals.submit_referral(uow, worker, referral.id, clock.today())
        return child.id, personnummer


def _a_social_emergency_service(app: Flask, factory: Factory) -> None:
    """The live database is shared by the browser tests: mark one only if none is."""
    candidate = factory.organisation("city")
    with app.app_context():
        session = request_session()
        if not session.scalar(select(Organisation.id).where(Organisation.social_emergency_service)):
            row = session.get(Organisation, candidate.id)
            assert row is not None
            row.social_emergency_service = True
        session.commit()


def test_a_group_leader_reports_concern_without_consent_and_the_district_acknowledges(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory
) -> None:
    district = live_factory.organisation("district")
    partner = live_factory.organisation("partner")
    _a_social_emergency_service(live_app, live_factory)
    worker_account = live_factory.account("social_worker", district)
    leader_account = live_factory.account("group_leader", partner)
    worker = Actor(
        worker_account.user.id,
        worker_account.username,
        district.id,
        frozenset({Role.SOCIAL_WORKER}),
    )
    child_id, personnummer = _sol_child_without_consent(live_app, worker, partner.id)

    leader = _logged_in(browser, live_url, leader_account)
    leader.get_by_role("link", name="Gör en orosanmälan").click()
    expect(leader.get_by_role("heading", name="Orosanmälan")).to_be_visible()
    leader.get_by_label("Barnets personnummer, om du vet det").fill(personnummer)
    leader.get_by_label("Namn, förnamn eller alias").fill("Vilma")
    leader.get_by_label("Vad som har hänt, och vad som gör dig orolig").fill(CONCERN)
    leader.get_by_label("Hur socialtjänsten når dig (telefon, och när)").fill("070-123 45 67")
    leader.get_by_role("button", name="Skicka till socialtjänsten").click()
    expect(leader.get_by_text("har skickats till socialtjänsten")).to_be_visible()
    expect(leader.get_by_text("Mottagen; ännu inte kvitterad")).to_be_visible()
    # Nothing tells the partner where the report went, or who the child is to the service.
    assert district.name not in leader.content()

    social_worker = _logged_in(browser, live_url, worker_account)
    waiting = social_worker.locator('[data-section="concern-received"]')
    expect(waiting.get_by_text("Ny", exact=True)).to_be_visible()
    waiting.locator("tbody a").first.click()
    expect(social_worker.get_by_text(CONCERN)).to_be_visible()
    social_worker.get_by_role("button", name="Kvittera mottagandet").click()
    expect(social_worker.get_by_text("Kvitterad. Anmälaren ser nu")).to_be_visible()
    social_worker.get_by_role("link", name="Barnets akt").click()
    expect(social_worker.locator('[data-concern="open"]').first).to_be_visible()

    leader.reload()
    expect(leader.get_by_text("Kvitterad av socialtjänsten")).to_be_visible()
    # Reporting opened nothing: the child's page is refused, the inbox stays empty.
    refused = leader.goto(f"{live_url}/children/{child_id}")
    assert refused is not None and refused.status in {403, 404}
    leader.goto(f"{live_url}/partner/referrals")
    expect(leader.get_by_text("Inga anmälningar som du får se just nu.")).to_be_visible()
    assert CHILD not in leader.content()
