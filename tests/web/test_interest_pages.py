"""The interest registration pages, driven as a browser would (forms with CSRF tokens): a group
leader records what a family home asked for, the responsible district's social worker confirms
or declines it from the queue, and the partner sees the child only once consent or LVU allows.
The personnummer the leader typed never comes back to the partner's pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral import clock
from referral.db.audit_log import AuditEntry
from referral.db.interest import InterestRegistration
from referral.db.models import Organisation
from referral.request_scope import request_session
from tests.factories import Factory, csrf_token, invented_personnummer, log_in

CHILD_NAME = "Sidintresse Qwobbe"
CONTACT = "Familjehemmet Vrexsson 070-555 66 77"


@dataclass
class Pages:
    district: Organisation
    partner: Organisation
    worker: FlaskClient  # a social worker of the responsible district
    leader: FlaskClient  # a group leader of the partner


@pytest.fixture
def pages(app: Flask, factory: Factory) -> Pages:
    district = factory.organisation("district", name="Testdistrikt stadsdelsförvaltning")
    partner = factory.organisation("partner", name="Bris testregion")
    worker, leader = app.test_client(), app.test_client()
    log_in(worker, factory.account("social_worker", district))
    log_in(leader, factory.account("group_leader", partner))
    for client in (worker, leader):
        client.get("/?lang=en")
    return Pages(district, partner, worker, leader)


def _post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def _register(pages: Pages, personnummer: str, **changes: object):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "child_name": CHILD_NAME,
        "personnummer": personnummer,
        "district_id": pages.district.id,
        "family_home_contact": CONTACT,
        "received_on": (clock.today() - timedelta(days=1)).isoformat(),
        **changes,
    }
    return _post(pages.leader, "/partner/interest", data)


def _registration_id(pages: Pages) -> str:
    page = pages.leader.get("/partner/interest").get_data(as_text=True)
    (registration_id,) = re.findall(r'data-registration="([0-9a-f-]{36})"', page)
    return registration_id


def _count(app: Flask, model: type, **where: object) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    with app.app_context():
        return int(request_session().scalar(query) or 0)


def test_the_district_confirms_a_family_homes_registration_and_a_referral_awaits_consent(
    pages: Pages,
) -> None:
    home = pages.leader.get("/").get_data(as_text=True)
    assert 'href="/partner/interest"' in home
    form = pages.leader.get("/partner/interest").get_data(as_text=True)
    assert pages.district.name in form

    saved = _register(pages, invented_personnummer(2016, 4, 4))
    assert saved.status_code == 302
    registration_id = _registration_id(pages)
    assert 'data-status="received"' in pages.leader.get("/partner/interest").get_data(True)

    notices = pages.worker.get("/notifications").get_data(as_text=True)
    assert 'data-kind="interest_registered"' in notices and 'href="/interest"' in notices
    assert pages.partner.name in notices and CHILD_NAME not in notices
    queue = pages.worker.get("/interest").get_data(as_text=True)
    assert CHILD_NAME in queue and CONTACT in queue

    confirmed = _post(pages.worker, f"/interest/{registration_id}/confirm", {})
    assert confirmed.status_code == 302
    child_page = pages.worker.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert CHILD_NAME in child_page and 'data-status="awaiting_consent"' in child_page
    assert CHILD_NAME not in pages.worker.get("/interest").get_data(as_text=True)

    # The partner learns that the district confirmed, and still sees nothing of the child.
    assert 'data-status="confirmed"' in pages.leader.get("/partner/interest").get_data(True)
    assert 'data-kind="interest_confirmed"' in pages.leader.get("/notifications").get_data(True)
    assert CHILD_NAME not in pages.leader.get("/partner/referrals").get_data(as_text=True)


def test_an_invalid_personnummer_is_refused_by_name_and_nothing_is_written(
    app: Flask, pages: Pages
) -> None:
    typed = "20160404-1235"  # wrong check digit
    response = _register(pages, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "personnummer" in page.lower()
    assert typed not in page and "2016040" not in page
    assert _count(app, InterestRegistration) == 0


def test_the_personnummer_never_appears_in_the_partners_pages_after_saving(
    pages: Pages,
) -> None:
    personnummer = invented_personnummer(2016, 4, 4)
    saved = _register(pages, personnummer)
    assert saved.status_code == 302
    registration_id = _registration_id(pages)
    assert _post(pages.worker, f"/interest/{registration_id}/confirm", {}).status_code == 302
    for path in ("/partner/interest", "/notifications", "/partner/referrals", "/"):
        page = pages.leader.get(path).get_data(as_text=True)
        ten_digits = f"{personnummer[2:8]}-{personnummer[8:]}"
        for typed in (personnummer, personnummer[2:], ten_digits):
            assert typed not in page, path


def test_another_districts_social_worker_can_neither_see_nor_confirm_it(
    app: Flask, pages: Pages, factory: Factory
) -> None:
    _register(pages, invented_personnummer(2016, 4, 4))
    registration_id = _registration_id(pages)
    stranger = app.test_client()
    log_in(stranger, factory.account("social_worker"))
    assert CHILD_NAME not in stranger.get("/interest").get_data(as_text=True)
    assert _post(stranger, f"/interest/{registration_id}/confirm", {}).status_code == 404
    assert _post(stranger, f"/interest/{registration_id}/decline", {}).status_code == 404
    assert _count(app, InterestRegistration, status="received") == 1


def test_a_group_leader_cannot_confirm_or_open_the_districts_queue(
    app: Flask, pages: Pages
) -> None:
    _register(pages, invented_personnummer(2016, 4, 4))
    registration_id = _registration_id(pages)
    assert _post(pages.leader, f"/interest/{registration_id}/confirm", {}).status_code == 403
    assert pages.leader.get("/interest").status_code == 403
    assert _count(app, InterestRegistration, status="received") == 1


def test_declining_tells_the_partner_without_the_reason(app: Flask, pages: Pages) -> None:
    reason = "Barnet är placerat av en annan kommun Zqwv"
    _register(pages, invented_personnummer(2016, 4, 4))
    registration_id = _registration_id(pages)
    declined = _post(pages.worker, f"/interest/{registration_id}/decline", {"reason": reason})
    assert declined.status_code == 302
    assert CHILD_NAME not in pages.worker.get("/interest").get_data(as_text=True)
    notices = pages.leader.get("/notifications").get_data(as_text=True)
    assert 'data-kind="interest_declined"' in notices and registration_id[:8] in notices
    mine = pages.leader.get("/partner/interest").get_data(as_text=True)
    assert 'data-status="declined"' in mine
    assert reason not in notices and reason not in mine


def test_a_too_long_reason_is_refused_by_name_and_the_registration_stays_open(
    app: Flask, pages: Pages
) -> None:
    _register(pages, invented_personnummer(2016, 4, 4))
    registration_id = _registration_id(pages)
    response = _post(pages.worker, f"/interest/{registration_id}/decline", {"reason": "x" * 501})
    assert response.status_code == 422
    assert f'id="reason-{registration_id}"' in response.get_data(as_text=True)
    assert 'class="error"' in response.get_data(as_text=True)
    assert _count(app, InterestRegistration, status="received") == 1


def test_the_queue_writes_one_access_log_entry_per_registration_and_the_partners_list_none(
    app: Flask, pages: Pages
) -> None:
    for month in (4, 5):
        assert _register(pages, invented_personnummer(2016, month, 4)).status_code == 302
    reads = {"action": "interest:read"}
    pages.leader.get("/partner/interest")
    assert _count(app, AuditEntry, **reads) == 0
    assert pages.worker.get("/interest").status_code == 200
    assert _count(app, AuditEntry, **reads) == 2
    assert _count(app, AuditEntry, action="interest:register") == 2
