"""The start page is each person's work: the social worker's own children with each open
referral's status and next step, overdue first; the group leader's referrals to answer and
groups starting soon with the visits still missing; the DPO's alerts."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, groups, referrals
from tests.conftest import FrozenClock
from tests.factories import (
    Account,
    Factory,
    invented_personnummer,
    log_in,
    placed_under_sol_with_consent,
    referred,
)

# The frozen clock's day (1 March 2027, Stockholm).
DAY = date(2027, 3, 1)
DESCRIPTION = "A-start:1"


def _actor(account: Account, role: Role) -> Actor:
    return Actor(account.user.id, account.username, account.user.organisation_id, frozenset({role}))


def _child(uow: UnitOfWork, worker: Actor, name: str, day_of_month: int) -> str:
    registered = children.register_child(
        uow, worker, children.NewChild(invented_personnummer(2016, 5, day_of_month), name)
    )
    return registered.id


def _lvu(uow: UnitOfWork, worker: Actor, child_id: str) -> None:
    consent.record_placement(
        uow, worker, child_id, "LVU", "Beslut 7/2027", "SDN", DAY,
        today=DAY, lvu_shared=("name", "age", "participation"),
    )  # fmt: skip


def _rows(page: str) -> list[str]:
    """The my-cases table's rows, in order, as the step each one names."""
    section = page.split('data-section="my-cases"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'data-step="([a-z_]+)"', section)


def test_a_social_worker_starts_from_their_own_children_with_the_next_step_overdue_first(
    app: Flask, factory: Factory, client: FlaskClient, frozen_clock: FrozenClock
) -> None:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    me = factory.account("social_worker", district)
    colleague = factory.account("social_worker", district)
    worker, other = _actor(me, Role.SOCIAL_WORKER), _actor(colleague, Role.SOCIAL_WORKER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        waiting_for_answer = _child(uow, worker, "Alva Svarsdotter", 1)
        _lvu(uow, worker, waiting_for_answer)
        referred(uow, worker, waiting_for_answer, partner.id, on=DAY)
        lapsing = _child(uow, worker, "Bo Förfallosson", 2)
        placed_under_sol_with_consent(
            uow, worker, lapsing, on=DAY, until=date(2027, 3, 10), description=DESCRIPTION
        )
        referred(uow, worker, lapsing, partner.id, on=DAY)
        _child(uow, worker, "Cleo Grundlös", 3)  # no placement basis yet
        _child(uow, other, "Dan Kollegasson", 4)  # the colleague's
    frozen_clock.move(days=12)  # 13 March: the consent ended on the 10th

    log_in(client, me)
    page = client.get("/").get_data(as_text=True)

    assert "Alva Svarsdotter" in page and "Bo Förfallosson" in page and "Cleo Grundlös" in page
    assert "Dan Kollegasson" not in page  # on the colleague's list, not mine
    # The lapsed consent is the social worker's to renew, and overdue: it comes first.
    assert _rows(page)[0] == "renew_consent"
    assert 'data-overdue="yes"' in page and "2027-03-10, 3 dagar sedan" in page
    assert set(_rows(page)) == {"renew_consent", "record_basis", "await_answer"}
    assert "Väntar på partnerns svar" in page  # the next step in words, not a code


def test_the_social_workers_list_filters_to_their_own_steps_and_sorts_by_name(
    app: Flask, factory: Factory, client: FlaskClient, frozen_clock: FrozenClock
) -> None:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    me = factory.account("social_worker", district)
    worker = _actor(me, Role.SOCIAL_WORKER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        _child(uow, worker, "Örjan Sist", 5)
        shared = _child(uow, worker, "Ada Först", 6)
        _lvu(uow, worker, shared)
        referred(uow, worker, shared, partner.id, on=DAY)
    log_in(client, me)

    mine = client.get("/?show=mine").get_data(as_text=True)
    assert "Örjan Sist" in mine and "Ada Först" not in mine  # the partner's move, not mine

    by_name = client.get("/?sort=name").get_data(as_text=True)
    assert by_name.index("Ada Först") < by_name.index("Örjan Sist")

    odd = client.get("/?show=<script>&sort=1%3D1")  # unknown choices fall back, never echo
    assert odd.status_code == 200 and "<script>" not in odd.get_data(as_text=True)


def test_every_child_on_the_start_page_is_logged_before_it_is_shown(
    app: Flask, factory: Factory, client: FlaskClient, frozen_clock: FrozenClock
) -> None:
    district = factory.organisation("district")
    me = factory.account("social_worker", district)
    worker = _actor(me, Role.SOCIAL_WORKER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child_id = _child(uow, worker, "Loggad Barnsson", 7)
    log_in(client, me)

    assert "Loggad Barnsson" in client.get("/").get_data(as_text=True)

    with app.app_context():
        listed = request_session().scalars(
            select(AuditEntry).where(
                AuditEntry.actor_id == me.user.id,
                AuditEntry.action == "child:list",
                AuditEntry.object_id == child_id,
            )
        )
        assert len(list(listed)) == 1


def test_a_group_leader_sees_referrals_to_answer_and_groups_missing_visits(
    app: Flask, factory: Factory, client: FlaskClient, frozen_clock: FrozenClock
) -> None:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    worker = _actor(factory.account("social_worker", district), Role.SOCIAL_WORKER)
    leader = factory.account("group_leader", partner)
    leading = _actor(leader, Role.GROUP_LEADER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        unanswered = _child(uow, worker, "Ny Remissdotter", 8)
        _lvu(uow, worker, unanswered)
        waiting = referred(uow, worker, unanswered, partner.id, on=DAY)
        group = groups.create_group(
            uow,
            leading,
            groups.NewGroup(
                name="Vårgruppen",
                group_format="weekly",
                start_date=date(2027, 3, 15),
                min_age=7,
                max_age=12,
                leader_ids=(leader.user.id,),
            ),
            today=DAY,
        )
        for number in range(2):
            placed = _child(uow, worker, f"Placerad {number}", 10 + number)
            _lvu(uow, worker, placed)
            referral_id = referred(uow, worker, placed, partner.id, on=DAY)
            referrals.respond(uow, leading, referral_id, accept=True, today=DAY)
            groups.enrol(uow, leading, group.group_id, referral_id, today=DAY)
    log_in(client, leader)
    page = client.get("/").get_data(as_text=True)

    answer = page.split('data-section="awaiting-answer"', 1)[1].split("</section>", 1)[0]
    assert f'data-referral="{waiting}"' in answer and "Mottagen 2027-03-01, i dag" in answer
    assert "Ny Remissdotter" not in page  # counts and dates: the inbox shows (and logs) names
    soon = page.split('data-section="groups-soon"', 1)[1].split("</section>", 1)[0]
    assert "Vårgruppen" in soon and 'data-missing-visits="2"' in soon
    assert "2027-03-15, om 14 dagar" in soon


def test_a_dpo_starts_from_the_alerts_of_the_week(factory: Factory, client: FlaskClient) -> None:
    dpo = factory.account("dpo")
    log_in(client, dpo)

    page = client.get("/").get_data(as_text=True)

    assert 'data-section="alerts"' in page and "/dpo/alerts" in page
