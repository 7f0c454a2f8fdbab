"""The activity report (issue 15): figures equal to counts worked out here from the raw
events, the same before and after a purge run, suppressed where they are small, produced
only for the reader's own programme and written to the access log.

The world is the purge's own (tests/integration/test_gallring.py): six children referred in
March 2027, placed in a weekly group that starts on 15 March, one concern report filed and
acknowledged, another not; the group completes on 4 May."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from audit.actions import Action
from config.settings import Settings
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.groups import Attendance, GroupSession
from referral.db.referrals import ReferralEvent
from referral.db.uow import UnitOfWork
from referral.errors import NotFound, NotPermitted
from referral.reports.document import Document, Mark, Table
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import complaints
from referral.services.reports.activity import activity_report
from referral.services.reports.periods import Period, PeriodKind, parse_period
from tests.conftest import FrozenClock
from tests.integration.test_gallring import (  # the purge's world, and its database
    COMPLETED_AT,
    World,
    _build,
    _run,
    own_app,  # noqa: F401 - the fixture, used by name
)

WINTER = Period(PeriodKind.WINTER, 2027)  # November 2026 - April 2027
YEAR = Period(PeriodKind.YEAR, 2027)
PRODUCED = datetime(2027, 12, 1, 9, 0, tzinfo=UTC)


def _reader(role: Role, organisation_id: str | None = None) -> Actor:
    return Actor(f"{role}-reader", f"{role}-reader", organisation_id, frozenset({role}))


def _report(app: Flask, actor: Actor, programme: str, period: Period) -> Document:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return activity_report(uow, actor, programme, period, PRODUCED, "page")


def _table(document: Document, key: str) -> Table:
    return next(t for s in document.sections for t in s.tables if t.key == key)


def _figure(document: Document, key: str) -> str:
    return next(f.text for s in document.sections for f in s.figures if f.key == key)


def _grid(table: Table) -> dict[tuple[str, str], str]:
    return {
        (row.label, column): cell.text
        for row in table.rows
        for column, cell in zip(table.columns, row.cells, strict=True)
    }


def test_the_figures_equal_counts_worked_out_from_the_raw_events(
    own_app: tuple[Flask, Settings],  # noqa: F811 - the fixture
    frozen_clock: FrozenClock,
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    frozen_clock.moment = PRODUCED
    report = _report(app, _reader(Role.COORDINATOR), "A", WINTER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        events = uow.session.scalars(
            select(ReferralEvent).where(ReferralEvent.referral_id.in_(world.referrals))
        ).all()
        before_end = [e for e in events if e.at < WINTER.ends_at]
        # A referral's steps chain (each leaves the status the one before reached): the
        # status at the period's end is the one no later step left.
        last = {}
        for r in world.referrals:
            steps = [e for e in before_end if e.referral_id == r]
            left = {e.from_status for e in steps}
            (last[r],) = {e.to_status for e in steps} - left

        marks = uow.session.execute(
            select(Attendance.present)
            .join(GroupSession, GroupSession.id == Attendance.session_id)
            .where(GroupSession.day <= WINTER.last_day)
        ).all()
    statuses = Counter(last.values())
    assert statuses == {"participating": 6}  # the group had started; none had left it
    by_status = _grid(_table(report, "referrals_by_status_gender"))
    # Set up without a recorded gender: the six are in the column for "not known".
    assert by_status[("Participating", "Not known")] == "6"
    assert by_status[("Total", "Total")] == "6"
    assert _figure(report, "children_placed") == "6"
    placed = _grid(_table(report, "placed_by_age_gender"))
    assert placed[("10-12 years", "Not known")] == "6"  # born 2015 and 2016
    present = sum(1 for (p,) in marks if p)
    assert _figure(report, "attendance_rate") == f"{round(100 * present / len(marks))} %"
    groups = _grid(_table(report, "groups_by_format_size"))
    assert groups[("Weekly group", "5-8 children")] == "1"  # groups are not people: shown
    concern = _grid(_table(report, "concern_reports"))
    # Two filed, one acknowledged: all small, so none is shown.
    assert concern[("Acknowledged", "Number")] == "<5"
    assert concern[("Not yet acknowledged", "Number")] == "<5"
    assert concern[("Total", "Total")] == "<5"
    assert _figure(report, "median_hours_to_acknowledge") == "not shown (fewer than 5)"


def test_the_report_is_the_same_before_and_after_a_purge_run(
    own_app: tuple[Flask, Settings],  # noqa: F811 - the fixture
    frozen_clock: FrozenClock,
) -> None:
    app, settings = own_app
    _build(app, settings, frozen_clock)
    frozen_clock.moment = COMPLETED_AT + timedelta(days=settings.partner_retention_days + 1)
    reader = _reader(Role.COORDINATOR)
    before = [_report(app, reader, "A", p) for p in (WINTER, YEAR, replace(YEAR, year=2026))]

    result = _run(app, settings)

    assert result.purged == 5  # (one is held by its unacknowledged concern report)
    after = [_report(app, reader, "A", p) for p in (WINTER, YEAR, replace(YEAR, year=2026))]
    assert after == before


def test_a_partner_sees_only_its_own_programme_and_the_coordinator_and_dpo_see_all(
    own_app: tuple[Flask, Settings],  # noqa: F811 - the fixture
    frozen_clock: FrozenClock,
) -> None:
    app, settings = own_app
    world: World = _build(app, settings, frozen_clock)
    leader = world.leader
    assert _report(app, leader, "A", WINTER).sections
    for other in ("B", "C"):
        with pytest.raises(NotFound):
            _report(app, leader, other, WINTER)
    with pytest.raises(NotFound):
        _report(app, _reader(Role.NIGHT_STAFF), "A", WINTER)
    with pytest.raises(NotPermitted):
        _report(app, world.worker, "A", WINTER)  # a social worker reads cases, not reports
    for reader in (_reader(Role.COORDINATOR), _reader(Role.DPO)):
        for programme in ("A", "B", "C"):
            assert _report(app, reader, programme, WINTER).sections


def test_producing_a_report_is_written_to_the_access_log(
    own_app: tuple[Flask, Settings],  # noqa: F811 - the fixture
    frozen_clock: FrozenClock,
) -> None:
    app, settings = own_app
    world = _build(app, settings, frozen_clock)
    _report(app, world.leader, "A", WINTER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        entries = uow.session.execute(
            select(AuditEntry.actor_id, AuditEntry.object_id).where(
                AuditEntry.action == Action.ACTIVITY_REPORT_PRODUCE.value
            )
        ).all()
    assert [tuple(e) for e in entries] == [(world.leader.user_id, "A:2027-winter:page")]


def test_no_count_from_one_to_four_is_ever_shown_in_any_table(
    own_app: tuple[Flask, Settings],  # noqa: F811 - the fixture
    frozen_clock: FrozenClock,
) -> None:
    app, settings = own_app
    _build(app, settings, frozen_clock)
    for programme in ("A", "B", "C"):
        for period in (WINTER, YEAR):
            report = _report(app, _reader(Role.DPO), programme, period)
            for section in report.sections:
                for table in section.tables:
                    if table.key in {"groups_by_format_size", "feedback_response_days"}:
                        continue  # groups, and days: not counts of people
                    for row in table.rows:
                        for cell in row.cells:
                            assert cell.mark is not Mark.SHOWN or not 0 < (cell.value or 0) < 5


def test_periods_are_the_half_years_and_the_year_in_stockholm_days() -> None:
    winter = parse_period("2027-winter")
    assert winter is not None
    assert (winter.first_day.isoformat(), winter.last_day.isoformat()) == (
        "2026-11-01",
        "2027-04-30",
    )
    # Midnight in Stockholm on 1 November is 23:00 UTC the day before.
    assert winter.starts_at.astimezone(UTC) == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert parse_period("2027") == YEAR and YEAR.nested == Period(PeriodKind.SUMMER, 2027)
    assert WINTER.nested is None
    assert [parse_period(bad) for bad in ("27", "2027-spring", "2027-winter/x", "")] == [None] * 4


def test_feedback_is_counted_by_category_with_the_days_until_a_response(
    own_app: tuple[Flask, Settings],  # noqa: F811 - the fixture
    frozen_clock: FrozenClock,
) -> None:
    app, _settings = own_app
    received = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
    frozen_clock.moment = received
    leader = _reader(Role.GROUP_LEADER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        for n in range(8):
            category = "treatment" if n < 6 else "safety"
            complaints.submit_public(
                uow, complaints.NewComplaint("A", "complaint", category, f"Synpunkt {n}"), received
            )
        lines = complaints.list_for(uow, leader, "A", today=received.date())
        frozen_clock.moment = received + timedelta(days=5)
        # The six about treatment waited 1, 2, 2, 2, 3 and 3 days; one about safety 4.
        waits = iter((1, 2, 2, 2, 3, 3))
        treatment = [line for line in lines if line.category == "treatment"]
        safety = [line for line in lines if line.category == "safety"]
        assert len(safety) == 2  # (both still waiting)
        for line, wait in [(line, next(waits)) for line in treatment]:
            answered_on = received.date() + timedelta(days=wait)
            complaints.respond(
                uow, leader, line.id, "explained", "Svar", answered_on, frozen_clock.moment
            )
    report = _report(app, _reader(Role.COORDINATOR), "A", WINTER)
    counts = _grid(_table(report, "feedback_by_category_kind"))
    assert counts[("Safety", "A complaint")] == "<5"
    assert counts[("Total", "A complaint")] == "8"
    # Six about treatment would give away the two about safety (8 - 6): hidden as well.
    assert counts[("How staff treated me", "A complaint")] == "–"
    days = _grid(_table(report, "feedback_response_days"))
    assert (
        days[("How staff treated me", "Median days")],
        days[("How staff treated me", "Longest, days")],
    ) == ("2", "3")
    assert days[("Safety", "Answered")] == "0" and days[("Safety", "Median days")] == "–"
    # Another programme's report does not count them.
    other = _grid(
        _table(_report(app, _reader(Role.COORDINATOR), "C", WINTER), "feedback_by_category_kind")
    )
    assert other[("Total", "Total")] == "0"
