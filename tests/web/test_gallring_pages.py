"""The retention page (/gallring): the DPO sees what a run would purge, by reference only,
sets a hold with a reason (kept when refused), sees it listed and releases it; a group leader
may not open the page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.retention import LegalHold
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import interest
from tests.factories import Factory, csrf_token, invented_personnummer, log_in

CHILD_NAME = "Intressebarn Påhittsson"


def _decided_registration(app: Flask, factory: Factory) -> str:
    """An interest registration the district has declined: due for purge at once (0 days)."""
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    leader = factory.account("group_leader", organisation=partner)
    worker = factory.account("social_worker", organisation=district)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registered = interest.register_interest(
            uow,
            Actor(leader.user.id, leader.username, partner.id, frozenset({Role.GROUP_LEADER})),
            interest.NewInterest(
                CHILD_NAME,
                invented_personnummer(2016, 1, 2),
                district.id,
                "Familjehemmet, 070-1",
                clock.today(),
            ),
            clock.today(),
        )
        interest.decline(
            uow,
            Actor(worker.user.id, worker.username, district.id, frozenset({Role.SOCIAL_WORKER})),
            registered.id,
        )
    return registered.id


def _dpo(client: FlaskClient, factory: Factory) -> None:
    log_in(client, factory.account("dpo"))


def test_the_dpo_sees_what_a_run_would_purge_by_reference_and_never_by_name(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    registration_id = _decided_registration(app, factory)
    _dpo(client, factory)
    page = client.get("/gallring")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-unit="{registration_id}"' in html
    assert registration_id[:8] in html
    assert CHILD_NAME not in html
    assert "SoL 12 kap. 2" in html or "12 kap. 2" in html  # the kept records say why


def test_a_hold_is_set_with_a_reason_listed_audited_and_released(
    app: Flask, client: FlaskClient, factory: Factory
) -> None:
    registration_id = _decided_registration(app, factory)
    _dpo(client, factory)
    token = csrf_token(client, "/gallring")
    refused = client.post(
        "/gallring/holds",
        data={"csrf_token": token, "rule": "interest", "unit_id": registration_id, "reason": ""},
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)

    set_ = client.post(
        "/gallring/holds",
        data={
            "csrf_token": token,
            "rule": "interest",
            "unit_id": registration_id,
            "reason": "Begäran om utlämnande prövas",
        },
        follow_redirects=True,
    )
    html = set_.get_data(as_text=True)
    assert set_.status_code == 200
    assert "Begäran om utlämnande prövas" in html
    with app.app_context():
        db = request_session()
        hold = db.scalars(select(LegalHold)).one()
        assert hold.unit_id == registration_id and hold.live
        actions = list(
            db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == registration_id))
        )
        assert "legal_hold:set" in actions and "legal_hold:read" in actions
        sealed = db.scalar(select(LegalHold.__table__.c.reason))
        assert "Begäran om utlämnande prövas".encode() not in sealed.blob

    released = client.post(
        f"/gallring/holds/{hold.id}/release", data={"csrf_token": token}, follow_redirects=True
    )
    assert released.status_code == 200
    assert 'data-live="no"' in released.get_data(as_text=True)


def test_a_hold_on_an_unknown_reference_is_refused_as_not_found(
    client: FlaskClient, factory: Factory
) -> None:
    _dpo(client, factory)
    token = csrf_token(client, "/gallring")
    answer = client.post(
        "/gallring/holds",
        data={"csrf_token": token, "rule": "interest", "unit_id": "no-such", "reason": "x"},
    )
    assert answer.status_code == 404


def test_a_group_leader_may_not_open_the_retention_page(
    client: FlaskClient, factory: Factory
) -> None:
    log_in(client, factory.account("group_leader"))
    assert client.get("/gallring").status_code == 403
