"""Programme B against the real server (gunicorn, 2 workers), over HTTP only: encounters and
youths recorded at the same moment are all kept, one identifier registered twice at once gives
one record and one 409, and another partner's link worker, reading every route, learns nothing
of them."""

from __future__ import annotations

import requests

from tests.live.conftest import LiveServer, run_at_once, same_login

ALIAS = "Liveungdom Qzorb"


def _youth(http: requests.Session, url: str, index: int) -> requests.Response:
    return http.post(
        f"{url}/api/v1/outreach/youths",
        json={"alias": f"{ALIAS} {index}", "dossier_number": f"{70000000 + index}"},
    )


def test_concurrent_outreach_work_is_kept_once_and_hidden_from_another_partner(
    live_server: LiveServer,
) -> None:
    url = live_server.url
    partner = live_server.factory.organisation("partner")
    worker = live_server.log_in(live_server.factory.account("link_worker", partner))
    encounter = {"occurred_on": "2026-12-01", "place": "sergels_torg", "needs": ["basic_needs"]}
    met = run_at_once(
        12, lambda _: same_login(worker).post(f"{url}/api/v1/outreach/encounters", json=encounter)
    )
    assert [r.status_code for r in met] == [201] * 12
    made = run_at_once(8, lambda i: _youth(same_login(worker), url, i))
    assert [r.status_code for r in made] == [201] * 8
    twice = run_at_once(2, lambda _: _youth(same_login(worker), url, 99))
    assert sorted(r.status_code for r in twice) == [201, 409]
    assert len(worker.get(f"{url}/api/v1/outreach/youths").json()) == 9

    other = live_server.factory.organisation("partner")
    stranger = live_server.log_in(live_server.factory.account("link_worker", other))
    answers = [
        stranger.get(f"{url}/api/v1/outreach/youths"),
        stranger.get(f"{url}/api/v1/outreach/encounters"),
        stranger.post(f"{url}/api/v1/outreach/youths/lookup", json={"identifier": "70000001"}),
    ]
    assert [r.json() for r in answers] == [[], [], []]
    for response in made:
        youth_id = response.json()["id"]
        for path in ("", "/consents", "/link-cases", "/duplicates"):
            seen = stranger.get(f"{url}/api/v1/outreach/youths/{youth_id}{path}")
            assert seen.status_code == 404
            answers.append(seen)
        answers.append(
            stranger.post(
                f"{url}/api/v1/outreach/link-cases",
                json={
                    "youth_id": youth_id,
                    "authority": "police",
                    "purpose": "x",
                    "next_due_on": "2030-01-01",
                },
            )
        )
    assert {r.status_code for r in answers[3:]} == {404}
    shown = " ".join(r.text for r in answers)
    assert ALIAS not in shown and "7000000" not in shown

    district = live_server.factory.organisation("district")
    social_worker = live_server.log_in(live_server.factory.account("social_worker", district))
    assert social_worker.get(f"{url}/api/v1/handovers").json() == []
