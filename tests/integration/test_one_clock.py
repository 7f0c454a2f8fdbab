"""One clock for the whole service: Stockholm's calendar day, UTC instants, and every stamp
(models, the access log, checkpoints) taken from it, so a test that freezes it freezes all."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral import clock
from referral.db.audit_log import AuditEntry
from referral.db.base import utcnow
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from tests.conftest import FrozenClock
from tests.factories import SYSTEM


def test_today_is_stockholms_day_whatever_the_hour_in_utc(frozen_clock: FrozenClock) -> None:
    assert clock.today() == date(2027, 3, 1)
    frozen_clock.move(seconds=60)  # 23:00:30 UTC is half past midnight in Stockholm
    assert clock.now().date() == date(2027, 3, 1)
    assert clock.today() == date(2027, 3, 2)


@pytest.mark.asvs("V16.2.2")
def test_model_stamps_and_access_log_entries_take_the_services_time(
    app: Flask, frozen_clock: FrozenClock
) -> None:
    frozen_clock.move(days=30)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        recorded = record(uow.session, SYSTEM, Action.AUDIT_VERIFY)
        uow.commit()
        occurred_at = uow.session.scalars(
            select(AuditEntry.occurred_at).where(AuditEntry.sequence == recorded.sequence)
        ).one()
    assert utcnow() == datetime(2027, 3, 31, 22, 59, 30, tzinfo=UTC)
    assert occurred_at == "2027-03-31T22:59:30.000000Z"
