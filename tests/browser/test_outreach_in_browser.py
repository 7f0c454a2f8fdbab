"""Programme B in a real browser, in Swedish: a link worker records an anonymous encounter,
later registers the youth (19, so the youth consents alone) and links the encounter, records
the youth's consent to Migrationsverket, opens a link case and hands over: the page shows
exactly which categories were disclosed and on what basis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from referral import clock
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Factory, invented_personnummer

pytestmark = pytest.mark.browser


def test_an_anonymous_encounter_identified_linked_and_handed_over_to_migrationsverket(
    browser: Browser, live_url: str, live_app: Flask, live_factory: Factory
) -> None:
    partner = live_factory.organisation("partner")
    page = _logged_in(browser, live_url, live_factory.account("link_worker", partner))

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Möten").click()
    page.get_by_label("Plats").select_option(label="Sergels torg")
    page.get_by_label("Behov som möttes").select_option(label="Stödjande samtal")
    page.get_by_role("button", name="Registrera mötet").click()
    expect(page.get_by_text("Mötet registrerades, utan identitet.")).to_be_visible()
    expect(page.locator('[data-anonymous="yes"]')).to_have_count(1)

    page.get_by_role("link", name="Unga", exact=True).click()
    page.get_by_label("Alias eller förnamn").fill("Karim")
    born = clock.today().replace(year=clock.today().year - 19) - timedelta(days=3)
    personnummer = invented_personnummer(born.year, born.month, born.day)
    page.get_by_label("Personnummer eller samordningsnummer (om den unga samtycker)").fill(
        personnummer
    )
    page.get_by_role("button", name="Registrera", exact=True).click()
    expect(page.get_by_text("Den unga registrerades.")).to_be_visible()

    page.get_by_role("button", name="Koppla: den unga samtycker").click()
    expect(page.get_by_text("Mötet kopplades till den ungas uppgifter.")).to_be_visible()

    consents = page.locator("#consents")
    consents.get_by_text("Registrera ett samtycke").click()
    consents.get_by_label("Till", exact=True).select_option(label="Migrationsverket")
    consents.get_by_label("Syfte", exact=True).fill("Återuppta kontakten om asylärendet")
    consents.get_by_label("Vad som får lämnas över").select_option(
        label=["Identitet (alias och identitetsuppgifter)", "Situation"]
    )
    consents.get_by_label("Lämnat av").select_option(label="Den unga (från 18 år)")
    consents.get_by_label("Gäller till och med").fill(
        (clock.today() + timedelta(days=90)).isoformat()
    )
    consents.get_by_role("button", name="Registrera samtycket").click()
    expect(page.get_by_text("Samtycket registrerades.")).to_be_visible()

    cases = page.locator("#cases")
    cases.get_by_text("Öppna en länkning").click()
    cases.get_by_label("Länka till").select_option(label="Migrationsverket")
    cases.get_by_label("Syfte", exact=True).fill("Följa med till Migrationsverket")
    cases.get_by_role("button", name="Öppna länkningen").click()
    expect(page.get_by_text("Länkningen öppnades.")).to_be_visible()

    for step, categories in (
        ("Kontakt tagen", []),
        ("Överlämnat", ["Identitet (alias och identitetsuppgifter)", "Situation"]),
    ):
        case = page.locator("#cases article.link-case")
        case.get_by_text("Registrera nästa steg").click()
        case.get_by_label("Steg", exact=True).select_option(label=step)
        case.get_by_label("Nästa steg senast").fill((clock.today() + timedelta(days=7)).isoformat())
        if categories:
            case.get_by_label("Överlämnat (vid överlämning)").select_option(label=categories)
        case.get_by_role("button", name="Registrera steget").click()
        expect(page.get_by_text("Steget registrerades.")).to_be_visible()

    disclosed = page.locator("#cases ul.disclosures li")
    expect(disclosed).to_have_count(2)
    expect(disclosed.first).to_contain_text("Identitet")
    expect(disclosed.first).to_contain_text("den ungas samtycke")
    expect(disclosed.nth(1)).to_contain_text("Situation")
    expect(page.locator('#cases [data-step="handed_over"]')).to_be_visible()
