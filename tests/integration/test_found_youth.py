"""Programme B: an absconded child found. One action records the finding and, for a minor,
files a concern report at once to the responsible district (the youth's, or the one the
worker chose; socialjouren when none is known); its acknowledgement gives the time from
finding to receipt, and unacknowledged it turns overdue like any concern report. From 18 the
youth decides: the finding is recorded, nobody is told."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from referral.actors import Actor
from referral.db.concern import ConcernReport
from referral.db.models import Organisation
from referral.db.outreach import Finding
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import concern_reports, findings, outreach
from referral.services.concern_reports import AcknowledgementRule
from referral.services.findings import NewFinding
from referral.working_time import WorkingDay
from tests.conftest import FrozenClock
from tests.factories import Factory, invented_personnummer, social_worker_actor

NOW = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Stockholm
TODAY = NOW.date()
RULE = AcknowledgementRule(4, WorkingDay(8, 17))


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


def _link_worker(factory: Factory) -> Actor:
    partner = factory.organisation("partner")
    account = factory.account("link_worker", partner)
    return Actor(account.user.id, account.username, partner.id, frozenset({Role.LINK_WORKER}))


def _youth(uow: UnitOfWork, worker: Actor, born: date, district_id: str | None) -> str:
    new = outreach.NewYouth(
        alias="Yasin",
        personnummer=invented_personnummer(born.year, born.month, born.day),
        situation="absconded",
        district_id=district_id,
    )
    return outreach.register_youth(uow, worker, new, TODAY).id


def _found(
    uow: UnitOfWork, worker: Actor, youth_id: str, **changes: object
) -> findings.FindingView:
    new = NewFinding(
        found_at=changes.pop("found_at", NOW - timedelta(minutes=30)),  # type: ignore[arg-type]
        place="centralstationen",
        reporter_contact="Länkare, 070-1",
        **changes,  # type: ignore[arg-type]
    )
    return findings.record_finding(uow, worker, youth_id, new, RULE, TODAY, NOW)


def test_a_found_minor_is_reported_to_the_district_at_once_and_the_wait_is_measured(
    uow: UnitOfWork, factory: Factory, frozen_clock: FrozenClock
) -> None:
    frozen_clock.moment = NOW
    district = factory.organisation("district")
    worker = _link_worker(factory)
    youth_id = _youth(uow, worker, date(2011, 5, 5), district.id)
    found = _found(uow, worker, youth_id)
    assert found.district_name == district.name and found.concern_reference is not None
    assert found.minutes_to_acknowledgement is None

    receiver = social_worker_actor(factory, district)
    (line,) = concern_reports.received_reports(uow, receiver, NOW)
    assert line.subject_kind == "youth"
    report = concern_reports.read_report(uow, receiver, line.report_id, NOW)
    assert report.routing == "responsible_district" and report.subject_name == "Yasin"
    frozen_clock.move(minutes=45)
    concern_reports.acknowledge(uow, receiver, line.report_id)
    (again,) = findings.findings_of(uow, worker, youth_id)
    assert again.minutes_to_acknowledgement == 75  # found 30 minutes before, acknowledged 45 after


def test_without_a_known_district_the_worker_chooses_or_socialjouren_receives_it(
    uow: UnitOfWork, factory: Factory, frozen_clock: FrozenClock
) -> None:
    frozen_clock.moment = NOW
    chosen = factory.organisation("district")
    socialjouren = factory.organisation("city")
    row = uow.session.get(Organisation, socialjouren.id)
    assert row is not None
    row.social_emergency_service = True
    uow.commit()
    worker = _link_worker(factory)
    youth_id = _youth(uow, worker, date(2012, 1, 1), None)
    assert _found(uow, worker, youth_id, district_id=chosen.id).district_name == chosen.name
    assert _found(uow, worker, youth_id).district_name == socialjouren.name
    # Unacknowledged, each escalates like any concern report.
    overdue = concern_reports.overdue_reports(uow, _dpo(socialjouren.id), NOW + timedelta(hours=4))
    assert {o.receiving_organisation for o in overdue} == {chosen.name, socialjouren.name}


def test_an_adult_found_is_recorded_and_nobody_is_told(
    uow: UnitOfWork, factory: Factory, frozen_clock: FrozenClock
) -> None:
    frozen_clock.moment = NOW
    worker = _link_worker(factory)
    youth_id = _youth(uow, worker, date(2007, 1, 1), factory.organisation("district").id)
    found = _found(uow, worker, youth_id)
    assert found.concern_reference is None
    assert uow.session.scalar(select(func.count()).select_from(ConcernReport)) == 0


def test_a_finding_in_the_future_another_organisations_youth_or_a_bad_place_is_refused(
    uow: UnitOfWork, factory: Factory, frozen_clock: FrozenClock
) -> None:
    frozen_clock.moment = NOW
    worker, other = _link_worker(factory), _link_worker(factory)
    youth_id = _youth(uow, worker, date(2011, 5, 5), factory.organisation("district").id)
    with pytest.raises(InvalidInput) as future:
        _found(uow, worker, youth_id, found_at=NOW + timedelta(minutes=1))
    assert future.value.field == "found_at"
    with pytest.raises(NotFound):
        _found(uow, other, youth_id)
    with pytest.raises(InvalidInput):
        findings.record_finding(
            uow, worker, youth_id, NewFinding(NOW, "the moon", "070"), RULE, TODAY, NOW
        )
    assert uow.session.scalar(select(func.count()).select_from(Finding)) == 0
    assert uow.session.scalar(select(func.count()).select_from(ConcernReport)) == 0


def _dpo(organisation_id: str) -> Actor:
    return Actor("dpo", "dpo", organisation_id, frozenset({Role.DPO}))
