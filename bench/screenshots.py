"""Screenshots of the start pages for the README, taken from a running demo (`make run`).

    make run &            # serves the demo on http://127.0.0.1:5000
    make screenshots      # writes docs/screenshots/start-<user>-<width>.png

Logs in as the demo users the way a person does (password, then the current TOTP code from the
seed `make run` wrote to instance/demo-credentials.json) in Debian's chromium, at desktop and
phone widths. Demo data only: the demo's names are invented.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pyotp
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CREDENTIALS = Path("instance/demo-credentials.json")
OUT = Path("docs/screenshots")
USERS = ("handlaggare", "gruppledare", "dataskydd")
WIDTHS = {"desktop": 1280, "phone": 390}


def log_in(page: Page, base: str, username: str, password: str, seed: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Sexsiffrig kod").fill(pyotp.TOTP(seed).now())
    page.get_by_role("button", name="Verifiera").click()
    page.wait_for_load_state()
    if page.url != f"{base}/":
        raise SystemExit(f"{username} was not signed in: {page.inner_text('main')[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    args = parser.parse_args()
    accounts = {entry["username"]: entry for entry in json.loads(CREDENTIALS.read_text())}
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for username in USERS:
            account = accounts[username]
            # One login per user: a TOTP code is accepted once, so a second login within the
            # same 30 seconds would be refused. The page is resized and drawn again instead.
            context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            log_in(page, args.base, username, account["password"], account["totp_seed"])
            for label, width in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": 900})
                page.reload()
                target = OUT / f"start-{username}-{label}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
