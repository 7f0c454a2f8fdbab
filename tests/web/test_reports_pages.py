"""Activity reports over HTTP: the page draws its charts on the server (no script), the CSV
and the PDF carry the same suppressed figures, a partner reaches only its own programme's
reports, and a period that has not begun, or is no period, is not found."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.db.outreach import Encounter
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from tests.conftest import FrozenClock
from tests.factories import Account, Factory, log_in

NOW = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def june(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return FrozenClock(monkeypatch, NOW)


def _client(app: Flask, account: Account, lang: str = "en") -> FlaskClient:
    client = app.test_client()
    client.get(f"/login?lang={lang}")
    log_in(client, account)
    return client


def _encounters(app: Flask, factory: Factory, girls: int, boys: int) -> None:
    """Anonymous encounters in March 2027, counted by gender (Programme B)."""
    organisation = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        for n in range(girls + boys):
            uow.session.add(
                Encounter(
                    organisation_id=organisation.id,
                    worker_id="outreach-worker",
                    occurred_on=date(2027, 3, 1 + n % 28),
                    place="sergels_torg",
                    needs="",
                    gender="girl" if n < girls else "boy",
                    age_band="15_17",
                )
            )
        uow.commit()


def test_the_report_page_shows_counts_hides_small_ones_and_draws_charts_without_script(
    app: Flask, factory: Factory, june: FrozenClock
) -> None:
    _encounters(app, factory, girls=3, boys=12)
    client = _client(app, factory.account("link_worker", factory.organisation("partner")))
    page = client.get("/reports/B/2027-winter")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Encounters, by age band and gender" in html
    # The charts are drawn on the server: the report itself carries no script (the page's
    # head loads the service's small progressive scripts, which the charts do not use).
    report = html[html.index("<main") : html.index("</main>")]
    assert "<svg" in report and 'role="img"' in report and "<script" not in report
    # Three girls: "<5", and never the number, not in a cell, a chart or an attribute.
    row = re.search(r"<tr><th scope=\"row\">15-17 years</th>(.*?)</tr>", html)
    assert row is not None
    cells = re.findall(r'data-mark="(\w+)">([^<]*)<', row.group(1))
    assert cells[0] == ("small", "&lt;5")
    assert any(mark == "hidden" for mark, _text in cells)  # a partner hidden beside it
    assert re.search(r'data-figure="girls_share"><dt>[^<]*</dt><dd>not shown<', html)


def test_the_csv_and_the_pdf_carry_the_same_suppressed_figures(
    app: Flask, factory: Factory, june: FrozenClock
) -> None:
    _encounters(app, factory, girls=3, boys=12)
    client = _client(app, factory.account("coordinator", factory.organisation("city")))
    csv = client.get("/reports/B/2027-winter/report.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    girls = [line for line in text.splitlines() if "and gender;15-17 years;Girls" in line]
    girls = [line for line in girls if line.startswith("Encounters;Encounters, by age")]
    assert girls and all(line.endswith(";<5") for line in girls)
    assert (
        "attachment; filename=verksamhetsrapport-B-2027-winter.csv"
        in csv.headers["Content-Disposition"]
    )
    pdf = client.get("/reports/B/2027-winter/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_the_page_is_in_swedish_by_default(app: Flask, factory: Factory, june: FrozenClock) -> None:
    client = _client(app, factory.account("coordinator", factory.organisation("city")), "sv")
    html = client.get("/reports").get_data(as_text=True)
    assert "Verksamhetsrapporter" in html
    html = client.get("/reports/A/2027-winter").get_data(as_text=True)
    assert "Verksamhetsrapport" in html and "Totalt" in html


def test_a_partner_reaches_only_its_own_programmes_reports(
    app: Flask, factory: Factory, june: FrozenClock
) -> None:
    client = _client(app, factory.account("group_leader", factory.organisation("partner")))
    index = client.get("/reports").get_data(as_text=True)
    assert "/reports/A/2027-winter" in index and "/reports/C/" not in index
    assert client.get("/reports/A/2027-winter").status_code == 200
    for path in ("/reports/C/2027-winter", "/reports/B/2027-winter/report.csv"):
        assert client.get(path).status_code == 404
    worker = _client(app, factory.account("social_worker"))
    assert worker.get("/reports/A/2027-winter").status_code == 403


@pytest.mark.parametrize("key", ["2027-spring", "27", "2030", "2027-summer%00", "2027-winter.."])
def test_a_period_that_is_none_or_has_not_begun_is_not_found(
    app: Flask, factory: Factory, june: FrozenClock, key: str
) -> None:
    client = _client(app, factory.account("dpo", factory.organisation("city")))
    assert client.get(f"/reports/A/{key}").status_code == 404
