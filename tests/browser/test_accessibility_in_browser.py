"""Every page of every role's path passes axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules
with no serious or critical violation, at desktop (1280 px) and phone (390 px) widths, and
reads at 320 px without scrolling sideways (WCAG 1.4.10).

Each role signs in through the real login (password and authenticator code) and walks from
its start page over every link of the menu and the page, and on to the pages those link to
(tests/browser/role_paths.py), in a world seeded so that every list has something in it.
Someone not signed in walks the login, the public feedback form and the night draw's result.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from config.settings import Settings
from referral.roles import Role
from tests.browser.axe import blocking_violations, sideways_overflow
from tests.browser.role_paths import (
    HEIGHT,
    NARROWEST,
    Walk,
    World,
    build_world,
    walk_anonymous,
    walk_enrolment,
    walk_role,
)
from tests.factories import Factory

pytestmark = pytest.mark.browser

ANONYMOUS = "anonymous"
WHO = [role.value for role in Role] + [ANONYMOUS]


@pytest.fixture(scope="module")
def world(live_app: Flask, live_settings: Settings) -> World:
    return build_world(live_app, Factory(live_app, live_settings))


@pytest.fixture(scope="module")
def walks(
    browser: Browser, live_app: Flask, live_url: str, live_settings: Settings, world: World
) -> Iterator[dict[str, Walk]]:
    """Each role's walk, made once when a test first asks for it: the axe test and the
    reflow test judge the same walk."""

    class Walks(dict[str, Walk]):
        def __missing__(self, who: str) -> Walk:
            if who == ANONYMOUS:
                walk = walk_anonymous(browser, live_app, live_url, world)
                enrolment = walk_enrolment(
                    browser, live_app, live_url, Factory(live_app, live_settings)
                )
                walk.pages += enrolment.pages
                walk.findings += enrolment.findings
                walk.overflowing += enrolment.overflowing
            else:
                walk = walk_role(browser, live_app, live_url, world, Role(who))
            self[who] = walk
            return walk

    yield Walks()


@pytest.mark.parametrize("who", WHO)
def test_every_page_on_the_path_has_no_serious_accessibility_violation(
    walks: dict[str, Walk], who: str
) -> None:
    walk = walks[who]
    assert len(walk.pages) >= 2, f"{who} walked only {walk.pages}"
    assert walk.findings == [], f"{who}: {len(walk.findings)} violations\n" + "\n".join(
        str(finding) for finding in walk.findings
    )


@pytest.mark.parametrize("who", WHO)
def test_every_link_on_the_path_opens(walks: dict[str, Walk], who: str) -> None:
    assert walks[who].refused == [], f"{who}: links that did not open: {walks[who].refused}"


@pytest.mark.parametrize("who", WHO)
def test_every_page_on_the_path_reads_at_320_px_without_scrolling_sideways(
    walks: dict[str, Walk], who: str
) -> None:
    overflowing = walks[who].overflowing
    assert overflowing == [], f"{who}: pages wider than 320 px:\n" + "\n".join(overflowing)


def test_the_checks_see_an_image_without_text_and_a_page_wider_than_the_phone(
    page: Page, live_url: str
) -> None:
    """The two checks above can fail: an image with no text alternative is a critical
    violation, and a box wider than the window makes the page scroll sideways."""
    page.set_viewport_size({"width": NARROWEST, "height": HEIGHT})
    page.goto(f"{live_url}/login")
    assert blocking_violations(page, "/login") == []
    assert sideways_overflow(page) == 0
    page.evaluate(
        """() => {
          const main = document.querySelector('main');
          main.appendChild(document.createElement('img')).src = '/static/app.css';
          const wide = main.appendChild(document.createElement('p'));
          wide.textContent = 'En rad som inte får plats';
          wide.style.width = '600px';
        }"""
    )
    findings = blocking_violations(page, "/login")
    assert [(finding.rule, finding.page, finding.width) for finding in findings] == [
        ("image-alt", "/login", NARROWEST)
    ]
    assert sideways_overflow(page) > 0
