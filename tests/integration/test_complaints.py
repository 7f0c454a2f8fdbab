"""Complaints and suggestions (synpunkter och klagomål, issue 15): a partner's staff see their
own programme's feedback only and the city's coordinator every programme's; the response is
recorded with its date, which may be neither before the feedback nor in the future; opening
one is on record first; the summary counts exactly what was sent, and a purge two years after
the response shreds what was written while the summary stays the same."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from config.settings import Settings
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.complaints import Complaint
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import complaints
from referral.services.complaints import NewComplaint
from tests.conftest import FrozenClock
from tests.factories import Factory
from tests.integration.test_gallring import _run, own_app

__all__ = ["own_app"]  # the purge test's own database

RECEIVED = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Stockholm
CANARY = "Personalen på Zyxvägen var otrevlig mot mig"


def _actor(factory: Factory, role: Role) -> Actor:
    kind = "partner" if role in (Role.GROUP_LEADER, Role.LINK_WORKER, Role.NIGHT_STAFF) else "city"
    organisation = factory.organisation(kind)
    account = factory.account(role.value, organisation)
    return Actor(account.user.id, account.username, organisation.id, frozenset({role}))


def _submit(
    app: Flask,
    programme: str,
    kind: str = "complaint",
    category: str = "treatment",
    text: str = "Det var för kallt i lokalen.",
    contact: str | None = None,
    now: datetime = RECEIVED,
) -> str:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        receipt = complaints.submit_public(
            uow, NewComplaint(programme, kind, category, text, contact), now
        )
    with app.app_context():
        found = request_session().scalars(select(Complaint.id)).all()
    return next(i for i in found if complaints.reference_of(i) == receipt.reference)


def _count(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(Complaint)) or 0)


def test_a_partner_sees_only_their_programme_and_the_coordinator_sees_every_one(
    app: Flask, factory: Factory
) -> None:
    a, b, c = _submit(app, "A"), _submit(app, "B"), _submit(app, "C")
    leader = _actor(factory, Role.GROUP_LEADER)
    night = _actor(factory, Role.NIGHT_STAFF)
    coordinator = _actor(factory, Role.COORDINATOR)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        assert [line.id for line in complaints.list_for(uow, leader)] == [a]
        assert [line.id for line in complaints.list_for(uow, night)] == [c]
        assert {line.id for line in complaints.list_for(uow, coordinator)} == {a, b, c}
        assert complaints.list_for(uow, leader, programme="C") == []
        # Opening another programme's answers as for one that does not exist.
        with pytest.raises(NotFound) as refused:
            complaints.read(uow, leader, c)
        assert refused.value.field == "complaint_id"
        assert complaints.read(uow, coordinator, c).text == "Det var för kallt i lokalen."


def test_staff_record_feedback_on_a_participants_behalf_for_their_own_programme_only(
    app: Flask, factory: Factory
) -> None:
    worker = _actor(factory, Role.LINK_WORKER)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        line = complaints.record_on_behalf(
            uow, worker, NewComplaint("B", "suggestion", "activities", "Mer fotboll."), RECEIVED
        )
        assert (line.programme, line.channel) == ("B", "staff")
        with pytest.raises(InvalidInput) as refused:
            complaints.record_on_behalf(
                uow, worker, NewComplaint("A", "complaint", "other", "Fel program."), RECEIVED
            )
    assert refused.value.field == "programme"
    assert _count(app) == 1


def test_feedback_without_text_is_refused_naming_the_field_and_nothing_is_kept(
    app: Flask,
) -> None:
    for text in ("", "   "):
        with (
            app.app_context(),
            UnitOfWork(request_session()) as uow,
            pytest.raises(InvalidInput) as refused,
        ):
            complaints.submit_public(uow, NewComplaint("A", "complaint", "safety", text), RECEIVED)
        assert refused.value.field == "text"
    with (
        app.app_context(),
        UnitOfWork(request_session()) as uow,
        pytest.raises(InvalidInput) as unknown,
    ):
        complaints.submit_public(uow, NewComplaint("D", "complaint", "safety", "X"), RECEIVED)
    assert unknown.value.field == "programme"
    assert _count(app) == 0


def test_responding_records_the_outcome_and_the_date_and_ends_the_wait(
    app: Flask, factory: Factory
) -> None:
    complaint_id = _submit(app, "A")
    leader = _actor(factory, Role.GROUP_LEADER)
    answered_at = RECEIVED + timedelta(days=6)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        waiting = complaints.list_for(uow, leader, open_only=True, today=date(2027, 3, 7))
        assert [(line.id, line.days) for line in waiting] == [(complaint_id, 4)]
        line = complaints.respond(
            uow, leader, complaint_id, "changed", "Vi har satt upp ett element.",
            date(2027, 3, 8), answered_at,
        )  # fmt: skip
        assert (line.responded_on, line.outcome, line.days) == (date(2027, 3, 8), "changed", 5)
        assert complaints.list_for(uow, leader, open_only=True) == []
        detail = complaints.read(uow, leader, complaint_id)
        assert detail.response == "Vi har satt upp ett element."
        assert not detail.may_respond


@pytest.mark.parametrize(
    "responded_on",
    [date(2027, 3, 2), date(2027, 3, 11)],
    ids=["before the feedback was received", "in the future"],
)
def test_a_response_dated_before_receipt_or_after_today_is_refused_naming_the_date(
    app: Flask, factory: Factory, responded_on: date
) -> None:
    complaint_id = _submit(app, "A")
    leader = _actor(factory, Role.GROUP_LEADER)
    today = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    with (
        app.app_context(),
        UnitOfWork(request_session()) as uow,
        pytest.raises(InvalidInput) as refused,
    ):
        complaints.respond(uow, leader, complaint_id, "noted", "Svar.", responded_on, today)
    assert refused.value.field == "responded_on"
    with app.app_context():
        row = request_session().get(Complaint, complaint_id)
        assert row is not None and row.responded_on is None and row._response is None


@pytest.mark.asvs("V14.2.4")
def test_opening_feedback_is_on_record_and_its_text_is_never_stored_in_clear(
    app: Flask, factory: Factory
) -> None:
    complaint_id = _submit(app, "C", text=CANARY, contact="070-123 45 67")
    night = _actor(factory, Role.NIGHT_COORDINATOR)

    def reads() -> list[str]:
        with app.app_context():
            return list(
                request_session().scalars(
                    select(AuditEntry.actor_id).where(
                        AuditEntry.action == "complaint:read", AuditEntry.object_id == complaint_id
                    )
                )
            )

    assert reads() == []
    with app.app_context(), UnitOfWork(request_session()) as uow:
        detail = complaints.read(uow, night, complaint_id)
    assert (detail.text, detail.contact) == (CANARY, "070-123 45 67")
    assert reads() == [night.user_id]
    with app.app_context():
        row = request_session().get(Complaint, complaint_id)
        assert row is not None
        assert CANARY.encode() not in row._text.blob  # type: ignore[union-attr]


def _summary(app: Flask, programme: str | None) -> list[complaints.SummaryLine]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return complaints.summary(uow, programme, date(2027, 1, 1), date(2027, 6, 30))


def test_the_summary_counts_what_was_sent_and_the_days_to_each_response(
    app: Flask, factory: Factory
) -> None:
    leader = _actor(factory, Role.GROUP_LEADER)
    sent = [
        ("treatment", "complaint", 3),
        ("treatment", "complaint", 10),
        ("treatment", "complaint", None),
        ("treatment", "praise", None),
        ("safety", "complaint", 1),
        ("places", "suggestion", 0),
    ]
    for n, (category, kind, days) in enumerate(sent):
        received = RECEIVED + timedelta(days=n)
        complaint_id = _submit(app, "A", kind, category, now=received)
        if days is not None:
            with app.app_context(), UnitOfWork(request_session()) as uow:
                complaints.respond(
                    uow, leader, complaint_id, "explained", "Svar.",
                    received.date() + timedelta(days=days), received + timedelta(days=days),
                )  # fmt: skip
    _submit(app, "B", "complaint", "treatment")  # another programme: not in A's summary
    _submit(app, "A", now=datetime(2027, 7, 1, 9, tzinfo=UTC))  # after the period

    expected: dict[tuple[str, str], list[int | None]] = {}
    for category, kind, days in sent:
        expected.setdefault((category, kind), []).append(days)
    found = {(line.category, line.kind): line for line in _summary(app, "A")}
    assert set(found) == set(expected)
    for key, all_days in expected.items():
        answered = [d for d in all_days if d is not None]
        line = found[key]
        assert (line.count, line.responded) == (len(all_days), len(answered))
        assert line.median_days == (statistics.median(answered) if answered else None)
        assert line.worst_days == (max(answered) if answered else None)
    assert sum(line.count for line in _summary(app, None)) == len(sent) + 1


@pytest.mark.asvs("V14.2.7")
def test_a_purge_two_years_after_the_response_shreds_the_text_and_leaves_the_summary(
    own_app: tuple[Flask, Settings], frozen_clock: FrozenClock
) -> None:
    app, settings = own_app
    factory = Factory(app, settings)
    leader = _actor(factory, Role.GROUP_LEADER)
    frozen_clock.moment = RECEIVED
    complaint_id = _submit(app, "A", text=CANARY, contact="Zyx Kontaktsson")
    open_id = _submit(app, "A", "suggestion", "premises", text="Öppna fönstren.")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        complaints.respond(
            uow, leader, complaint_id, "changed", "Vi pratade med Zyxvägens personal.",
            date(2027, 3, 5), RECEIVED + timedelta(days=2),
        )  # fmt: skip
    before = _summary(app, "A")

    frozen_clock.moment = RECEIVED + timedelta(days=settings.complaint_retention_days + 3)
    _run(app, settings)

    assert _summary(app, "A") == before
    with app.app_context(), UnitOfWork(request_session()) as uow:
        row = uow.session.get(Complaint, complaint_id)
        assert row is not None and row.purged_at is not None
        assert (row._text, row._contact, row._response) == (None, None, None)
        assert (row.category, row.outcome, row.responded_on) == (
            "treatment",
            "changed",
            date(2027, 3, 5),
        )
        with pytest.raises(NotFound):
            complaints.read(uow, leader, complaint_id)
        # The unanswered one waits for its response.
        assert [line.id for line in complaints.list_for(uow, leader)] == [open_id]
        assert complaints.read(uow, leader, open_id).text == "Öppna fönstren."
