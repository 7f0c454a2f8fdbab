"""Programme C in a real browser on a tablet, in Swedish: night staff see the morning window
open and the draw's commitment, issue a printable card with its QR code, type its number and
register it, are refused beside the card field when they register it twice, and look it up;
the coordinator adds a shelter and runs the allocation, and anyone, without logging in, reads
the result in Romanian and in Bulgarian: the seed promised by the commitment and the card
number in the ranking, never the person's name.

The desk works on Stockholm's weekday morning only, so these tests drive the real server
(gunicorn, as tests/live starts it) with its clock stopped by REFERRAL_TEST_CLOCK_FILE: the
in-process browser server shares the test process's clock, which a clock file would stop for
every test after these."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from config.settings import Settings
from tests.factories import Account
from tests.live.conftest import LiveServer, ServerStarter

pytestmark = pytest.mark.browser

TABLET: ViewportSize = {"width": 820, "height": 1180}
# Wednesday 3 and Thursday 4 March 2027, 09:30 in Stockholm: inside the 09:00-11:00 window.
WEDNESDAY = datetime(2027, 3, 3, 8, 30, tzinfo=UTC)
THURSDAY = datetime(2027, 3, 4, 8, 30, tzinfo=UTC)
CARD = re.compile(r"\d{4} \d{4}")
HEX64 = re.compile(r"[0-9a-f]{64}")
ALIAS = "Ionela Nattprovsson"
SHELTER = "Härbärget Surfplattegatan"


class StoppedClock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, moment: datetime) -> None:
        self.path.write_text(moment.isoformat(), encoding="utf-8")


@pytest.fixture(scope="module")
def stopped_clock(tmp_path_factory: pytest.TempPathFactory) -> StoppedClock:
    clock = StoppedClock(tmp_path_factory.mktemp("nights-browser-clock") / "now")
    clock.set(WEDNESDAY)
    return clock


@pytest.fixture(scope="module")
def nights_server(
    base_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    stopped_clock: StoppedClock,
) -> Iterator[LiveServer]:
    start_server = ServerStarter(base_settings, tmp_path_factory)
    with start_server("nights_browser", TEST_CLOCK_FILE=str(stopped_clock.path)) as server:
        yield server


def _tablet(browser: Browser) -> Page:
    return browser.new_context(locale="sv-SE", viewport=TABLET).new_page()


def _logged_in(browser: Browser, url: str, account: Account) -> Page:
    page = _tablet(browser)
    page.goto(f"{url}/login")
    page.get_by_label("Användarnamn").fill(account.username)
    page.get_by_label("Lösenord").fill(account.password)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Sexsiffrig kod").fill(account.next_code())
    page.get_by_role("button", name="Verifiera").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
    return page


def _open_desk(page: Page) -> str:
    """From the start page to the desk, open this morning; the commitment shown."""
    page.get_by_role("link", name="Inskrivningsdisk").first.click()
    expect(page.get_by_role("heading", name="Inskrivningsdisk", level=1)).to_be_visible()
    window = page.locator('[data-section="window"]')
    expect(window).to_have_attribute("data-open", "yes")
    expect(window).to_contain_text("Inskrivningen är öppen till kl. 11:00")
    commitment = window.locator("[data-commitment]").inner_text()
    assert HEX64.fullmatch(commitment), commitment
    return commitment


def _issue_card(page: Page, alias: str = "") -> str:
    new_card = page.locator("#new-card")
    if alias:
        new_card.get_by_label("Namn eller alias (frivilligt)").fill(alias)
    new_card.get_by_label("Kön (frivilligt)").select_option(label="Kvinna")
    new_card.get_by_label("Ursprungsland (frivilligt)").fill("Rumänien")
    new_card.get_by_role("button", name="Utfärda ett kort").click()
    issued = page.locator('[data-section="issued"]')
    expect(issued.get_by_role("heading", name="Ett nytt kort har utfärdats")).to_be_visible()
    expect(issued.locator(".qr svg")).to_be_visible()
    number = issued.locator(".night-card-number").inner_text().strip()
    assert CARD.fullmatch(number), number
    expect(issued.locator(".night-card")).to_have_attribute("data-card", number)
    return number


def _fits_the_tablet(page: Page) -> None:
    """Nothing wider than the tablet's screen: no sideways scrolling, no table cut off."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


def _register(page: Page, card: str) -> int:
    """Types the eight digits as a person at the desk would; the answer's HTTP status."""
    desk = page.locator("section.desk")
    desk.get_by_label("Kortnummer").fill(card.replace(" ", ""))
    with page.expect_response(lambda r: r.url.endswith("/nights/desk/registrations")) as answer:
        desk.get_by_role("button", name="Registrera", exact=True).click()
    page.wait_for_load_state()
    return answer.value.status


def test_night_staff_issue_a_card_register_it_once_and_look_it_up(
    browser: Browser, nights_server: LiveServer, stopped_clock: StoppedClock, tmp_path: Path
) -> None:
    stopped_clock.set(WEDNESDAY)
    factory = nights_server.factory
    staff = factory.account("night_staff", factory.organisation("partner"))
    page = _logged_in(browser, nights_server.url, staff)
    commitment = _open_desk(page)
    expect(page.locator('[data-section="window"] [data-registered]')).to_have_text("0")

    card = _issue_card(page)
    printed = page.locator('[data-section="issued"] .night-card')
    qr = printed.locator(".qr svg").bounding_box()
    assert qr is not None and qr["width"] >= 100 and qr["height"] >= 100, qr  # scannable
    _fits_the_tablet(page)
    page.screenshot(path=str(tmp_path / "desk-new-card.png"), full_page=True)
    page.emulate_media(media="print")  # only the card is printed
    expect(printed).to_be_visible()
    expect(page.locator("#new-card")).to_be_hidden()
    expect(page.locator("section.desk")).to_be_hidden()
    printed.screenshot(path=str(tmp_path / "card-printed.png"))
    page.emulate_media(media="screen")

    assert _register(page, card) == 200
    receipt = page.locator('[data-section="registered"]')
    expect(receipt.get_by_role("heading")).to_have_text(f"Inskriven: kort {card}")
    expect(receipt).to_contain_text("Inskriven till fördelningen av nätterna")
    expect(receipt).to_contain_text("2027-03-03")
    expect(page.locator('[data-section="window"] [data-registered]')).to_have_text("1")
    expect(page.locator("[data-commitment]")).to_have_text(commitment)  # the same promise
    expect(page.locator("section.desk").get_by_label("Kortnummer")).to_have_value("")

    assert _register(page, card) == 422  # refused, not a server error
    field = page.locator("section.desk #card_number")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#card_number-error")).to_have_text(
        "Kortet är redan inskrivet den här morgonen."
    )
    expect(page.locator('[data-section="registered"]')).to_have_count(0)
    expect(page.locator('[data-section="window"] [data-registered]')).to_have_text("1")
    _fits_the_tablet(page)
    page.screenshot(path=str(tmp_path / "desk-refused.png"), full_page=True)

    look_up = page.locator("#look-up")
    look_up.get_by_label("Kortnummer").fill(card.replace(" ", ""))
    look_up.get_by_role("button", name="Sök").click()
    found = page.locator('[data-section="found"]')
    expect(found.get_by_role("heading", name=f"Kort {card}")).to_be_visible()
    expect(found).to_contain_text("Kvinna")
    expect(found).to_contain_text("Rumänien")
    expect(found.locator("[data-shelter-tonight]")).to_have_text("Ingen plats i natt")
    expect(found.locator(".qr svg")).to_be_visible()
    page.screenshot(path=str(tmp_path / "desk-look-up.png"), full_page=True)
    page.context.close()


def test_the_coordinator_allocates_and_anyone_reads_the_result_in_romanian_and_bulgarian(
    browser: Browser, nights_server: LiveServer, stopped_clock: StoppedClock, tmp_path: Path
) -> None:
    stopped_clock.set(THURSDAY)
    factory = nights_server.factory
    partner = factory.organisation("partner")
    coordinator = _logged_in(
        browser,
        nights_server.url,
        factory.account("night_coordinator", factory.organisation("city")),
    )
    coordinator.get_by_role("link", name="Samordning").first.click()
    shelters = coordinator.locator("#shelters")
    shelters.get_by_text("Lägg till ett härbärge").click()
    shelters.get_by_label("Drivs av").select_option(label=partner.name)
    shelters.get_by_label("Namn", exact=True).fill(SHELTER)
    shelters.get_by_label("Platser per natt").fill("3")
    expect(shelters.get_by_label("Öppnar den")).to_have_value("2027-03-04")
    shelters.get_by_role("button", name="Lägg till härbärget").click()
    expect(coordinator.get_by_text("Härbärget lades till.")).to_be_visible()
    expect(coordinator.locator("#shelters tbody th", has_text=SHELTER)).to_be_visible()

    staff = _logged_in(browser, nights_server.url, factory.account("night_staff", partner))
    commitment = _open_desk(staff)
    card = _issue_card(staff, alias=ALIAS)
    assert _register(staff, card) == 200
    expect(staff.locator('[data-section="registered"]')).to_contain_text(card)

    coordinator.reload()
    expect(coordinator.locator('#demand [data-registered="1"]')).to_be_visible()
    coordinator.get_by_role("button", name="Gör fördelningen nu").click()
    expect(
        coordinator.get_by_text(
            "Platserna fördelades: 1 inskrivna, 1 fick plats, 0 på reservlistan."
        )
    ).to_be_visible()
    expect(coordinator.locator("#demand")).to_contain_text("Morgonens platser har fördelats.")
    coordinator.context.close()
    staff.context.close()

    anyone = _tablet(browser)
    anyone.goto(f"{nights_server.url}/nights/result")
    expect(anyone.locator("html")).to_have_attribute("lang", "sv")
    expect(anyone.get_by_role("heading", level=1)).to_have_text(
        "Nattplatser: lottningen den 2027-03-04"
    )
    languages = anyone.locator("nav.languages")

    languages.get_by_role("link", name="Română").click()
    expect(anyone.locator("html")).to_have_attribute("lang", "ro")
    expect(anyone.get_by_role("heading", level=1)).to_have_text(
        "Locuri de noapte: tragerea la sorți din 2027-03-04"
    )
    seed = anyone.locator("[data-seed]").inner_text()
    assert HEX64.fullmatch(seed), seed
    assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() == commitment
    expect(anyone.locator("[data-commitment]")).to_have_text(commitment)
    expect(anyone.locator(f'table.ranking tr[data-card="{card}"] th')).to_have_text(card)
    assert ALIAS not in anyone.content() and SHELTER not in anyone.content()
    _fits_the_tablet(anyone)
    anyone.screenshot(path=str(tmp_path / "result-ro.png"), full_page=True)

    languages.get_by_role("link", name="Български").click()
    expect(anyone.locator("html")).to_have_attribute("lang", "bg")
    expect(anyone.get_by_role("heading", level=1)).to_have_text(
        "Места за нощуване: жребият от 2027-03-04"
    )
    expect(anyone.locator("[data-seed]")).to_have_text(seed)
    expect(anyone.locator("table.ranking tbody tr")).to_have_count(1)
    expect(anyone.locator(f'table.ranking tr[data-card="{card}"] th')).to_have_text(card)
    assert ALIAS not in anyone.content() and SHELTER not in anyone.content()
    _fits_the_tablet(anyone)
    anyone.screenshot(path=str(tmp_path / "result-bg.png"), full_page=True)
    anyone.context.close()
