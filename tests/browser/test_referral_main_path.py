"""The main path of Programme A in a real browser, in Swedish: a social worker refers a child
placed under SoL; with one guardian's consent the group leader still sees nothing; with the
second the leader sees name, age and contact details only, accepts and places the child in a
group; the consent is withdrawn and the leader loses the child at once."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from referral import clock
from referral.actors import Actor
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.rules import age_on
from referral.services import groups
from tests.factories import Account, Factory, invented_personnummer

pytestmark = pytest.mark.browser

CHILD = "Elsa Påhittad"
NOTE = "Behöver stöd kring kontakten med mamma"
MOTHER, FATHER = "Maria Påhittad", "Mats Påhittad"
FAMILY_HOME = "Familjen Exempelsson"


def _logged_in(browser: Browser, live_url: str, account: Account) -> Page:
    page = browser.new_context(locale="sv-SE").new_page()
    page.goto(f"{live_url}/login")
    page.get_by_label("Användarnamn").fill(account.username)
    page.get_by_label("Lösenord").fill(account.password)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Sexsiffrig kod").fill(account.next_code())
    page.get_by_role("button", name="Verifiera").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    return page


def _record_consent(page: Page, guardian: str, decision: str = "Lämnat") -> None:
    section = page.locator("#consents")
    section.get_by_text("Registrera ett samtyckesbeslut").click()
    section.locator("#party").select_option(label=guardian)
    section.locator("#decision").select_option(label=decision)
    for category in ("Namn", "Ålder", "Kontaktuppgifter", "Registrering av deltagande"):
        checkbox = section.get_by_label(category, exact=True)
        if decision == "Lämnat":
            checkbox.check()
        else:
            checkbox.uncheck()
    section.get_by_role("button", name="Registrera beslutet").click()
    expect(page.get_by_text("Samtyckesbeslutet registrerades.")).to_be_visible()


def _planned_group(app: Flask, leader: Account) -> str:
    actor = Actor(
        leader.user.id,
        leader.username,
        leader.user.organisation_id,
        frozenset({Role.GROUP_LEADER}),
    )
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = groups.create_group(
            uow,
            actor,
            groups.NewGroup("Vårgrupp Exempel", "weekly", clock.today(), 7, 12, [leader.user.id]),
            clock.today(),
        )
        return group.group_id


def test_consent_decides_what_the_group_leader_sees_from_referral_to_withdrawal(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory
) -> None:
    district = live_factory.organisation("district")
    partner = live_factory.organisation("partner")
    live_factory.activity_description("A-2026:1", partner)
    worker_account = live_factory.account("social_worker", district)
    leader_account = live_factory.account("group_leader", partner)
    group_id = _planned_group(live_app, leader_account)
    born = date(clock.today().year - 10, 4, 12)
    personnummer = invented_personnummer(born.year, born.month, born.day)
    worker = _logged_in(browser, live_url, worker_account)
    leader = _logged_in(browser, live_url, leader_account)

    # The social worker registers the child and what the partner will need.
    worker.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Barn och anmälningar"
    ).click()
    register = worker.locator("form[action='/children']")
    register.get_by_label("Personnummer eller samordningsnummer").fill(personnummer)
    register.get_by_label("Namn").fill(CHILD)
    register.get_by_role("button", name="Registrera").click()
    expect(worker.get_by_role("heading", name=CHILD)).to_be_visible()
    assert personnummer not in worker.url

    details = worker.locator("#details")
    details.get_by_text("Ändra uppgifter").click()
    details.get_by_label("Familjehem (namn)").fill(FAMILY_HOME)
    details.get_by_label("Familjehemmets telefon").fill("08-123 456 78")
    details.get_by_role("button", name="Spara uppgifterna").click()
    worker.locator("#placement #basis").select_option("SoL")
    worker.get_by_role("button", name="Registrera placeringsgrund").click()
    for guardian in (MOTHER, FATHER):
        section = worker.locator("#guardians")
        section.get_by_text("Lägg till vårdnadshavare", exact=True).click()
        section.get_by_label("Vårdnadshavarens namn").fill(guardian)
        section.get_by_label("Kontakt (telefon eller e-post)").fill("070-000 00 00")
        section.get_by_role("button", name="Lägg till vårdnadshavaren").click()
        expect(worker.get_by_text("Vårdnadshavaren lades till.")).to_be_visible()

    referral = worker.locator("#referrals")
    referral.get_by_text("Ny anmälan till en stödgrupp").click()
    referral.locator("#partner_id").select_option(label=partner.name)
    referral.locator("#notes").fill(NOTE)
    referral.get_by_role("button", name="Spara som utkast").click()
    worker.locator("#referrals").get_by_role("button", name="Skicka in").click()
    expect(worker.locator("#referrals .status")).to_have_text("Väntar på samtycke")

    # One custodian's consent is not enough: the partner does not even see a referral.
    _record_consent(worker, MOTHER)
    leader.goto(f"{live_url}/partner/referrals")
    expect(leader.get_by_text("Inga anmälningar som du får se just nu.")).to_be_visible()

    # With both, the leader sees name, age and the family home's contact, and nothing else.
    _record_consent(worker, FATHER)
    expect(worker.locator("#referrals .status")).to_have_text("Delad med partnern")
    leader.reload()
    card = leader.locator("article.referral")
    expect(card.get_by_role("heading", name=CHILD)).to_be_visible()
    expect(card.locator("dd").first).to_have_text(str(age_on(born, clock.today())))
    expect(card).to_contain_text(FAMILY_HOME)
    inbox_text = leader.content()
    for never_shown in (personnummer, personnummer[2:], NOTE, MOTHER, FATHER):
        assert never_shown not in inbox_text

    card.get_by_role("button", name="Ta emot").click()
    expect(leader.get_by_text("Anmälan togs emot.")).to_be_visible()
    leader.locator("article.referral").get_by_role("button", name="Placera i grupp").click()
    expect(leader.get_by_text("Barnet placerades i gruppen.")).to_be_visible()
    expect(leader.locator("#children")).to_contain_text(CHILD)

    # The father withdraws his consent: on the next request the child is gone for the partner.
    _record_consent(worker, FATHER, decision="Återkallat")
    leader.goto(f"{live_url}/partner/groups/{group_id}")
    expect(leader.locator("#children")).not_to_contain_text(CHILD)
    leader.goto(f"{live_url}/partner/referrals")
    expect(leader.get_by_text("Inga anmälningar som du får se just nu.")).to_be_visible()
    leader.goto(f"{live_url}/notifications")
    expect(leader.locator(".notice-participation_must_stop")).to_contain_text(
        "Deltagandet måste upphöra"
    )
    assert CHILD not in leader.content()
