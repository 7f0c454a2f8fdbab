"""Concern reports (orosanmälan): anyone who works with a child reports concern whatever the
consent; the report reaches the placing district (or socialjouren when none is known), is
acknowledged once, turns overdue when it is not, and never widens the reporter's access."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.concern import ConcernReport
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import (
    audit_alerts,
    child_record,
    children,
    concern_reports,
    consent,
    organisations,
    referrals,
)
from referral.services.concern_reports import AcknowledgementRule, NewConcernReport
from referral.working_time import WorkingDay
from tests.conftest import FrozenClock
from tests.factories import SYSTEM, Factory, invented_personnummer, social_worker_actor

# A Wednesday, 10:00 in Stockholm (winter time).
FILED = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
TODAY = FILED.date()
RULE = AcknowledgementRule(4, WorkingDay(8, 17))
WHAT = "Barnet berättade om slag hemma; blåmärken på armen."


@dataclass
class World:
    district: Organisation
    worker: Actor
    partner: Organisation
    leader: Actor
    socialjouren: Organisation
    on_duty: Actor  # a social worker of socialjouren
    child_id: str  # an SoL child of the district, no guardian has consented
    referral_id: str  # its referral to the partner, awaiting consent
    personnummer: str


def _staff(factory: Factory, role: Role, organisation: Organisation) -> Actor:
    account = factory.account(role.value, organisation=organisation)
    return Actor(account.user.id, account.username, organisation.id, frozenset({role}))


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


@pytest.fixture
def world(uow: UnitOfWork, factory: Factory, frozen_clock: FrozenClock) -> World:
    frozen_clock.moment = FILED
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    socialjouren = factory.organisation("city", name="Socialjouren (test)")
    factory.activity_description("A-2027:1", partner)
    worker = social_worker_actor(factory, district)
    personnummer = invented_personnummer(2016, 4, 9)
    marked = uow.session.get(Organisation, socialjouren.id)
    assert marked is not None
    marked.social_emergency_service = True
    uow.commit()
    child = children.register_child(
        uow, worker, children.NewChild(personnummer, "Oro Barnsson"), TODAY
    )
    consent.record_placement(uow, worker, child.id, "SoL", today=TODAY)
    consent.add_guardian(uow, worker, child.id, "Vårdnadshavare Ett", None, True, today=TODAY)
    referral = referrals.create_referral(
        uow, worker, referrals.NewReferral(child.id, partner.id, "weekly"), today=TODAY
    )
    referrals.submit_referral(uow, worker, referral.id, TODAY)
    child_id, referral_id = child.id, referral.id
    return World(
        district,
        worker,
        partner,
        _staff(factory, Role.GROUP_LEADER, partner),
        socialjouren,
        _staff(factory, Role.SOCIAL_EMERGENCY, socialjouren),
        child_id,
        referral_id,
        personnummer,
    )


def _report(**changes: Any) -> NewConcernReport:
    base = NewConcernReport(what_happened=WHAT, reporter_contact="Gruppledare, 070-000 00 00")
    return replace(base, **changes)


def _file(uow: UnitOfWork, actor: Actor, **changes: Any) -> concern_reports.FiledReceipt:
    return concern_reports.file_report(uow, actor, _report(**changes), RULE, TODAY)


def _entries(uow: UnitOfWork, object_id: str) -> list[AuditEntry]:
    return list(
        uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_id == object_id)
            .order_by(AuditEntry.sequence)
        )
    )


def _reports(uow: UnitOfWork) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(ConcernReport)) or 0)


# --- filing and routing -------------------------------------------------------------------


def test_a_partner_reports_on_a_child_without_consent_and_the_district_receives_it(
    uow: UnitOfWork, world: World
) -> None:
    filed = _file(uow, world.leader, referral_id=world.referral_id)

    (line,) = concern_reports.received_reports(uow, world.worker, FILED)
    assert (line.report_id, line.status, line.child_id) == (filed.report_id, "open", world.child_id)
    assert line.reporter_organisation == world.partner.name
    report = concern_reports.read_report(uow, world.worker, filed.report_id, FILED)
    assert report.what_happened == WHAT and report.routing == "placing_district"

    # The partner still does not see the child, nor that the referral exists.
    assert referrals.partner_inbox(uow, world.leader, TODAY) == []
    with pytest.raises(NotFound):
        referrals.respond(uow, world.leader, world.referral_id, True, TODAY)
    with pytest.raises(NotPermitted):  # a partner's role never reads reports, its own neither
        concern_reports.read_report(uow, world.leader, filed.report_id, FILED)

    entries = _entries(uow, filed.report_id)
    assert [e.action for e in entries] == [
        "concern_report:file",
        "concern_report:route",
        "concern_report:read",
    ]
    assert {e.legal_basis for e in entries} == {"concern_report"}
    assert {e.subject_id for e in entries} == {world.child_id}


def test_a_typed_personnummer_finds_the_placing_district_and_tells_the_partner_nothing_more(
    uow: UnitOfWork, world: World
) -> None:
    known = _file(uow, world.leader, personnummer=world.personnummer)
    unknown = _file(uow, world.leader, personnummer=invented_personnummer(2012, 2, 2))

    assert [
        line.report_id for line in concern_reports.received_reports(uow, world.worker, FILED)
    ] == [known.report_id]
    (at_socialjouren,) = concern_reports.received_reports(uow, world.on_duty, FILED)
    assert at_socialjouren.report_id == unknown.report_id
    # What the partner is told of either is the same: reference, time, no receiver.
    mine = concern_reports.filed_reports(uow, world.leader)
    assert {receipt.report_id for receipt in mine} == {known.report_id, unknown.report_id}
    assert set(vars(mine[0])) == {
        "report_id",
        "reference",
        "filed_at",
        "filed_by",
        "acknowledged_at",
    }


def test_a_child_known_only_from_a_meeting_goes_to_socialjouren(
    uow: UnitOfWork, world: World
) -> None:
    filed = _file(
        uow,
        world.leader,
        subject_name="Ali (alias)",
        approximate_age="omkring 14",
        place="Sergels torg",
        subject_description="Grå jacka, talar dari",
    )
    assert concern_reports.received_reports(uow, world.worker, FILED) == []
    report = concern_reports.read_report(uow, world.on_duty, filed.report_id, FILED)
    assert (report.subject_kind, report.routing, report.child_id) == (
        "described",
        "no_known_district",
        None,
    )
    assert (report.place, report.approximate_age) == ("Sergels torg", "omkring 14")


def test_a_social_worker_reports_on_a_child_of_their_district_and_a_colleague_receives_it(
    uow: UnitOfWork, factory: Factory, world: World
) -> None:
    filed = _file(uow, world.worker, child_id=world.child_id)
    colleague = social_worker_actor(factory, world.district)
    (line,) = concern_reports.received_reports(uow, colleague, FILED)
    assert line.report_id == filed.report_id
    # The reporter neither sees where the report went nor acknowledges it: a colleague does.
    assert concern_reports.received_reports(uow, world.worker, FILED) == []
    with pytest.raises(NotFound):
        concern_reports.read_report(uow, world.worker, filed.report_id, FILED)
    with pytest.raises(NotFound):
        concern_reports.acknowledge(uow, world.worker, filed.report_id)
    concern_reports.acknowledge(uow, colleague, filed.report_id)


def test_without_a_social_emergency_service_an_unrouted_report_is_refused_with_503(
    uow: UnitOfWork, world: World
) -> None:
    marked = uow.session.get(Organisation, world.socialjouren.id)
    assert marked is not None
    marked.social_emergency_service = False
    uow.commit()
    with pytest.raises(concern_reports.NoReceiver) as refused:
        _file(uow, world.leader, subject_name="Okänd")
    assert refused.value.status == 503
    # Alike for a personnummer the service knows: the answer must not tell the two apart.
    with pytest.raises(concern_reports.NoReceiver):
        _file(uow, world.leader, personnummer=world.personnummer)
    assert _reports(uow) == 0


# --- bad input: a clear error, nothing written --------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"what_happened": "   ", "subject_name": "Kim"}, "what_happened", InvalidInput),
        ({"reporter_contact": "", "subject_name": "Kim"}, "reporter_contact", InvalidInput),
        ({"what_happened": "x" * 4001, "subject_name": "Kim"}, "what_happened", InvalidInput),
        ({}, "subject_name", InvalidInput),
        ({"child_id": "no-such-child"}, "child_id", NotFound),
        ({"referral_id": "no-such-referral"}, "referral_id", NotFound),
        ({"personnummer": "19000101-0000"}, "personnummer", InvalidInput),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    uow: UnitOfWork, world: World, changes: dict[str, Any], field: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as refused:
        _file(uow, world.leader, **changes)
    assert getattr(refused.value, "field", None) == field
    assert _reports(uow) == 0


def test_a_child_outside_every_scope_of_the_reporter_is_not_found(
    uow: UnitOfWork, factory: Factory, world: World
) -> None:
    other_partner = _staff(factory, Role.GROUP_LEADER, factory.organisation("partner"))
    other_district = social_worker_actor(factory)
    with pytest.raises(NotFound) as by_referral:
        _file(uow, other_partner, referral_id=world.referral_id)
    with pytest.raises(NotFound) as by_child:
        _file(uow, other_district, child_id=world.child_id)
    with pytest.raises(NotFound):
        _file(uow, world.leader, child_id=world.child_id, referral_id="no-such")
    assert (by_referral.value.field, by_child.value.field) == ("referral_id", "child_id")
    assert _reports(uow) == 0


# --- receipt, overdue, flag -----------------------------------------------------------------


def test_the_district_acknowledges_once_and_the_reporter_sees_when(
    uow: UnitOfWork, world: World, frozen_clock: FrozenClock
) -> None:
    filed = _file(uow, world.leader, referral_id=world.referral_id)
    frozen_clock.move(minutes=40)
    concern_reports.acknowledge(uow, world.worker, filed.report_id, "Dnr 2027-0042")
    with pytest.raises(Conflict):
        concern_reports.acknowledge(uow, world.worker, filed.report_id)

    (receipt,) = concern_reports.filed_reports(uow, world.leader)
    assert receipt.acknowledged_at == FILED + timedelta(minutes=40)
    report = concern_reports.read_report(uow, world.worker, filed.report_id, FILED)
    assert report.case_reference == "Dnr 2027-0042"
    # The partner is told the time, never the district's case.
    assert "Dnr" not in repr(receipt)


def test_an_unacknowledged_report_turns_overdue_after_four_working_hours(
    uow: UnitOfWork, world: World, frozen_clock: FrozenClock
) -> None:
    # Filed at 16:00 on Friday 5 March: 1 working hour that day, 3 on Monday (11:00).
    frozen_clock.moment = datetime(2027, 3, 5, 15, 0, tzinfo=UTC)
    late = _file(uow, world.leader, referral_id=world.referral_id)
    frozen_clock.moment = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)  # Monday 09:00
    later = _file(uow, world.leader, referral_id=world.referral_id)

    monday_ten = datetime(2027, 3, 8, 9, 59, tzinfo=UTC)
    lines = concern_reports.received_reports(uow, world.worker, monday_ten)
    assert [(line.report_id, line.overdue) for line in lines] == [
        (late.report_id, False),
        (later.report_id, False),
    ]
    monday_eleven = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)
    lines = concern_reports.received_reports(uow, world.worker, monday_eleven)
    assert [(line.report_id, line.overdue) for line in lines] == [
        (late.report_id, True),
        (later.report_id, False),
    ]
    (overdue,) = concern_reports.overdue_reports(uow, _dpo(world), monday_eleven)
    assert (overdue.report_id, overdue.receiving_organisation) == (
        late.report_id,
        world.district.name,
    )


def test_an_overdue_report_is_an_alert_for_the_dpo(
    uow: UnitOfWork, world: World, frozen_clock: FrozenClock, settings: Any
) -> None:
    filed = _file(uow, world.leader, subject_name="Okänd")  # socialjouren: 4 clock hours
    frozen_clock.move(hours=4)
    found = audit_alerts.alerts(uow, _dpo(world), settings)
    (alert,) = [a for a in found if a.kind == "concern_overdue"]
    assert alert.subject == concern_reports.reference_of(filed.report_id)
    assert alert.who == world.socialjouren.name


def test_an_open_report_flags_the_childs_record_until_the_district_closes_it(
    uow: UnitOfWork, world: World
) -> None:
    assert not child_record.read_child_record(uow, world.worker, world.child_id, TODAY).concern
    filed = _file(uow, world.leader, referral_id=world.referral_id)
    assert child_record.read_child_record(uow, world.worker, world.child_id, TODAY).concern
    (summary,) = child_record.district_children(uow, world.worker, TODAY)
    assert summary.concern
    with pytest.raises(Conflict):
        concern_reports.close(uow, world.worker, filed.report_id)
    concern_reports.acknowledge(uow, world.worker, filed.report_id)
    assert child_record.read_child_record(uow, world.worker, world.child_id, TODAY).concern
    concern_reports.close(uow, world.worker, filed.report_id)
    assert not child_record.read_child_record(uow, world.worker, world.child_id, TODAY).concern
    assert concern_reports.received_reports(uow, world.worker, FILED) == []


def test_the_dpo_sees_who_filed_and_who_read_each_report(uow: UnitOfWork, world: World) -> None:
    filed = _file(uow, world.leader, referral_id=world.referral_id)
    concern_reports.read_report(uow, world.worker, filed.report_id, FILED, printing=True)
    (trail,) = concern_reports.report_trails(uow, _dpo(world))
    assert trail.reporter_organisation == world.partner.name
    assert trail.receiving_organisation == world.district.name
    assert [(e.who, e.action) for e in trail.entries] == [
        (world.leader.username, "concern_report:file"),
        (world.leader.username, "concern_report:route"),
        (world.worker.username, "concern_report:print"),
    ]


def test_the_trail_keeps_a_read_logged_after_the_clock_was_set_back_past_the_filing(
    uow: UnitOfWork, world: World, frozen_clock: FrozenClock
) -> None:
    """The trail reads the log from the oldest listed report's filing on, less a day: a
    read whose time is hours before the filing (a server clock set back) is still shown,
    and in the order of the entries' time."""
    filed = _file(uow, world.leader, referral_id=world.referral_id)
    frozen_clock.move(hours=-5)
    concern_reports.read_report(uow, world.worker, filed.report_id, FILED, printing=True)
    (trail,) = concern_reports.report_trails(uow, _dpo(world))
    assert [(e.who, e.action) for e in trail.entries] == [
        (world.worker.username, "concern_report:print"),
        (world.leader.username, "concern_report:file"),
        (world.leader.username, "concern_report:route"),
    ]


def test_the_report_is_sealed_under_a_key_of_its_own(uow: UnitOfWork, world: World) -> None:
    filed = _file(uow, world.leader, referral_id=world.referral_id)
    report = uow.session.get(ConcernReport, filed.report_id)
    assert report is not None
    scope = report.key_scope()
    assert (scope.person_id, scope.holder) == (world.child_id, f"concern:{report.id}")
    assert report.holds_purge


def _dpo(world: World) -> Actor:
    return Actor("dpo-test", "dpo-test", world.socialjouren.id, frozenset({Role.DPO}))


def test_working_hours_skip_weekends_and_swedish_holidays() -> None:
    day = WorkingDay(8, 17)
    christmas_eve = datetime(2027, 12, 23, 15, 0, tzinfo=UTC)  # Thursday 16:00 in Stockholm
    # One hour on the 23rd; the 24th to 26th are off, the 27th a Monday.
    assert day.add(christmas_eve, 4) == datetime(2027, 12, 27, 10, 0, tzinfo=UTC)
    assert day.add(datetime(2027, 3, 3, 9, 0, tzinfo=UTC), 4) == datetime(
        2027, 3, 3, 13, 0, tzinfo=UTC
    )
    assert date(2027, 6, 25).weekday() == 4  # midsummer eve 2027 is off
    assert day.add(datetime(2027, 6, 24, 14, 0, tzinfo=UTC), 2) == datetime(
        2027, 6, 28, 7, 0, tzinfo=UTC
    )


def test_only_one_city_organisation_is_the_social_emergency_service(
    uow: UnitOfWork, world: World
) -> None:
    def add(name: str, kind: str) -> organisations.OrganisationView:
        new = organisations.NewOrganisation(name=name, kind=kind, social_emergency_service=True)
        return organisations.add_organisation(uow, SYSTEM, new)

    with pytest.raises(InvalidInput) as not_the_city:
        add("Distriktsjour", "district")
    with pytest.raises(Conflict) as second:
        add("Andra socialjouren", "city")  # the world's socialjouren is one already
    assert not_the_city.value.field == second.value.field == "social_emergency_service"
    marked = uow.session.get(Organisation, world.socialjouren.id)
    assert marked is not None
    marked.social_emergency_service = False
    uow.commit()
    assert add("Nya socialjouren", "city").social_emergency_service
