"""A social worker refers an SoL child; the partner sees nothing until both custodial
guardians have consented, then only name and age; a withdrawal cuts access at once."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.referrals import Referral, ReferralEvent
from referral.db.uow import UnitOfWork
from referral.errors import InvalidTransition, NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.rules import Status
from referral.services import children, consent, referrals
from tests.factories import Factory, invented_personnummer, social_worker_actor


@pytest.fixture(autouse=True)
def published_description(factory: Factory) -> None:
    """The consents below cite version A-2026:1 of the activity description."""
    factory.activity_description("A-2026:1")


def _given(party: str, categories: tuple[str, ...] = ("name", "age")) -> consent.ConsentInput:
    return consent.ConsentInput(
        party=party,
        decision="given",
        categories=categories,
        decided_on=clock.today(),
        valid_until=clock.today() + timedelta(days=120),
        method="written",
        description_version="A-2026:1",
    )


def _status(uow: UnitOfWork, referral_id: str) -> str | None:
    """The referral's status as stored now (a fresh query, not a row held from earlier)."""
    return uow.session.scalar(select(Referral.status).where(Referral.id == referral_id))


def _leader(partner_id: str) -> Actor:
    return Actor("leader-1", "gruppledare-test", partner_id, frozenset({Role.GROUP_LEADER}))


@pytest.mark.asvs("V8.2.3")
def test_the_partner_sees_the_child_only_after_both_consents_and_only_name_and_age(
    app: Flask, factory: Factory
) -> None:
    worker = social_worker_actor(factory)
    partner = factory.organisation("partner")
    leader = _leader(partner.id)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, worker, children.NewChild(invented_personnummer(2015, 3, 3), "Delningsbarn")
        )
        consent.record_placement(uow, worker, child.id, "SoL", today=clock.today())
        mother = consent.add_guardian(
            uow, worker, child.id, "Mor", "070-1", True, today=clock.today()
        )
        father = consent.add_guardian(
            uow, worker, child.id, "Far", "070-2", True, today=clock.today()
        )
        referral = referrals.create_referral(
            uow,
            worker,
            referrals.NewReferral(child.id, partner.id, "weekly", "Känslig anteckning"),
            today=clock.today(),
        )
        submitted = referrals.submit_referral(uow, worker, referral.id, clock.today())
        assert submitted.status == Status.AWAITING_CONSENT
        assert _status(uow, referral.id) == Status.AWAITING_CONSENT
        assert referrals.partner_inbox(uow, leader, clock.today()) == []

        consent.record_consent(uow, worker, child.id, _given(mother.id), today=clock.today())
        assert referrals.partner_inbox(uow, leader, clock.today()) == []
        consent.record_consent(uow, worker, child.id, _given(father.id), today=clock.today())
        inbox = referrals.partner_inbox(uow, leader, clock.today())
        assert _status(uow, referral.id) == Status.SHARED
        assert [asdict(v) for v in inbox] == [
            {
                "referral_id": referral.id,
                "status": "shared",
                "preferred_format": "weekly",
                "name": "Delningsbarn",
                "age": inbox[0].age,
                # contact details were not consented to: the family home is not shown
                "family_home_name": None,
                "family_home_address": None,
                "family_home_phone": None,
            }
        ]
        assert "Känslig" not in repr(inbox) and "Mor" not in repr(inbox)

        referrals.respond(uow, leader, referral.id, accept=True, today=clock.today())
        withdrawal = consent.ConsentInput(
            party=father.id,
            decision="withdrawn",
            categories=(),
            decided_on=clock.today(),
            valid_until=clock.today(),
            method="oral",
            description_version="A-2026:1",
        )
        consent.record_consent(uow, worker, child.id, withdrawal, today=clock.today())
        assert referrals.partner_inbox(uow, leader, clock.today()) == []
        with pytest.raises(NotFound):
            referrals.respond(uow, leader, referral.id, accept=False, today=clock.today())
        reads = uow.session.scalars(
            select(AuditEntry).where(
                AuditEntry.subject_id == child.id, AuditEntry.action == "referral:read"
            )
        ).all()
        assert reads and {r.legal_basis for r in reads} == {"sol_consent"}


def test_an_lvu_child_is_shared_at_once_on_the_decision(app: Flask, factory: Factory) -> None:
    worker = social_worker_actor(factory)
    partner = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, worker, children.NewChild(invented_personnummer(2012, 2, 2), "Lvu Barnsson")
        )
        consent.record_placement(
            uow,
            worker,
            child.id,
            "LVU",
            "Beslut 17/2026",
            "Farsta SDN",
            date(2026, 1, 15),
            today=clock.today(),
        )
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner.id, "weekend"), today=clock.today()
        )
        referrals.submit_referral(uow, worker, referral.id, clock.today())
        inbox = referrals.partner_inbox(uow, _leader(partner.id), clock.today())
        reads = uow.session.scalars(
            select(AuditEntry.legal_basis).where(
                AuditEntry.subject_id == child.id, AuditEntry.action == "referral:read"
            )
        ).all()
    # The partner sees name and age (the default decision under LVU) and never why: the
    # basis is in the access log for the DPO, not in what the partner is shown.
    assert [(v.name, v.age is not None, v.family_home_name) for v in inbox] == [
        ("Lvu Barnsson", True, None)
    ]
    assert not hasattr(inbox[0], "legal_basis")
    assert reads == ["lvu"]


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_another_partner_never_sees_the_referral(app: Flask, factory: Factory) -> None:
    worker = social_worker_actor(factory)
    partner, other = factory.organisation("partner"), factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, worker, children.NewChild(invented_personnummer(2012, 2, 3), "Annan partner")
        )
        consent.record_placement(
            uow,
            worker,
            child.id,
            "LVU",
            "Beslut 18/2026",
            "Farsta SDN",
            date(2026, 1, 15),
            today=clock.today(),
        )
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner.id, "weekly"), today=clock.today()
        )
        referrals.submit_referral(uow, worker, referral.id, clock.today())
        assert referrals.partner_inbox(uow, _leader(other.id), clock.today()) == []
        with pytest.raises(NotFound):
            referrals.respond(uow, _leader(other.id), referral.id, accept=True, today=clock.today())


@pytest.mark.asvs("V2.3.1")
def test_an_illegal_transition_is_refused_with_the_reason(app: Flask, factory: Factory) -> None:
    worker = social_worker_actor(factory)
    partner = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, worker, children.NewChild(invented_personnummer(2012, 2, 4), "Övergång")
        )
        referral = referrals.create_referral(
            uow, worker, referrals.NewReferral(child.id, partner.id, "weekly"), today=clock.today()
        )
        withdrawn = referrals.withdraw_referral(uow, worker, referral.id)
        assert withdrawn.status == Status.CANCELLED
        with pytest.raises(InvalidTransition) as refused:
            referrals.submit_referral(uow, worker, referral.id, clock.today())
        steps = uow.session.scalars(
            select(ReferralEvent.to_status)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.at)
        ).all()
        assert refused.value.status == 409 and "cancelled" in refused.value.message
        assert _status(uow, referral.id) == Status.CANCELLED
        assert steps == ["draft", "cancelled"]
