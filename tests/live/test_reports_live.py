"""Feedback and the activity report on the real server (gunicorn, two workers), over HTTP:
eight people send feedback through the public form at the same moment, from one address;
five are kept and three are told to wait, whichever worker answers, and nothing fails. The
coordinator's report of the period counts the five, and reports read by several clients at
once all answer, on the page, in the CSV and in the PDF."""

from __future__ import annotations

import requests

from referral import clock
from referral.services.reports.periods import recent_periods
from tests.live.conftest import LiveServer, csrf_token, run_at_once

SENDERS = 8
KEPT = 5  # PUBLIC_COMPLAINT_RATE: five an hour from one address


def test_the_public_form_keeps_five_an_hour_from_one_address_and_the_report_counts_them(
    live_server: LiveServer,
) -> None:
    form = f"{live_server.url}/synpunkter"
    sessions = [requests.Session() for _ in range(SENDERS)]
    tokens = [csrf_token(http, form) for http in sessions]

    def send(index: int) -> requests.Response:
        data = {
            "csrf_token": tokens[index],
            "programme": "A",
            "kind": "complaint",
            "category": "treatment",
            "text": f"Synpunkt nummer {index} om bemötandet",
            "contact": "",
            "website": "",
        }
        return sessions[index].post(form, data=data, allow_redirects=False)

    answers = run_at_once(SENDERS, send)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [302] * KEPT + [429] * (SENDERS - KEPT)
    for answer in answers:
        assert "Synpunkt nummer" not in answer.text  # never echoed, not even in a refusal

    coordinator = live_server.log_in(
        live_server.factory.account("coordinator", live_server.factory.organisation("city"))
    )
    period = recent_periods(clock.today())[0]
    base = f"{live_server.url}/reports/A/{period.key}"
    paths = [base, f"{base}/report.csv", f"{base}/report.pdf"] * 2

    def read(index: int) -> requests.Response:
        return coordinator.get(paths[index])

    reports = run_at_once(len(paths), read)

    assert [r.status_code for r in reports] == [200] * len(paths)
    csv = reports[1].text
    # (In Swedish, the default.) The five kept, all complaints about treatment.
    lines = csv.splitlines()
    assert any(line.endswith("efter kategori och slag;Totalt;Totalt;5") for line in lines)
    assert "Inkomna synpunkter, efter kategori och slag;Personalens bemötande;Ett klagomål;5" in csv
    assert reports[2].content.startswith(b"%PDF-")
