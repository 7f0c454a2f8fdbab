"""A share, a notification and a partner's read ask the same question for the same day:
may the partner see this child today? A consent counts from the day it was decided to its
last day; what the district records is judged on the day it is recorded, never on the
consent's own dates. Under LVU the social worker decides what the partner sees."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.notifications import NoticeKind, Notification
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.rules import Status, age_on
from referral.services import children, consent, referrals
from tests.factories import Factory, child_row, invented_personnummer, social_worker_actor

VERSION = "IOP-A 2026:1"


@dataclass
class World:
    uow: UnitOfWork
    worker: Actor
    leader: Actor
    partner_id: str


@pytest.fixture
def world(app: Flask, factory: Factory) -> Iterator[World]:
    factory.activity_description(VERSION)
    partner = factory.organisation("partner")
    leader = Actor("leader-1", "gruppledare-test", partner.id, frozenset({Role.GROUP_LEADER}))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield World(uow, social_worker_actor(factory), leader, partner.id)


def _given(
    party: str, decided_on: date, valid_until: date, categories: tuple[str, ...] = ("name", "age")
) -> consent.ConsentInput:
    return consent.ConsentInput(
        party, "given", categories, decided_on, valid_until, "written", VERSION
    )


def _sol_child_with_referral(world: World, born: date | None = None) -> tuple[Child, str, str]:
    """An SoL child with two custodial guardians and a submitted referral (awaiting consent)."""
    born = born or date(clock.today().year - 10, 3, 3)
    child = child_row(
        world.uow,
        children.register_child(
            world.uow,
            world.worker,
            children.NewChild(invented_personnummer(born.year, born.month, born.day), "Datumbarn"),
        ),
    )
    consent.record_placement(world.uow, world.worker, child.id, "SoL", today=clock.today())
    mother = consent.add_guardian(
        world.uow, world.worker, child.id, "Mor", None, True, today=clock.today()
    )
    father = consent.add_guardian(
        world.uow, world.worker, child.id, "Far", None, True, today=clock.today()
    )
    referral = referrals.create_referral(
        world.uow,
        world.worker,
        referrals.NewReferral(child.id, world.partner_id, "weekly"),
        today=clock.today(),
    )
    referrals.submit_referral(world.uow, world.worker, referral.id, clock.today())
    return child, mother.id, father.id


def _referral_of(world: World, child: Child) -> Referral:
    return world.uow.session.scalars(select(Referral).where(Referral.child_id == child.id)).one()


def _notices(world: World, kind: NoticeKind) -> int:
    return len(
        world.uow.session.scalars(
            select(Notification).where(
                Notification.organisation_id == world.partner_id, Notification.kind == kind.value
            )
        ).all()
    )


def _entries(world: World, child: Child, action: str) -> list[AuditEntry]:
    return list(
        world.uow.session.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == child.id, AuditEntry.action == action)
        )
    )


def test_a_consent_that_ended_yesterday_shares_nothing_notifies_no_one_and_logs_no_share(
    world: World,
) -> None:
    child, mother, father = _sol_child_with_referral(world)
    consent.record_consent(
        world.uow,
        world.worker,
        child.id,
        _given(mother, clock.today(), clock.today() + timedelta(days=90)),
        today=clock.today(),
    )
    lapsed = _given(father, clock.today() - timedelta(days=60), clock.today() - timedelta(days=1))
    consent.record_consent(world.uow, world.worker, child.id, lapsed, today=clock.today())

    assert _referral_of(world, child).status == Status.AWAITING_CONSENT
    assert _notices(world, NoticeKind.NEW_REFERRAL) == 0
    assert _entries(world, child, "referral:share") == []
    assert referrals.partner_inbox(world.uow, world.leader, clock.today()) == []


def test_a_consent_dated_in_the_future_is_refused_naming_the_date(world: World) -> None:
    child, mother, _father = _sol_child_with_referral(world)
    ahead = clock.today() + timedelta(days=60)
    with pytest.raises(InvalidInput) as refused:
        consent.record_consent(
            world.uow,
            world.worker,
            child.id,
            _given(mother, ahead, ahead + timedelta(days=30)),
            today=clock.today(),
        )
    assert refused.value.field == "decided_on"


def test_the_share_its_notice_and_the_partners_read_happen_on_the_same_day(world: World) -> None:
    child, mother, father = _sol_child_with_referral(world)
    until = clock.today() + timedelta(days=10)
    for party in (mother, father):
        consent.record_consent(
            world.uow,
            world.worker,
            child.id,
            _given(party, clock.today(), until),
            today=clock.today(),
        )
    assert _referral_of(world, child).status == Status.SHARED
    assert _notices(world, NoticeKind.NEW_REFERRAL) == 1
    [share] = _entries(world, child, "referral:share")
    assert share.legal_basis == "sol_consent"
    assert [v.name for v in referrals.partner_inbox(world.uow, world.leader, clock.today())] == [
        "Datumbarn"
    ]
    # The day after the consents end, the partner's read finds nothing.
    day_after = until + timedelta(days=1)
    assert referrals.partner_inbox(world.uow, world.leader, day_after) == []


def test_a_new_custodian_cuts_the_partners_access_and_tells_it_once(world: World) -> None:
    child, mother, father = _sol_child_with_referral(world)
    for party in (mother, father):
        consent.record_consent(
            world.uow,
            world.worker,
            child.id,
            _given(party, clock.today(), clock.today() + timedelta(days=30)),
            today=clock.today(),
        )
    consent.add_guardian(
        world.uow, world.worker, child.id, "Ny vårdnadshavare", None, True, today=clock.today()
    )
    assert referrals.partner_inbox(world.uow, world.leader, clock.today()) == []
    assert _notices(world, NoticeKind.PARTICIPATION_MUST_STOP) == 1
    # A further refusal changes nothing the partner could see: no second notice.
    refusal = consent.ConsentInput(
        mother, "refused", (), clock.today(), clock.today(), "oral", VERSION
    )
    consent.record_consent(world.uow, world.worker, child.id, refusal, today=clock.today())
    assert _notices(world, NoticeKind.PARTICIPATION_MUST_STOP) == 1


def _lvu_child_with_referral(world: World) -> Child:
    child = children.register_child(
        world.uow,
        world.worker,
        children.NewChild(invented_personnummer(clock.today().year - 11, 5, 5), "Lvu Datumsson"),
    )
    children.update_details(
        world.uow,
        world.worker,
        child.id,
        children.ChildDetails(family_home_name="Familjehemmet", family_home_phone="08-1"),
    )
    consent.record_placement(
        world.uow,
        world.worker,
        child.id,
        "LVU",
        "Beslut 3/2026",
        "Socialnämnden",
        clock.today() - timedelta(days=10),
        today=clock.today(),
    )
    referral = referrals.create_referral(
        world.uow,
        world.worker,
        referrals.NewReferral(child.id, world.partner_id, "weekly"),
        today=clock.today(),
    )
    referrals.submit_referral(world.uow, world.worker, referral.id, clock.today())
    return child


def test_under_lvu_the_partner_sees_name_and_age_until_the_social_worker_decides_more(
    world: World,
) -> None:
    child = _lvu_child_with_referral(world)
    [view] = referrals.partner_inbox(world.uow, world.leader, clock.today())
    age = age_on(date(clock.today().year - 11, 5, 5), clock.today())
    assert (view.name, view.age, view.family_home_phone) == ("Lvu Datumsson", age, None)

    consent.decide_lvu_sharing(
        world.uow, world.worker, child.id, ["name", "age", "contact_details"], clock.today()
    )
    [view] = referrals.partner_inbox(world.uow, world.leader, clock.today())
    assert view.family_home_phone == "08-1"
    [decision, widened] = _entries(world, child, "lvu_sharing:decide")
    assert decision.actor_id == widened.actor_id == world.worker.user_id


def test_under_lvu_withholding_the_name_hides_the_referral_and_stops_participation(
    world: World,
) -> None:
    child = _lvu_child_with_referral(world)
    consent.decide_lvu_sharing(world.uow, world.worker, child.id, ["age"], clock.today())
    assert referrals.partner_inbox(world.uow, world.leader, clock.today()) == []
    assert _notices(world, NoticeKind.PARTICIPATION_MUST_STOP) == 1


def test_lvu_sharing_decisions_are_refused_for_a_child_placed_under_sol(world: World) -> None:
    child, _mother, _father = _sol_child_with_referral(world)
    with pytest.raises(Conflict) as refused:
        consent.decide_lvu_sharing(world.uow, world.worker, child.id, ["name"], clock.today())
    assert refused.value.field == "basis"


@pytest.mark.parametrize(
    ("years", "days", "allowed"),
    [
        (6, 0, True),  # seven a year from today
        (6, 1, False),  # still six a year from today
        (18, 0, True),  # eighteen today
        (19, 0, False),  # nineteen today: too old for any group
        (2, 0, False),
    ],
)
def test_a_child_who_cannot_be_seven_to_eighteen_within_a_year_is_not_referred(
    world: World, years: int, days: int, allowed: bool
) -> None:
    born = date(
        clock.today().year - years, clock.today().month, min(clock.today().day, 28)
    ) + timedelta(days=days)
    child = children.register_child(
        world.uow,
        world.worker,
        children.NewChild(invented_personnummer(born.year, born.month, born.day), "Åldersbarn"),
    )
    new = referrals.NewReferral(child.id, world.partner_id, "weekly")
    if allowed:
        assert referrals.create_referral(world.uow, world.worker, new, today=clock.today()).id
        return
    with pytest.raises(Conflict) as refused:
        referrals.create_referral(world.uow, world.worker, new, today=clock.today())
    assert refused.value.field == "child" and "7" in refused.value.message
    assert (
        world.uow.session.scalars(select(Referral).where(Referral.child_id == child.id)).all() == []
    )


@pytest.mark.asvs("V16.3.2")
def test_a_refused_read_of_another_districts_child_is_in_that_childs_access_report(
    world: World, factory: Factory
) -> None:
    child, _mother, _father = _sol_child_with_referral(world)
    stranger = social_worker_actor(factory)
    with pytest.raises(NotFound), UnitOfWork(world.uow.session) as uow:
        consent.record_placement(uow, stranger, child.id, "SoL", today=clock.today())
    [denied] = _entries(world, child, "access:denied")
    assert denied.actor_id == stranger.user_id
    assert denied.subject_holder == f"district:{child.district_id}"
