"""Every role's path through the service, walked in one browser: a world of seeded data so
the pages have something to show, each role signed in through the real login, and a walk
from the start page over every link in the menu and the page, and on to the pages those
link to (a child's record, a group, a youth, a concern report), each kind of page once.

At each page the walk runs axe-core at 1280 and 390 px and measures sideways scrolling at
320 px; the tests then judge what the walk saw, so each role's pages are loaded once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from referral import clock
from referral.actors import Actor
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, concern_reports, consent
from referral.working_time import WorkingDay
from tests.browser.axe import Finding, blocking_violations, sideways_overflow
from tests.browser.test_concern_report_in_browser import _a_social_emergency_service
from tests.browser.test_referral_main_path import _logged_in
from tests.factories import Account, Factory, invented_personnummer
from tests.web.test_audited_routes import _seed

DESKTOP, PHONE, NARROWEST = 1280, 390, 320
HEIGHT = 900
# Addresses that answer with a file, not a page, or that act rather than show.
NOT_PAGES = frozenset(
    {
        "static",
        "home.healthz",
        "auth.logout",
        "dpo.export",
        "fees.export",
        "reports.export_csv",
        "reports.export_pdf",
        "returned_files.download",
        "returned_files.public_key",
    }
)
# The start page, the pages it and the menu link to, and one click deeper: a list's detail
# page, and what that links to (a concern report's printable copy).
DEPTH = 3
# Links are taken from the menu and the page's content, not from the header (its language
# switch would change the language of the rest of the walk).
LINKS = "nav.main-menu a[href], main a[href]"


@dataclass
class World:
    accounts: dict[Role, Account]
    subject_personnummer: str  # a child of the social worker's, for a subject-access report
    unknown_child_path: str  # a record no district has: the refusal page


@dataclass
class Walk:
    """What one role's walk saw."""

    pages: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    overflowing: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # a link on the path that did not open


def build_world(app: Flask, factory: Factory) -> World:
    """The walk over every route's seed (tests/web/test_audited_routes.py: a child with a
    guardian, consent and referrals, a group, a concern report, a youth with a link case, a
    shelter with an allocation, feedback), plus the roles it does not seed."""
    seed = _seed(app, factory)
    accounts = dict(seed.accounts)
    _a_social_emergency_service(app, factory)
    with app.app_context():
        emergency_service = request_session().scalar(
            select(Organisation).where(Organisation.social_emergency_service.is_(True))
        )
    assert emergency_service is not None
    accounts[Role.SOCIAL_EMERGENCY] = factory.account("social_emergency", emergency_service)
    for role in (Role.COORDINATOR, Role.DPO, Role.ADMIN):
        accounts[role] = factory.account(role.value)
    _concern_about_a_child_no_district_knows(app, accounts[Role.LINK_WORKER])
    personnummer = _a_second_child(app, accounts[Role.SOCIAL_WORKER])
    return World(accounts, personnummer, "/children/00000000-0000-4000-8000-000000000000")


def _actor(account: Account, role: Role) -> Actor:
    return Actor(account.user.id, account.username, account.user.organisation_id, frozenset({role}))


def _a_second_child(app: Flask, worker: Account) -> str:
    """A child placed under LVU, whose personnummer the data-protection officer asks about."""
    personnummer = invented_personnummer(2013, 3, 3)
    today = clock.today()
    actor = _actor(worker, Role.SOCIAL_WORKER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(personnummer, "Lova Påhittad"), today
        )
        consent.record_placement(
            uow,
            actor,
            child.id,
            "LVU",
            "Beslut 1/2026",
            "Socialnämnden",
            today,
            today=today,
            lvu_shared=("name", "age"),
        )
        uow.commit()
    return personnummer


def _concern_about_a_child_no_district_knows(app: Flask, reporter: Account) -> None:
    """A report the social emergency service receives, so its inbox has a line to open."""
    actor = _actor(reporter, Role.LINK_WORKER)
    rule = concern_reports.AcknowledgementRule(4, WorkingDay(8, 17))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        concern_reports.file_report(
            uow,
            actor,
            concern_reports.NewConcernReport(
                "Ett barn sov utomhus vid Centralstationen i natt.",
                "070-000 00 00, dagtid",
                subject_name="Okänt barn",
                approximate_age="omkring 12",
                place="Centralstationen",
            ),
            rule,
            clock.today(),
        )
        uow.commit()


class Walker:
    """Walks pages in one browser context, recording what axe and the reflow check find."""

    def __init__(self, app: Flask, live_url: str, page: Page) -> None:
        self.routes = app.url_map.bind("127.0.0.1")
        self.live_url = live_url
        self.page = page
        self.walk = Walk()

    def examine(self, where: str) -> None:
        """The page as it is now (drawn at the desktop's width), at the three widths; the
        next page opens at the desktop's width again."""
        self.walk.pages.append(where)
        for width in (DESKTOP, PHONE):
            self.page.set_viewport_size({"width": width, "height": HEIGHT})
            self.walk.findings.extend(blocking_violations(self.page, where))
        self.page.set_viewport_size({"width": NARROWEST, "height": HEIGHT})
        overflow = sideways_overflow(self.page)
        if overflow:
            self.walk.overflowing.append(f"{where}: {overflow} px too wide ({_widest(self.page)})")

    def visit(self, path: str) -> list[str]:
        """Open and examine `path`; the links it offers, as paths."""
        self.page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})
        try:
            response = self.page.goto(self.live_url + path)
        except PlaywrightError as error:
            if "Download is starting" in error.message:
                return []  # a file to save (a new export not yet in NOT_PAGES), not a page
            raise
        if response is None or response.status >= 400:
            status = response.status if response else "no answer"
            self.walk.refused.append(f"{path}: {status}")
        if response is not None and "text/html" not in response.headers.get("content-type", ""):
            return []  # a document shown as it is (JSON, a key), not a page of the service
        hrefs: list[str] = self.page.eval_on_selector_all(LINKS, "links => links.map(a => a.href)")
        self.examine(path)
        return [link for link in (self._own_path(href) for href in hrefs) if link]

    def walk_from(self, start: str, seen: set[str] | None = None) -> Walk:
        """Breadth first from `start`, each kind of page (endpoint) once."""
        seen = set() if seen is None else seen
        seen.add(self.endpoint(start) or start)
        frontier = [start]
        for _depth in range(DEPTH + 1):
            following: list[str] = []
            for path in frontier:
                for link in self.visit(path):
                    endpoint = self.endpoint(link)
                    if endpoint is None or endpoint in NOT_PAGES or endpoint in seen:
                        continue
                    seen.add(endpoint)
                    following.append(link)
            frontier = following
        return self.walk

    def endpoint(self, path: str) -> str | None:
        parts = urlsplit(path)
        try:
            endpoint, _arguments = self.routes.match(parts.path, method="GET")
        except (HTTPException, RoutingException):
            return None
        return str(endpoint)

    def _own_path(self, href: str) -> str | None:
        """This server's page the link goes to (without its fragment), or None."""
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != self.live_url:
            return None
        if "lang" in parse_qs(parts.query):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")


def _widest(page: Page) -> str:
    """The outermost elements that push the page past the window's right edge (not those
    inside a box that scrolls or clips on its own): where to look."""
    culprits: list[str] = page.evaluate(
        """() => {
          const limit = window.innerWidth + 1;
          const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
            (e.classList.length ? '.' + [...e.classList].join('.') : '');
          // A box that scrolls clips its content, except what is positioned against a
          // box outside it.
          const clipped = (e) => {
            if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return false;
            for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
              if (getComputedStyle(p).overflowX !== 'visible') return true;
            }
            return false;
          };
          const wide = [...document.body.querySelectorAll('*')]
            .filter((e) => e.getBoundingClientRect().right > limit && !clipped(e));
          return wide.filter((e) => !wide.includes(e.parentElement)).slice(0, 4).map(name);
        }"""
    )
    return ", ".join(culprits) or "no single element"


# What a role does on its path besides following links: a refused form, a refusal page.
Steps = Callable[[Walker, World], None]


def _refused_registration(walker: Walker, world: World) -> None:
    page = walker.page
    page.goto(f"{walker.live_url}/children")
    page.locator("form[action='/children']").get_by_role("button", name="Registrera").click()
    expect(page.locator(".error-summary")).to_be_visible()
    walker.examine("/children (a registration refused)")
    refusal = page.goto(walker.live_url + world.unknown_child_path)
    assert refusal is not None and refusal.status == 404
    walker.examine(f"{world.unknown_child_path} (not found)")


def _subject_access_report(walker: Walker, world: World) -> None:
    page = walker.page
    page.goto(f"{walker.live_url}/dpo/subject-access")
    page.get_by_label("Personnummer eller samordningsnummer").fill(world.subject_personnummer)
    page.get_by_role("button", name="Visa utdrag").click()
    expect(page.locator("main table").first).to_be_visible()
    walker.examine("/dpo/subject-access (a report)")


EXTRA_STEPS: dict[Role, Steps] = {
    Role.SOCIAL_WORKER: _refused_registration,
    Role.DPO: _subject_access_report,
}


def walk_role(browser: Browser, app: Flask, live_url: str, world: World, role: Role) -> Walk:
    """Sign in as `role` through the login page and walk its path."""
    page = _logged_in(browser, live_url, world.accounts[role])
    try:
        walker = Walker(app, live_url, page)
        walker.walk_from("/")
        extra = EXTRA_STEPS.get(role)
        if extra is not None:
            extra(walker, world)
        return walker.walk
    finally:
        page.context.close()


def walk_anonymous(browser: Browser, app: Flask, live_url: str, world: World) -> Walk:
    """Someone not signed in: the login (refused, then each second-factor page), the public
    feedback form (refused, then sent) and the published result of the night draw."""
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    try:
        walker = Walker(app, live_url, page)
        walker.visit("/login")
        _password(page, world.accounts[Role.SOCIAL_WORKER].username, "not the password")
        expect(page.get_by_role("alert")).to_be_visible()
        walker.examine("/login (a wrong password)")
        _password(page, world.accounts[Role.DPO].username, world.accounts[Role.DPO].password)
        expect(page.get_by_label("Sexsiffrig kod")).to_be_visible()
        walker.examine("/mfa (the code)")
        page.get_by_role("button", name="Avbryt och logga ut").click()

        walker.visit("/synpunkter")
        page.get_by_role("button", name="Skicka").click()
        expect(page.locator(".error-summary")).to_be_visible()
        walker.examine("/synpunkter (refused)")
        page.locator("input[name=programme]").first.check()
        page.locator("input[name=kind]").first.check()
        page.locator("select[name=category]").select_option(index=1)
        page.locator("textarea[name=text]").fill("Lokalen var kall i går kväll.")
        page.get_by_role("button", name="Skicka").click()
        walker.examine("/synpunkter/tack")

        walker.walk_from("/nights/result", {"auth.login", "complaints.public_form"})
        return walker.walk
    finally:
        context.close()


def walk_enrolment(browser: Browser, app: Flask, live_url: str, factory: Factory) -> Walk:
    """A new user's first login: the page that enrols the authenticator (QR code)."""
    account = factory.account("dpo", enrolled=False)
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    try:
        walker = Walker(app, live_url, page)
        page.goto(f"{live_url}/login")
        _password(page, account.username, account.password)
        expect(page.get_by_role("heading", name="Koppla din autentiseringsapp")).to_be_visible()
        walker.examine("/mfa (enrolment)")
        return walker.walk
    finally:
        context.close()


def _password(page: Page, username: str, password: str) -> None:
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Fortsätt").click()
