"""A partner's support groups: a group holds 5 to 8 children aged 7-18; each child comes from an
accepted referral the partner may lawfully see, has a pre-group visit before the first session,
and is counted and shown only while that stays true. Every change about a child is in the
access log under the child's pseudonymous id."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import Row, select

from config.settings import Settings
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.groups import Enrolment, Group
from referral.db.models import Organisation
from referral.db.people import Guardian
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.rules import Status
from referral.services import children, consent, groups, referrals
from referral.services.groups import enrolment as enrolment_service
from tests.factories import Factory, invented_personnummer, social_worker_actor
from tests.own_database import ROW_LOCKS, only_on_postgres, own_postgres_app

TODAY = date(2027, 3, 1)  # a Monday
START = date(2027, 3, 15)  # the weekly group's first meeting, a Monday
LAST = START + timedelta(weeks=7)
TEN_YEARS_OLD = (2016, 5, 1)
SIX_YEARS_OLD = (2020, 9, 1)
DESCRIPTION = "A-2027:1"


@dataclass
class World:
    worker: Actor  # a social worker of the referring district
    partner: Organisation
    leader: Actor  # a group leader of the partner, with a user account
    counter: int = 0


def _leader_of(factory: Factory, partner: Organisation) -> Actor:
    account = factory.account("group_leader", organisation=partner)
    return Actor(account.user.id, account.username, partner.id, frozenset({Role.GROUP_LEADER}))


def _world(factory: Factory) -> World:
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)  # what SoL consents below cite
    return World(social_worker_actor(factory), partner, _leader_of(factory, partner))


@pytest.fixture
def world(factory: Factory) -> World:
    return _world(factory)


def _consent(party: str, categories: tuple[str, ...]) -> consent.ConsentInput:
    return consent.ConsentInput(
        party=party,
        decision="given",
        categories=categories,
        decided_on=TODAY,
        valid_until=TODAY + timedelta(days=365),
        method="written",
        description_version=DESCRIPTION,
    )


def _accepted(
    uow: UnitOfWork,
    world: World,
    born: tuple[int, int, int] = TEN_YEARS_OLD,
    sol_categories: tuple[str, ...] | None = None,
) -> referrals.ReferralState:
    """An accepted referral: under LVU by default, or under SoL with one custodial guardian's
    consent covering `sol_categories`. Its state as created: `_status` reads where it stands."""
    world.counter += 1
    child = children.register_child(
        uow,
        world.worker,
        children.NewChild(invented_personnummer(*born), f"Gruppbarn {world.counter}"),
    )
    if sol_categories is None:
        consent.record_placement(
            uow,
            world.worker,
            child.id,
            "LVU",
            "Beslut 9/2027",
            "Farsta SDN",
            date(2026, 1, 15),
            today=TODAY,
            lvu_shared=("name", "age", "participation"),
        )
    else:
        consent.record_placement(uow, world.worker, child.id, "SoL", today=TODAY)
        guardian = consent.add_guardian(
            uow, world.worker, child.id, "Vårdnadshavare", None, True, today=TODAY
        )
        consent.record_consent(
            uow, world.worker, child.id, _consent(guardian.id, sol_categories), today=TODAY
        )
    referral = referrals.create_referral(
        uow, world.worker, referrals.NewReferral(child.id, world.partner.id, "weekly"), today=TODAY
    )
    referrals.submit_referral(uow, world.worker, referral.id, TODAY)
    referrals.respond(uow, world.leader, referral.id, accept=True, today=TODAY)
    return referral


def _withdraw_consent(uow: UnitOfWork, world: World, referral: referrals.ReferralState) -> None:
    (guardian_id,) = uow.session.scalars(
        select(Guardian.id).where(Guardian.child_id == referral.child_id)
    )
    withdrawal = replace(_consent(guardian_id, ()), decision="withdrawn", valid_until=TODAY)
    consent.record_consent(uow, world.worker, referral.child_id, withdrawal, today=TODAY)


def _group(
    uow: UnitOfWork, world: World, start: date = START, ages: tuple[int, int] = (7, 12)
) -> groups.GroupState:
    return groups.create_group(
        uow,
        world.leader,
        groups.NewGroup(
            name="Vårgrupp Farsta",
            group_format="weekly",
            start_date=start,
            min_age=ages[0],
            max_age=ages[1],
            leader_ids=[world.leader.user_id],
        ),
        TODAY,
    )


def _fill(
    uow: UnitOfWork, world: World, group: groups.GroupState, children_count: int
) -> list[groups.EnrolmentState]:
    return [
        groups.enrol(uow, world.leader, group.group_id, _accepted(uow, world).id, TODAY)
        for _ in range(children_count)
    ]


def _visit_all(
    uow: UnitOfWork,
    world: World,
    group: groups.GroupState,
    enrolments: list[groups.EnrolmentState],
) -> None:
    for enrolment in enrolments:
        groups.record_visit(
            uow,
            world.leader,
            group.group_id,
            groups.NewVisit(enrolment.enrolment_id, "home", TODAY),
            TODAY,
        )


def _started(
    uow: UnitOfWork, world: World, children_count: int = 5
) -> tuple[groups.GroupState, list[groups.EnrolmentState]]:
    group = _group(uow, world)
    enrolments = _fill(uow, world, group, children_count)
    _visit_all(uow, world, group, enrolments)
    return groups.start_group(uow, world.leader, group.group_id, TODAY), enrolments


def _status(uow: UnitOfWork, referral_id: str) -> str | None:
    """The referral's status as stored now (a fresh query, not a row held from earlier)."""
    return uow.session.scalar(select(Referral.status).where(Referral.id == referral_id))


def _stored(uow: UnitOfWork, group_id: str) -> Row[tuple[str, datetime | None, datetime | None]]:
    """The group's status, start and completion as stored now (a fresh query)."""
    return uow.session.execute(
        select(Group.status, Group.started_at, Group.completed_at).where(Group.id == group_id)
    ).one()


def _audit(uow: UnitOfWork, **where: object) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.sequence)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(uow.session.scalars(query))


# --- planning --------------------------------------------------------------------------------


def test_a_weekly_group_is_planned_with_eight_weekly_meetings_and_its_leaders(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        roster = groups.group_roster(uow, world.leader, group.group_id, TODAY)
        created = _audit(uow, action="group:create", object_id=group.group_id)
        summary = roster.group
        assert summary.status == "planned" and summary.places_left == 8 and summary.enrolled == 0
        assert [s.day for s in summary.sessions] == [START + timedelta(weeks=n) for n in range(8)]
        assert summary.leader_ids == (world.leader.user_id,)
        assert roster.children == ()
        assert len(created) == 1 and created[0].subject_id is None  # no child concerned


def test_a_support_weekend_must_start_on_a_friday(app: Flask, world: World) -> None:
    new = groups.NewGroup("Stödhelg", "weekend", START, 7, 12, [world.leader.user_id])
    with app.app_context(), UnitOfWork(request_session()) as uow:
        with pytest.raises(InvalidInput) as refused:
            groups.create_group(uow, world.leader, new, TODAY)
        assert refused.value.field == "start_date" and "Friday" in refused.value.message
        friday = START + timedelta(days=4)
        weekend = groups.create_group(uow, world.leader, replace(new, start_date=friday), TODAY)
        assert [(s.day.weekday(), s.kind) for s in weekend.sessions] == [
            (4, "full_day"),
            (5, "full_day"),
            (6, "full_day"),
            (5, "follow_up"),
        ]


@pytest.mark.parametrize("ages", [(6, 12), (12, 19), (13, 10)])
def test_an_age_band_outside_7_to_18_is_refused(
    app: Flask, world: World, ages: tuple[int, int]
) -> None:
    with (
        app.app_context(),
        UnitOfWork(request_session()) as uow,
        pytest.raises(InvalidInput) as refused,
    ):
        _group(uow, world, ages=ages)
    assert refused.value.field == "min_age" and "7 to 18" in refused.value.message


def test_a_leader_must_be_a_group_leader_of_the_partner(
    app: Flask, world: World, factory: Factory
) -> None:
    stranger = _leader_of(factory, factory.organisation("partner"))
    new = groups.NewGroup("Vårgrupp", "weekly", START, 7, 12, [stranger.user_id])
    with (
        app.app_context(),
        UnitOfWork(request_session()) as uow,
        pytest.raises(InvalidInput) as refused,
    ):
        groups.create_group(uow, world.leader, new, TODAY)
    assert refused.value.field == "leader_ids"


# --- enrolment -------------------------------------------------------------------------------


def test_enrolling_places_the_child_and_logs_it_under_the_childs_subject_id(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        referral = _accepted(uow, world)
        enrolment = groups.enrol(uow, world.leader, group.group_id, referral.id, TODAY)
        entries = _audit(uow, action="group:enrol")
        roster = groups.group_roster(uow, world.leader, group.group_id, TODAY)
        assert _status(uow, referral.id) == Status.PLACED
        assert [(e.object_id, e.subject_id, e.legal_basis) for e in entries] == [
            (enrolment.enrolment_id, referral.child_id, "lvu")
        ]
        assert [(c.name, c.age, c.status) for c in roster.children] == [
            ("Gruppbarn 1", 10, "placed")
        ]
        assert roster.group.places_left == 7


@pytest.mark.asvs("V2.3.2")
def test_the_ninth_child_is_refused_a_full_group(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        _fill(uow, world, group, 8)
        ninth = _accepted(uow, world)
        with pytest.raises(Conflict) as refused:
            groups.enrol(uow, world.leader, group.group_id, ninth.id, TODAY)
        roster = groups.group_roster(uow, world.leader, group.group_id, TODAY)
        assert refused.value.status == 409 and "at most 8" in refused.value.message
        assert _status(uow, ninth.id) == Status.ACCEPTED
        assert len(roster.children) == 8 and roster.group.places_left == 0


@pytest.mark.asvs("V2.2.3")
def test_a_child_aged_six_at_the_start_is_refused_with_the_reason(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        referral = _accepted(uow, world, born=SIX_YEARS_OLD)
        with pytest.raises(Conflict) as refused:
            groups.enrol(uow, world.leader, group.group_id, referral.id, TODAY)
        assert "aged 7 to 18 at the group's start date" in refused.value.message
        assert _status(uow, referral.id) == Status.ACCEPTED


def test_a_child_outside_the_groups_own_age_band_is_refused(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        teenagers = _group(uow, world, ages=(13, 18))
        referral = _accepted(uow, world)  # ten years old
        with pytest.raises(Conflict) as refused:
            groups.enrol(uow, world.leader, teenagers.group_id, referral.id, TODAY)
        assert "aged 13 to 18" in refused.value.message


def test_a_referral_not_yet_accepted_cannot_be_placed(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        referral = _accepted(uow, world)
        groups.enrol(uow, world.leader, group.group_id, referral.id, TODAY)
        with pytest.raises(Conflict) as refused:
            groups.enrol(uow, world.leader, group.group_id, referral.id, TODAY)
        assert "Only an accepted referral" in refused.value.message and "placed" in (
            refused.value.message
        )


def test_a_consent_that_does_not_cover_participation_is_refused(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        referral = _accepted(uow, world, sol_categories=("name", "age"))
        with pytest.raises(Conflict) as refused:
            groups.enrol(uow, world.leader, group.group_id, referral.id, TODAY)
        assert "participation" in refused.value.message


def test_a_referral_the_partner_may_no_longer_see_is_not_found_and_the_attempt_logged(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        referral = _accepted(uow, world, sol_categories=("name", "age", "participation"))
        _withdraw_consent(uow, world, referral)
        with pytest.raises(NotFound):
            groups.enrol(uow, world.leader, group.group_id, referral.id, TODAY)
        denied = _audit(uow, action="access:denied", object_id=referral.id)
        assert [(e.actor_id, e.subject_id, e.outcome) for e in denied] == [
            (world.leader.user_id, referral.child_id, "denied")
        ]
        assert _status(uow, referral.id) == Status.ACCEPTED


def test_a_leader_of_another_partner_gets_not_found(
    app: Flask, world: World, factory: Factory
) -> None:
    stranger = _leader_of(factory, factory.organisation("partner"))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        referral = _accepted(uow, world)
        for attempt in (
            lambda: groups.group_roster(uow, stranger, group.group_id, TODAY),
            lambda: groups.enrol(uow, stranger, group.group_id, referral.id, TODAY),
            lambda: groups.start_group(uow, stranger, group.group_id, TODAY),
        ):
            with pytest.raises(NotFound):
                attempt()
        overview = groups.year_overview(uow, stranger, 2027, TODAY)
        assert overview.groups == () and overview.children_waiting == 0
        assert _status(uow, referral.id) == Status.ACCEPTED


# --- the visit and the start -----------------------------------------------------------------


def test_a_group_cannot_start_with_four_children(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        enrolments = _fill(uow, world, group, 4)
        _visit_all(uow, world, group, enrolments)
        with pytest.raises(Conflict) as refused:
            groups.start_group(uow, world.leader, group.group_id, TODAY)
        statuses = {r.status for r in uow.session.scalars(select(Referral))}
        assert "5 to 8 children; this one has 4" in refused.value.message
        assert _stored(uow, group.group_id).status == "planned" and statuses == {"placed"}


@pytest.mark.asvs("V2.3.1")
def test_a_group_cannot_start_before_every_child_has_had_a_pre_group_visit(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        enrolments = _fill(uow, world, group, 5)
        _visit_all(uow, world, group, enrolments[:4])
        with pytest.raises(Conflict) as refused:
            groups.start_group(uow, world.leader, group.group_id, TODAY)
        assert "pre-group visit" in refused.value.message
        assert _stored(uow, group.group_id).status == "planned"
        _visit_all(uow, world, group, enrolments[4:])
        started = groups.start_group(uow, world.leader, group.group_id, TODAY)
        roster = groups.group_roster(uow, world.leader, group.group_id, TODAY)
        assert started.status == "started" and started.started_at is not None
        assert _stored(uow, group.group_id) == ("started", started.started_at, None)
        assert {c.status for c in roster.children} == {"participating"}
        assert {c.visit_kind for c in roster.children} == {"home"}


def test_a_visit_after_the_first_session_is_refused(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        (enrolment,) = _fill(uow, world, group, 1)
        late = groups.NewVisit(enrolment.enrolment_id, "at_partner", START + timedelta(days=1))
        with pytest.raises(InvalidInput) as refused:
            groups.record_visit(uow, world.leader, group.group_id, late, START + timedelta(days=1))
        assert refused.value.field == "day" and "on or before the first session" in (
            refused.value.message
        )


def test_no_child_joins_a_group_that_has_started(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group, _ = _started(uow, world)
        latecomer = _accepted(uow, world)
        with pytest.raises(Conflict) as refused:
            groups.enrol(uow, world.leader, group.group_id, latecomer.id, TODAY)
        assert "started" in refused.value.message


# --- attendance ------------------------------------------------------------------------------


def test_attendance_is_recorded_per_child_and_can_be_corrected(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group, enrolments = _started(uow, world)
        first = group.sessions[0]
        marks = {e.enrolment_id: e is not enrolments[0] for e in enrolments}
        groups.record_attendance(uow, world.leader, group.group_id, first.session_id, marks, START)
        groups.record_attendance(
            uow,
            world.leader,
            group.group_id,
            first.session_id,
            {enrolments[0].enrolment_id: True},
            START,
        )
        roster = groups.group_roster(uow, world.leader, group.group_id, START)
        assert [c.attendance for c in roster.children] == [{first.session_id: True}] * 5


def test_attendance_is_refused_for_a_session_of_another_group(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group, enrolments = _started(uow, world)
        other = _group(uow, world)
        with pytest.raises(NotFound) as refused:
            groups.record_attendance(
                uow,
                world.leader,
                group.group_id,
                other.sessions[0].session_id,
                {enrolments[0].enrolment_id: True},
                START,
            )
        recorded = _audit(uow, action="group:attendance")
        assert refused.value.field == "session_id" and recorded == []


def test_attendance_is_refused_before_the_group_starts(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        (enrolment,) = _fill(uow, world, group, 1)
        with pytest.raises(Conflict) as refused:
            groups.record_attendance(
                uow,
                world.leader,
                group.group_id,
                group.sessions[0].session_id,
                {enrolment.enrolment_id: True},
                START,
            )
        assert "planned" in refused.value.message


# --- completion ------------------------------------------------------------------------------


def test_completing_completes_every_participation_and_stamps_completed_at(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group, enrolments = _started(uow, world, children_count=6)
        with pytest.raises(Conflict):
            groups.complete_group(uow, world.leader, group.group_id, LAST - timedelta(days=1))
        completed = groups.complete_group(uow, world.leader, group.group_id, LAST)
        referrals_ = [uow.session.get(Referral, e.referral_id) for e in enrolments]
        enrolments_completed_at = uow.session.scalars(
            select(Enrolment.completed_at).where(
                Enrolment.id.in_([e.enrolment_id for e in enrolments])
            )
        ).all()
        overview = groups.year_overview(uow, world.leader, 2027, LAST)
        roster = groups.group_roster(uow, world.leader, group.group_id, LAST)
        assert completed.status == "completed" and completed.completed_at is not None
        assert _stored(uow, group.group_id) == (
            "completed",
            completed.started_at,
            completed.completed_at,
        )
        assert {r.status for r in referrals_ if r} == {"completed"}
        assert {r.completed_at for r in referrals_ if r} == {completed.completed_at}
        assert len(enrolments_completed_at) == 6
        assert set(enrolments_completed_at) == {completed.completed_at}
        assert [(g.status, g.enrolled, g.places_left) for g in overview.groups] == [
            ("completed", 6, 0)
        ]
        assert roster.children == ()  # the partner keeps nothing identifying after completion


def test_a_planned_group_cannot_be_completed(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        with pytest.raises(Conflict) as refused:
            groups.complete_group(uow, world.leader, group.group_id, LAST)
        assert "Only a running group" in refused.value.message


# --- withdrawal and lapsed consent -----------------------------------------------------------


def test_a_withdrawn_child_no_longer_counts_and_frees_the_place(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        enrolments = _fill(uow, world, group, 8)
        referrals.withdraw_referral(uow, world.worker, enrolments[0].referral_id)
        roster = groups.group_roster(uow, world.leader, group.group_id, TODAY)
        groups.enrol(uow, world.leader, group.group_id, _accepted(uow, world).id, TODAY)
        refilled = groups.group_roster(uow, world.leader, group.group_id, TODAY)
        assert len(roster.children) == 7 and roster.group.places_left == 1
        assert enrolments[0].enrolment_id not in {c.enrolment_id for c in roster.children}
        assert len(refilled.children) == 8


def test_a_child_whose_consent_is_withdrawn_disappears_from_the_group(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        referral = _accepted(uow, world, sol_categories=("name", "age", "participation"))
        enrolment = groups.enrol(uow, world.leader, group.group_id, referral.id, TODAY)
        _fill(uow, world, group, 1)
        _withdraw_consent(uow, world, referral)
        roster = groups.group_roster(uow, world.leader, group.group_id, TODAY)
        with pytest.raises(NotFound):
            groups.record_visit(
                uow,
                world.leader,
                group.group_id,
                groups.NewVisit(enrolment.enrolment_id, "home", TODAY),
                TODAY,
            )
        reads = _audit(uow, action="group:read", subject_id=referral.child_id)
        assert [c.name for c in roster.children] == ["Gruppbarn 2"]
        assert roster.group.enrolled == 1 and roster.group.places_left == 7
        assert reads == []  # never shown, so never recorded as read


# --- the year and the log --------------------------------------------------------------------


def test_the_year_overview_shows_places_left_and_children_waiting(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        spring = _group(uow, world)
        autumn = _group(uow, world, start=date(2027, 9, 6))
        _group(uow, world, start=date(2028, 1, 10))  # next year's
        _fill(uow, world, spring, 3)
        _fill(uow, world, autumn, 8)
        for _ in range(2):
            _accepted(uow, world)
        overview = groups.year_overview(uow, world.leader, 2027, TODAY)
        assert [(g.group_id, g.enrolled, g.places_left) for g in overview.groups] == [
            (spring.group_id, 3, 5),
            (autumn.group_id, 8, 0),
        ]
        assert overview.children_waiting == 2


def test_the_place_form_offers_planned_groups_with_room_counted_as_the_roster_counts(
    app: Flask, world: World
) -> None:
    """What the inbox offers: planned groups of this year and next with their places left,
    a full group left out; a withdrawn referral and a child whose consent was withdrawn hold
    no place, counted as the roster counts (which no longer shows them)."""
    with app.app_context(), UnitOfWork(request_session()) as uow:
        spring = _group(uow, world)
        full = _group(uow, world, start=date(2027, 9, 6))
        next_year = _group(uow, world, start=date(2028, 1, 10))
        _group(uow, world, start=date(2029, 1, 8))  # the year after next: not offered yet
        _fill(uow, world, spring, 2)  # under LVU
        lapsed = _accepted(uow, world, sol_categories=("name", "age", "participation"))
        groups.enrol(uow, world.leader, spring.group_id, lapsed.id, TODAY)
        (gone,) = _fill(uow, world, spring, 1)
        referrals.withdraw_referral(uow, world.worker, gone.referral_id)  # still enrolled
        _fill(uow, world, full, 8)
        before = groups.groups_with_room(uow, world.leader, TODAY)
        roster_before = groups.group_roster(uow, world.leader, spring.group_id, TODAY)
        _withdraw_consent(uow, world, lapsed)
        after = groups.groups_with_room(uow, world.leader, TODAY)
        roster = groups.group_roster(uow, world.leader, spring.group_id, TODAY)
        offered = [(g.group_id, g.name, g.start_date, g.places_left) for g in before]
        assert offered == [
            (spring.group_id, "Vårgrupp Farsta", START, 5),
            (next_year.group_id, "Vårgrupp Farsta", date(2028, 1, 10), 8),
        ]
        assert [(g.group_id, g.places_left) for g in after] == [
            (spring.group_id, 6),
            (next_year.group_id, 8),
        ]
        assert roster_before.group.places_left == 5 and len(roster_before.children) == 3
        assert roster.group.places_left == 6 and len(roster.children) == 2


def test_the_place_form_offers_another_partners_leader_none_of_our_groups(
    app: Flask, factory: Factory, world: World
) -> None:
    other_leader = _leader_of(factory, factory.organisation("partner"))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        _group(uow, world)
        assert groups.groups_with_room(uow, other_leader, TODAY) == []


def test_every_change_about_a_child_is_logged_under_the_childs_subject_id(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group, enrolments = _started(uow, world)
        groups.record_attendance(
            uow,
            world.leader,
            group.group_id,
            group.sessions[0].session_id,
            {enrolments[0].enrolment_id: True},
            START,
        )
        groups.group_roster(uow, world.leader, group.group_id, START)
        groups.complete_group(uow, world.leader, group.group_id, LAST)
        child_id = uow.session.get(Referral, enrolments[0].referral_id).child_id  # type: ignore[union-attr]
        about_child = {e.action for e in _audit(uow, subject_id=child_id)}
        unattributed = [
            e
            for e in _audit(uow)
            if e.action.startswith("group:") and e.object_type != "group" and not e.subject_id
        ]
        assert {
            "group:enrol",
            "group:visit",
            "group:start",
            "group:attendance",
            "group:read",
            "group:complete",
            "referral:transition",
        } <= about_child
        assert unattributed == []


# --- two leaders at once (PostgreSQL) --------------------------------------------------------


def _slow(rule: Callable[[int], bool], seconds: float) -> Callable[[int], bool]:
    """The rule, answered late: without the row lock, both leaders would count 7 meanwhile."""

    def answer(enrolled: int) -> bool:
        threading.Event().wait(seconds)
        return rule(enrolled)

    return answer


@only_on_postgres(ROW_LOCKS)
@pytest.mark.asvs("V2.3.4")
def test_two_leaders_enrolling_the_ninth_child_at_once_leave_eight(
    base_settings: Settings,
) -> None:
    app = own_postgres_app(base_settings, "groups_concurrency")
    factory = Factory(app, base_settings)
    world = _world(factory)
    second_leader = _leader_of(factory, world.partner)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        _fill(uow, world, group, 7)
        group_id = group.group_id
        contenders = [_accepted(uow, world).id, _accepted(uow, world).id]
    start = threading.Barrier(2)
    outcomes: dict[str, Exception | None] = {}  # per referral: the refusal, or None

    def enrol(leader: Actor, referral_id: str) -> None:
        try:
            with app.app_context(), UnitOfWork(request_session()) as uow:
                start.wait()
                groups.enrol(uow, leader, group_id, referral_id, TODAY)
                outcomes[referral_id] = None
        except Exception as error:  # the loser's refusal is the expected outcome
            outcomes[referral_id] = error

    with pytest.MonkeyPatch.context() as patch:
        # The room check of enrolment, slowed so the two enrolments overlap inside the lock.
        patch.setattr(
            enrolment_service, "group_has_room", _slow(enrolment_service.group_has_room, 0.5)
        )
        threads = [
            threading.Thread(target=enrol, args=(leader, referral_id))
            for leader, referral_id in zip((world.leader, second_leader), contenders, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with app.app_context(), UnitOfWork(request_session()) as uow:
        roster = groups.group_roster(uow, world.leader, group_id, TODAY)
        statuses = sorted(uow.session.get(Referral, r).status for r in contenders)  # type: ignore[union-attr]
    get_database(app).engine.dispose()
    refusals = [o for o in outcomes.values() if o is not None]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert isinstance(refusals[0], Conflict) and "at most 8" in refusals[0].message
    assert len(roster.children) == 8
    assert statuses == ["accepted", "placed"]
