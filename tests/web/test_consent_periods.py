"""Consent periods that fit the group (issue 16, finding 5): a child placed in a group that
runs for ten weeks gets a consent form whose end date is the group's last session; a consent
already recorded that ends sooner is flagged on the child's page; the referral names the
group and its dates; the lapse queue looks six weeks ahead and links to the child."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient

from referral import clock
from referral.actors import Actor
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, groups, referrals
from tests.factories import (
    Account,
    Factory,
    csrf_token,
    invented_personnummer,
    log_in,
    placed_under_sol_with_consent,
    referred,
)

DESCRIPTION = "A-2026:1"


def _actor(account: Account, organisation: Organisation, role: Role) -> Actor:
    return Actor(account.user.id, account.username, organisation.id, frozenset({role}))


def _next_monday(after: date) -> date:
    return after + timedelta(days=(7 - after.weekday()) % 7 or 7)


def _placed_child(app: Flask, factory: Factory) -> tuple[FlaskClient, str, date]:
    """A child whose guardian's consent runs 30 days, placed in a weekly group that starts
    in a week or two: the social worker's client, the child's id, the group's last day."""
    district, partner = factory.organisation("district"), factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker_account = factory.account("social_worker", district)
    leader_account = factory.account("group_leader", partner)
    worker = _actor(worker_account, district, Role.SOCIAL_WORKER)
    leader = _actor(leader_account, partner, Role.GROUP_LEADER)
    today = clock.today()
    start = _next_monday(today + timedelta(days=7))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow,
            worker,
            children.NewChild(invented_personnummer(2015, 3, 4), "Ella Påhittad"),
            today,
        )
        placed_under_sol_with_consent(
            uow,
            worker,
            child.id,
            on=today,
            until=today + timedelta(days=30),
            description=DESCRIPTION,
            guardian="Vårdnadshavare Påhittad",
        )
        referral_id = referred(uow, worker, child.id, partner.id, on=today)
        referrals.respond(uow, leader, referral_id, accept=True, today=today)
        group = groups.create_group(
            uow,
            leader,
            groups.NewGroup("Vårgrupp", "weekly", start, 7, 12, [leader.user_id]),
            today,
        )
        groups.enrol(uow, leader, group.group_id, referral_id, today)
        child_id = child.id
    client = app.test_client()
    log_in(client, worker_account)
    client.get("/?lang=en")
    return client, child_id, start + timedelta(weeks=7)  # eight weekly meetings


def test_the_consent_form_offers_the_groups_last_session_as_the_end_date(
    app: Flask, factory: Factory
) -> None:
    client, child_id, last_session = _placed_child(app, factory)
    page = client.get(f"/children/{child_id}").get_data(as_text=True)
    field = re.search(r'<input[^>]*id="valid_until"[^>]*>', page)
    assert field is not None and f'value="{last_session.isoformat()}"' in field.group(0)
    assert "Placed in Vårgrupp: " in page and last_session.isoformat() in page


def test_a_consent_ending_before_the_group_is_flagged_on_the_childs_page(
    app: Flask, factory: Factory
) -> None:
    client, child_id, last_session = _placed_child(app, factory)
    page = client.get(f"/children/{child_id}").get_data(as_text=True)
    warnings = re.findall(r'data-warning="consent-ends-before-group">([^<]*)<', page)
    assert len(warnings) == 1
    assert "Vårdnadshavare Påhittad" in warnings[0] and last_session.isoformat() in warnings[0]


def test_the_lapse_queue_looks_six_weeks_ahead_and_links_to_the_child(
    app: Flask, factory: Factory
) -> None:
    client, child_id, _last = _placed_child(app, factory)
    queue = client.get("/consents/expiring").get_data(as_text=True)
    assert "42 days" in queue  # the 30-day consent is inside the default horizon
    assert f'href="/children/{child_id}#consents"' in queue


def test_the_district_is_told_which_group_and_when_and_can_mark_every_notice_read(
    app: Flask, factory: Factory
) -> None:
    client, _child_id, last_session = _placed_child(app, factory)
    page = client.get("/notifications").get_data(as_text=True)
    placed = re.search(r'data-kind="child_placed">.*?<strong>\s*(.*?)\s*</strong>', page, re.S)
    assert placed is not None
    assert "in Vårgrupp" in placed.group(1) and last_session.isoformat() in placed.group(1)
    assert "arrange the child's travel" in placed.group(1)
    assert re.search(r'data-unread="\d+"', page)  # the menu counts them
    marked = client.post(
        "/notifications/read", data={"csrf_token": csrf_token(client, "/notifications")}
    )
    assert marked.status_code == 302
    page = client.get("/notifications").get_data(as_text=True)
    assert "data-unread=" not in page and "Mark all as read" not in page
