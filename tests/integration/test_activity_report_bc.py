"""Programmes B and C in the activity report: the people a purge takes away are still
counted, because the purge keeps the report's tallies of them (services.kept_statistics)
before it removes what tied them to the period. The report is the same before and after the
run; the figures equal what the test set up; a country fewer than five came from is not
named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from config.settings import Settings
from referral import clock
from referral.actors import Actor
from referral.db.nights import NightPerson, Shelter
from referral.db.outreach import Youth
from referral.db.retention import KeptCount
from referral.db.uow import UnitOfWork
from referral.reports.document import Document, Table
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import outreach
from referral.services.nights import allocation, people, registration
from referral.services.reports.activity import activity_report
from referral.services.reports.periods import Period, PeriodKind
from tests.conftest import FrozenClock
from tests.factories import Factory
from tests.integration.test_gallring import _run, own_app

__all__ = ["own_app"]  # the purge tests' own database

WINTER = Period(PeriodKind.WINTER, 2027)
YEAR = Period(PeriodKind.YEAR, 2027)
PRODUCED = datetime(2027, 12, 1, 9, 0, tzinfo=UTC)
IN_WINDOW = datetime(2027, 3, 3, 8, 30, tzinfo=UTC)  # Wednesday 09:30 in Stockholm
AFTER_WINDOW = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
COORDINATOR = Actor("coordinator", "coordinator", None, frozenset({Role.COORDINATOR}))


def _actor(factory: Factory, role: Role, kind: str) -> Actor:
    organisation = factory.organisation(kind)
    account = factory.account(role.value, organisation)
    return Actor(account.user.id, account.username, organisation.id, frozenset({role}))


def _report(app: Flask, programme: str, period: Period) -> Document:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return activity_report(uow, COORDINATOR, programme, period, PRODUCED, "page")


def _cells(document: Document, key: str) -> dict[tuple[str, str], str]:
    table: Table = next(t for s in document.sections for t in s.tables if t.key == key)
    return {
        (row.label, column): cell.text
        for row in table.rows
        for column, cell in zip(table.columns, row.cells, strict=True)
    }


def _figure(document: Document, key: str) -> str:
    return next(f.text for s in document.sections for f in s.figures if f.key == key)


def _kept(app: Flask) -> int:
    with app.app_context():
        return request_session().scalar(select(func.count()).select_from(KeptCount)) or 0


def test_night_guests_are_counted_the_same_before_and_after_their_purge(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    factory = Factory(app, settings)
    desk = _actor(factory, Role.NIGHT_STAFF, "partner")
    coordinator = _actor(factory, Role.NIGHT_COORDINATOR, "city")
    frozen_clock.moment = IN_WINDOW
    guests = [people.NewPerson(f"Gäst {n}", 1980, "woman", "rumänien") for n in range(5)]
    guests += [people.NewPerson("Gäst M", 1990, "man", "Bulgarien"), people.NewPerson()]
    with app.app_context(), UnitOfWork(request_session()) as uow:
        uow.session.add(
            Shelter(
                organisation_id=desk.organisation_id,
                name="Härbärge",
                places=6,
                opens_on=date(2027, 1, 1),
                created_by="test",
            )
        )
        uow.commit()
        for guest in guests:
            card = people.issue_card(uow, desk, guest, clock.today())
            registration.register(uow, desk, card.card_number, settings, IN_WINDOW)
        summary = allocation.run_allocation(uow, coordinator, settings, AFTER_WINDOW)
    assert (summary.placed, summary.turned_away) == (6, 1)
    before = [_report(app, "C", period) for period in (WINTER, YEAR)]

    frozen_clock.moment = AFTER_WINDOW + timedelta(days=settings.nights_retention_days + 2)
    result = _run(app, settings)

    assert result.purged >= len(guests)
    with app.app_context():
        purged = request_session().scalar(
            select(func.count()).select_from(NightPerson).where(NightPerson.purged_at.is_not(None))
        )
    assert purged == len(guests) and _kept(app) > 0
    after = [_report(app, "C", period) for period in (WINTER, YEAR)]
    assert after == before
    winter = after[0]
    ages = _cells(winter, "people_by_age_gender")
    assert ages[("30-49 years", "Women")] == "5"  # born 1980: 47 at the end of April 2027
    # One man and one person of no known age: small cells, and the total hidden with them
    # (7 - 6 would give the one away); the headline figure shows what the table shows.
    assert ages[("Total", "Total")] == "–" and _figure(winter, "people") == "–"
    countries = _cells(winter, "people_by_country_gender")
    # Five came from Romania (typed in lower case: folded); one from Bulgaria, who is
    # counted among "other countries" and not named.
    assert countries[("Rumänien", "Women")] == "5"
    assert not any(label == "Bulgarien" for label, _column in countries)
    assert countries[("Other countries", "Men")] in {"<5", "–"}


def test_youths_met_with_their_identity_are_counted_the_same_before_and_after_their_purge(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    factory = Factory(app, settings)
    worker = _actor(factory, Role.LINK_WORKER, "partner")
    met_on = date(2027, 3, 1)
    frozen_clock.moment = datetime(2027, 3, 1, 12, tzinfo=UTC)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        today = clock.today()
        for n in range(6):
            youth = outreach.register_youth(
                uow,
                worker,
                outreach.NewYouth(
                    alias=f"Ungdom {n}",
                    birth_year=2011,
                    gender="girl" if n < 5 else "boy",
                    country_of_origin="Eritrea",
                ),
                today,
            )
            outreach.record_encounter(
                uow,
                worker,
                outreach.NewEncounter(met_on, "sergels_torg", (), youth_id=youth.id),
                today,
            )
        for _n in range(7):
            outreach.record_encounter(
                uow,
                worker,
                outreach.NewEncounter(met_on, "centralstationen", (), "girl", "15_17"),
                today,
            )
    before = [_report(app, "B", period) for period in (WINTER, YEAR)]
    winter = before[0]
    assert _figure(winter, "encounters") == "13"
    kinds = _cells(winter, "encounters_anonymous_identified")
    assert (
        kinds[("Anonymous", "Number")],
        kinds[("With the youth's identity recorded", "Number")],
    ) == ("7", "6")
    assert _cells(winter, "youths_by_country_gender")[("Eritrea", "Girls")] == "5"
    assert _cells(winter, "youths_by_age_gender")[("15-17 years", "Girls")] == "5"  # 16 in April

    frozen_clock.moment += timedelta(days=settings.outreach_retention_days + 2)
    _run(app, settings)

    with app.app_context():
        purged = request_session().scalar(
            select(func.count()).select_from(Youth).where(Youth.purged_at.is_not(None))
        )
    assert purged == 6
    assert [_report(app, "B", period) for period in (WINTER, YEAR)] == before


def test_a_years_report_hides_what_subtracting_its_may_to_october_report_would_tell(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    factory = Factory(app, settings)
    worker = _actor(factory, Role.LINK_WORKER, "partner")
    frozen_clock.moment = datetime(2027, 11, 2, 12, tzinfo=UTC)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        # Two girls met in March, six in June: the year has eight, May-October six.
        for day in [date(2027, 3, 1)] * 2 + [date(2027, 6, 1)] * 6:
            outreach.record_encounter(
                uow,
                worker,
                outreach.NewEncounter(day, "sergels_torg", (), "girl", "15_17"),
                clock.today(),
            )
    summer = _report(app, "B", Period(PeriodKind.SUMMER, 2027))
    year = _report(app, "B", YEAR)
    assert _figure(summer, "encounters") == "6"
    # 8 - 6 = 2 girls met outside May-October: the year's total is not shown, not in the
    # table, not in the headline figure, and the share of girls neither.
    assert _cells(year, "encounters_by_age_gender")[("Total", "Total")] == "–"
    assert _figure(year, "encounters") == "–"
    assert _figure(year, "girls_share") == "not shown"
