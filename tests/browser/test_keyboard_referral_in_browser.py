"""A social worker completes the referral flow with the keyboard alone, in Swedish: signs in,
registers a child (a mistyped personnummer first: focus lands on the error summary, whose
link takes focus to the field), adds both guardians, records the placement basis and both
consents, and sends a referral that is shared with the partner at once.

Only Tab, Shift+Tab, Enter, Space and typed text move the user along: no mouse click, and
no address typed after the login page. Each step is judged by what the user then sees.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from referral import clock
from tests.factories import Account, Factory, invented_personnummer

pytestmark = pytest.mark.browser

CHILD = "Tyra Tangentsson"
GUARDIANS = ("Tove Tangentsson", "Tor Tangentsson")
MOST_TABS = 250

# What the focused element is, as the user would name it: its tag, its label (or its own
# text) and whether it lies inside `within` (a CSS selector, or everywhere when empty).
FOCUSED = """within => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const label = e.labels && e.labels.length ? e.labels[0].textContent : '';
  const own = e.getAttribute('aria-label') || e.textContent || '';
  return {
    tag: e.tagName.toLowerCase(),
    name: (label || own).replace(/\\s+/g, ' ').trim(),
    inside: within ? e.closest(within) !== null : true,
  };
}"""


def tab_to(page: Page, tag: str, name: str, within: str = "", backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focus is on the `tag` element named `name`."""
    key = "Shift+Tab" if backwards else "Tab"
    for _press in range(MOST_TABS):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED, within)
        if focused and focused["tag"] == tag and focused["name"] == name and focused["inside"]:
            return
    raise AssertionError(f"{key} never reached the {tag} {name!r} {within}")


def type_into(page: Page, text: str) -> None:
    """Replace what the focused field holds with `text`, as typed."""
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


def sign_in(page: Page, live_url: str, account: Account) -> None:
    page.goto(f"{live_url}/login")
    tab_to(page, "input", "Användarnamn")
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Sexsiffrig kod")).to_be_focused()
    page.keyboard.type(account.next_code())
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


def open_details(page: Page, summary: str, section: str) -> None:
    tab_to(page, "summary", summary, section)
    page.keyboard.press("Enter")
    expect(page.locator(section).locator("details", has_text=summary)).to_have_attribute("open", "")


def choose(page: Page, label: str, within: str, typed: str, option: str) -> None:
    """Tab to the select labelled `label` and pick `option` as a keyboard user does in a
    closed select: type the start of its text, or (should the typing be read as two
    searches on a slow machine) step to it with the arrow keys."""
    tab_to(page, "select", label, within)
    select = page.locator(within).get_by_label(label, exact=True)
    page.keyboard.type(typed)
    if select.locator("option:checked").inner_text().strip() != option:
        page.keyboard.press("Home")
        for _step in range(select.locator("option").count()):
            if select.locator("option:checked").inner_text().strip() == option:
                break
            page.keyboard.press("ArrowDown")
    expect(select.locator("option:checked")).to_have_text(option)


def _mistyped(personnummer: str) -> str:
    """The same number with its check digit wrong, as when one digit is mistyped."""
    return personnummer[:-1] + str((int(personnummer[-1]) + 1) % 10)


def test_a_social_worker_refers_a_child_from_registration_to_sharing_with_the_keyboard_alone(
    browser: Browser, live_url: str, live_factory: Factory
) -> None:
    district = live_factory.organisation("district")
    partner = live_factory.organisation("partner", name=f"Zebrastiftelsen {secrets.token_hex(3)}")
    description = live_factory.activity_description("K-1", partner)
    account = live_factory.account("social_worker", district)
    born = date(clock.today().year - 9, 2, 3)
    personnummer = invented_personnummer(born.year, born.month, born.day)
    page = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900}).new_page()
    try:
        sign_in(page, live_url, account)

        # To the children's list through the menu.
        tab_to(page, "a", "Barn och anmälningar", "nav.main-menu")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Stadsdelens barn")).to_be_visible()

        # A mistyped personnummer: the page comes back with the summary focused and named
        # in the title; its link takes the focus to the field.
        register = "form[action='/children']"
        tab_to(page, "input", "Personnummer eller samordningsnummer", register)
        page.keyboard.type(_mistyped(personnummer))
        tab_to(page, "input", "Namn", register)
        page.keyboard.type(CHILD)
        page.keyboard.press("Enter")
        summary = page.locator(".error-summary")
        expect(summary).to_be_focused()
        expect(page).to_have_title(re.compile(r"^Fel:"))
        expect(summary.get_by_role("link")).to_contain_text("Personnummer eller samordningsnummer")
        page.keyboard.press("Tab")
        expect(summary.get_by_role("link")).to_be_focused()
        page.keyboard.press("Enter")
        field = page.locator(register).get_by_label("Personnummer eller samordningsnummer")
        expect(field).to_be_focused()

        # Corrected, the child is registered and the child's record opens.
        type_into(page, personnummer)
        tab_to(page, "input", "Namn", register)
        type_into(page, CHILD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text(CHILD)
        expect(page.get_by_text("Barnet registrerades.")).to_be_visible()

        # Both guardians, each with custody (the box is ticked from the start).
        for guardian in GUARDIANS:
            open_details(page, "Lägg till vårdnadshavare", "#guardians")
            tab_to(page, "input", "Vårdnadshavarens namn", "#guardians")
            page.keyboard.type(guardian)
            page.keyboard.press("Tab")
            page.keyboard.type("070-000 00 00")
            page.keyboard.press("Enter")
            expect(page.get_by_text("Vårdnadshavaren lades till.")).to_be_visible()
            expect(page.locator("#guardians tbody")).to_contain_text(guardian)

        # The placement basis.
        choose(
            page,
            "Placeringsgrund",
            "#placement",
            "SoL",
            "SoL (frivillig: vårdnadshavarna samtycker)",
        )
        tab_to(page, "button", "Registrera placeringsgrund", "#placement")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Placeringsgrunden registrerades.")).to_be_visible()

        # Each guardian's consent to every category, on the published description.
        for guardian in GUARDIANS:
            _record_consent_by_keyboard(page, guardian, description.version)

        # The referral: a draft, then sent; with both consents it is shared at once.
        open_details(page, "Ny anmälan till en stödgrupp", "#referrals")
        choose(page, "Partnerorganisation", "#referrals", partner.name, partner.name)
        tab_to(page, "textarea", _label_of(page, "#referrals textarea"), "#referrals")
        page.keyboard.type("Behöver träffa andra barn i familjehem.")
        tab_to(page, "button", "Spara som utkast", "#referrals")
        page.keyboard.press("Enter")
        expect(page.locator("#referrals .status")).to_have_text("Utkast")
        tab_to(page, "button", "Skicka in", "#referrals")
        page.keyboard.press("Enter")
        expect(page.locator("#referrals .status")).to_have_text("Delad med partnern")
    finally:
        page.context.close()


def _record_consent_by_keyboard(page: Page, guardian: str, version: str) -> None:
    section = "#consents"
    open_details(page, "Registrera ett samtyckesbeslut (lämnat, nekat eller återkallat)", section)
    choose(page, "Vems beslut", section, guardian, guardian)
    choose(page, "Beslut", section, "Lämnat", "Lämnat")
    for category in ("Namn", "Ålder", "Kontaktuppgifter", "Registrering av deltagande"):
        box = page.locator(section).get_by_label(category, exact=True)
        tab_to(page, "input", category, section)
        if not box.is_checked():  # the form may offer a category ticked already
            page.keyboard.press("Space")
        expect(box).to_be_checked()
    version_select = page.locator(section).get_by_label(
        "Version av verksamhetsbeskrivningen som vårdnadshavaren fått"
    )
    expect(version_select.locator("option:checked")).to_contain_text(version)
    tab_to(page, "button", "Registrera beslutet", section)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Samtyckesbeslutet registrerades.")).to_be_visible()
    expect(page.locator(f"{section} tbody")).to_contain_text(guardian)


def _label_of(page: Page, selector: str) -> str:
    """A field's label as the page words it (read, not clicked)."""
    label: str = page.locator(selector).first.evaluate(
        "e => e.labels[0].textContent.replace(/\\s+/g, ' ').trim()"
    )
    return label
