"""Programme B: one youth, one record. Records with the same alias, birth year and country are
proposed as likely the same youth; linking them is reversible and audited, an unlinked or
dismissed pair is not proposed again, a record cannot be linked with itself, and while two
records are linked a hand-over needs a basis in both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import duplicates, link_cases, outreach
from referral.services.link_cases import NewLinkCase, NewStep, NewYouthConsent
from tests.factories import Factory

TODAY = date(2027, 3, 3)


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


def _link_worker(factory: Factory) -> Actor:
    partner = factory.organisation("partner")
    account = factory.account("link_worker", partner)
    return Actor(account.user.id, account.username, partner.id, frozenset({Role.LINK_WORKER}))


def _youth(uow: UnitOfWork, worker: Actor, alias: str = "Ali", country: str = "Somalia") -> str:
    new = outreach.NewYouth(alias=alias, birth_year=2010, country_of_origin=country)
    return outreach.register_youth(uow, worker, new, TODAY).id


def test_likely_duplicates_are_proposed_linked_reversibly_and_not_proposed_again(
    uow: UnitOfWork, factory: Factory
) -> None:
    worker = _link_worker(factory)
    first = _youth(uow, worker, "Ali")
    second = _youth(uow, worker, " ali ")
    _youth(uow, worker, "Ali", "Eritrea")  # another country: not proposed
    assert [c.id for c in duplicates.candidates_for(uow, worker, first)] == [second]
    assert [c.id for c in duplicates.candidates_for(uow, worker, second)] == [first]

    link = duplicates.link_records(uow, worker, first, second)
    assert duplicates.candidates_for(uow, worker, first) == []
    with pytest.raises(Conflict):
        duplicates.link_records(uow, worker, second, first)
    duplicates.unlink_records(uow, worker, link.id)
    assert duplicates.candidates_for(uow, worker, first) == []  # unlinked: not proposed again
    actions = list(
        uow.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == link.id)
            .order_by(AuditEntry.sequence)
        )
    )
    assert actions == ["youth:link", "youth:link", "youth:unlink", "youth:unlink"]


def test_a_dismissed_pair_leaves_the_queue_and_a_record_is_not_linked_with_itself(
    uow: UnitOfWork, factory: Factory
) -> None:
    worker = _link_worker(factory)
    first, second = _youth(uow, worker), _youth(uow, worker)
    with pytest.raises(InvalidInput) as itself:
        duplicates.link_records(uow, worker, first, first)
    assert itself.value.field == "other_id"
    duplicates.dismiss_pair(uow, worker, first, second)
    assert duplicates.candidates_for(uow, worker, second) == []
    other = _link_worker(factory)
    with pytest.raises(NotFound):
        duplicates.link_records(uow, other, first, second)
    with pytest.raises(NotFound):
        duplicates.candidates_for(uow, other, first)


def test_while_two_records_are_linked_the_more_restrictive_consent_wins(
    uow: UnitOfWork, factory: Factory
) -> None:
    worker = _link_worker(factory)
    first, second = _youth(uow, worker), _youth(uow, worker)
    consent = NewYouthConsent(
        "police", "Anmälan", ("identity",), "god_man", TODAY, TODAY + timedelta(days=30)
    )
    link_cases.record_consent(uow, worker, first, consent, TODAY)
    case = link_cases.open_case(uow, worker, NewLinkCase(first, "police", "x", TODAY), TODAY)
    link_cases.record_step(uow, worker, case.id, NewStep("contact_made", TODAY, TODAY), TODAY)
    duplicates.link_records(uow, worker, first, second)
    hand_over = NewStep("handed_over", TODAY, TODAY, categories=("identity",))
    with pytest.raises(InvalidInput) as refused:
        link_cases.record_step(uow, worker, case.id, hand_over, TODAY)
    assert refused.value.field == "categories"
    link_cases.record_consent(uow, worker, second, consent, TODAY)
    done = link_cases.record_step(uow, worker, case.id, hand_over, TODAY)
    assert [d.category for d in done.disclosures] == ["identity"]
