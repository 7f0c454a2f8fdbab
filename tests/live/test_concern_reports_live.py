"""Concern reports against the real server (gunicorn, 2 workers), over HTTP only: reports
filed at the same moment are all kept, a report acknowledged by several people at once is
acknowledged once, and nothing a partner is answered tells where a report went."""

from __future__ import annotations

import requests
from sqlalchemy import select

from referral.db.models import Organisation
from referral.request_scope import request_session
from tests.live.conftest import LiveServer, run_at_once, same_login

SOCIALJOUREN = "Socialjouren (live)"


def _socialjouren(live_server: LiveServer) -> Organisation:
    """Added as an operator would (`flask org add … --social-emergency-service`)."""
    added = live_server.flask(
        "org", "add", "--name", SOCIALJOUREN, "--kind", "city", "--social-emergency-service"
    )
    assert added.returncode == 0, added.stdout + added.stderr
    with live_server.factory.app.app_context():
        session = request_session()
        row = session.scalar(select(Organisation).where(Organisation.name == SOCIALJOUREN))
        assert row is not None and row.social_emergency_service
        session.expunge(row)
        return row


def _report(http: requests.Session, url: str, index: int) -> requests.Response:
    return http.post(
        f"{url}/api/v1/concern-reports",
        json={
            "subject_name": f"Okänd {index}",
            "place": "Sergels torg",
            "what_happened": "Sov ute i kylan, verkade vara runt tolv år.",
            "reporter_contact": "070-000 00 00",
        },
    )


def test_reports_filed_at_once_are_all_kept_and_acknowledged_exactly_once(
    live_server: LiveServer,
) -> None:
    socialjouren = _socialjouren(live_server)
    partner = live_server.factory.organisation("partner")
    leader = live_server.log_in(live_server.factory.account("group_leader", partner))
    filed = run_at_once(12, lambda i: _report(same_login(leader), live_server.url, i))
    assert [r.status_code for r in filed] == [201] * 12
    assert {tuple(sorted(r.json())) for r in filed} == {
        ("acknowledged", "acknowledged_at", "filed_at", "filed_by", "reference", "report_id")
    }

    on_duty = live_server.log_in(live_server.factory.account("social_emergency", socialjouren))
    received = on_duty.get(f"{live_server.url}/api/v1/concern-reports/received")
    assert received.status_code == 200
    assert len(received.json()) == 12

    report_id = filed[0].json()["report_id"]
    answers = run_at_once(
        8,
        lambda _: same_login(on_duty).post(
            f"{live_server.url}/api/v1/concern-reports/{report_id}/acknowledge", json={}
        ),
    )
    assert sorted(r.status_code for r in answers) == [200] + [409] * 7

    receipts = leader.get(f"{live_server.url}/api/v1/concern-reports").json()
    assert sum(receipt["acknowledged"] for receipt in receipts) == 1
    assert "Socialjouren" not in str(receipts)
