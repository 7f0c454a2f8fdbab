"""Programme C under the purge (gallring): a canary person with a card, a registration with
an override, a night and an exclusion is purged 90 days after the last of them. Afterwards the
card opens nothing, no byte of the database holds the canary, no live key is the person's, the
run keeps its counts but not its inputs, the nights given per shelter and night are the same,
and the residue keeps only programme, month, age band, gender and country."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from config.settings import Settings
from referral import clock
from referral.actors import Actor
from referral.db.data_keys import DataKey
from referral.db.models import Organisation
from referral.db.nights import (
    AllocationRun,
    Exclusion,
    NightPerson,
    NightPlace,
    NightRegistration,
    Shelter,
)
from referral.db.retention import PurgeRecord
from referral.db.uow import UnitOfWork
from referral.errors import NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import audit_integrity
from referral.services.nights import allocation, exclusions, people, registration
from referral.services.nights.registration import Override
from tests.conftest import FrozenClock
from tests.factories import Factory
from tests.integration.test_canary_scan import encodings
from tests.integration.test_gallring import _plan, _run, _sqlite_bytes, own_app

CANARY_ALIAS = "Nattgäst Qvirblund"
CANARY_OVERRIDE = "Hotad av Zyxkorp i natt"
CANARY_EXCLUSION = "Bråkade med Plimvork"
IN_WINDOW = datetime(2027, 3, 3, 8, 30, tzinfo=UTC)  # Wednesday 09:30 in Stockholm
AFTER_WINDOW = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)

__all__ = ["own_app"]  # the purge tests' own database, for the byte scan


def _actor(factory: Factory, role: Role, organisation: Organisation) -> Actor:
    account = factory.account(role.value, organisation)
    return Actor(account.user.id, account.username, organisation.id, frozenset({role}))


def _nights_given(app: Flask) -> list[tuple[date, int]]:
    with app.app_context():
        return [
            (night, int(count))
            for night, count in request_session().execute(
                select(NightPlace.night, func.count()).group_by(NightPlace.night)
            )
        ]


@pytest.mark.asvs("V14.2.7")
def test_a_night_guests_card_registrations_and_nights_are_purged_after_ninety_days(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    factory = Factory(app, settings)
    partner = factory.organisation("partner")
    city = factory.organisation("city")
    desk = _actor(factory, Role.NIGHT_STAFF, partner)
    coordinator = _actor(factory, Role.NIGHT_COORDINATOR, city)
    frozen_clock.moment = IN_WINDOW
    with app.app_context(), UnitOfWork(request_session()) as uow:
        shelter = Shelter(
            organisation_id=partner.id,
            name="Härbärge",
            places=3,
            opens_on=date(2027, 1, 1),
            created_by="test",
        )
        uow.session.add(shelter)
        uow.commit()
        shelter_id = shelter.id
        card = people.issue_card(
            uow,
            desk,
            people.NewPerson(CANARY_ALIAS, 1979, "woman", "Påhittien"),
            clock.today(),
        )
        other = people.issue_card(uow, desk, people.NewPerson(), clock.today())
        registration.register(
            uow,
            desk,
            card.card_number,
            settings,
            IN_WINDOW,
            Override("danger_to_life", CANARY_OVERRIDE),
        )
        registration.register(uow, desk, other.card_number, settings, IN_WINDOW)
        summary = allocation.run_allocation(uow, coordinator, settings, AFTER_WINDOW)
        exclusions.exclude(
            uow,
            desk,
            shelter_id,
            card.card_number,
            CANARY_EXCLUSION,
            date(2027, 3, 10),
            date(2027, 3, 3),
        )
    given_before = _nights_given(app)
    assert given_before and summary.placed == 2

    # 90 days after the exclusion ran out (its last entry), not before.
    frozen_clock.moment = datetime(2027, 3, 10, 12, tzinfo=UTC) + timedelta(
        days=settings.nights_retention_days - 1
    )
    assert "night_person" not in {u.rule for u in _plan(app, settings).due if u.unit_id == card.id}
    frozen_clock.moment += timedelta(days=2)
    due = {(u.rule, u.unit_id) for u in _plan(app, settings).due}
    assert ("night_person", card.id) in due and ("night_run", summary.run_id) in due
    _run(app, settings)

    with app.app_context(), UnitOfWork(request_session()) as uow:
        with pytest.raises(NotFound):
            people.look_up(uow, desk, card.card_number)
        person = uow.session.get(NightPerson, card.id)
        assert person is not None and person.purged_at is not None
        assert (person.card_number, person._alias, person._gender, person.likeness_index) == (
            None,
            None,
            None,
            None,
        )
        assert (
            uow.session.scalars(
                select(NightRegistration).where(NightRegistration.person_id == card.id)
            ).all()
            == []
        )
        assert uow.session.scalars(select(Exclusion)).all() == []
        the_run = uow.session.get(AllocationRun, summary.run_id)
        assert the_run is not None and the_run._inputs is None and the_run._result is None
        assert (the_run.registered, the_run.placed, the_run.turned_away) == (2, 2, 0)
        residue = uow.session.scalars(
            select(PurgeRecord).where(PurgeRecord.unit_id == card.id)
        ).one()
        assert (residue.programme, residue.gender, residue.country_of_origin, residue.age_band) == (
            "C",
            "woman",
            "Påhittien",
            "30_49",
        )
        assert not uow.session.scalars(
            select(DataKey).where(DataKey.person_id == card.id, DataKey.wrapped.is_not(None))
        ).all()
        assert audit_integrity.verify(uow.session).ok
    # The nights given per night are statistics: the same after the purge.
    assert _nights_given(app) == given_before
    if settings.uses_sqlite:
        raw = _sqlite_bytes(settings)
        for canary in (CANARY_ALIAS, CANARY_OVERRIDE, CANARY_EXCLUSION, card.card_number):
            assert [f for f in encodings(canary) if f in raw] == [], canary
