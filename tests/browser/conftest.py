"""A live server on a free local port and Debian's chromium driven by Playwright.

The live app commits for real (a browser cannot share a test's transaction), so accounts
made here carry random names and never collide with other tests.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from config.settings import Settings
from referral import create_app
from referral.request_scope import get_database
from tests.factories import Factory
from tests.own_database import own_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def live_settings(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return replace(
        base_settings,
        database_url=own_database(base_settings.database_url, tmp_path_factory, "browser"),
    )


@pytest.fixture(scope="session")
def live_app(live_settings: Settings) -> Iterator[Flask]:
    app = create_app(live_settings)
    yield app
    get_database(app).engine.dispose()


@pytest.fixture(scope="session")
def live_url(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_factory(live_app: Flask, live_settings: Settings) -> Factory:
    return Factory(live_app, live_settings)
