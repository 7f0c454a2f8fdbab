"""What the live server answers a partner about children it was never shown: nothing that
names them. Read as the least trusted logged-in role would read it, over HTTP."""

from __future__ import annotations

import pytest

from tests.factories import invented_personnummer
from tests.live.conftest import LiveServer


@pytest.mark.asvs("V8.2.2", "V8.3.1")
def test_a_partner_learns_nothing_of_a_district_child_over_http(live_server: LiveServer) -> None:
    district = live_server.factory.organisation("district")
    worker = live_server.log_in(live_server.factory.account("social_worker", district))
    personnummer = invented_personnummer(2013, 3, 3)
    created = worker.post(
        f"{live_server.url}/api/v1/children",
        json={"personnummer": personnummer, "name": "Liveson Hemlig"},
    )
    assert created.status_code == 201
    child_id = created.json()["id"]
    partner = live_server.log_in(live_server.factory.account("group_leader"))

    answers = [
        partner.get(f"{live_server.url}/api/v1/children"),
        partner.get(f"{live_server.url}/api/v1/children/{child_id}"),
        partner.post(
            f"{live_server.url}/api/v1/children/lookup", json={"personnummer": personnummer}
        ),
        partner.get(f"{live_server.url}/children/{child_id}"),
        partner.get(f"{live_server.url}/api/v1/partner/referrals"),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403, 200]
    assert answers[-1].json() == []
    for answer in answers:
        assert "Liveson" not in answer.text and personnummer not in answer.text
        assert child_id not in answer.text
