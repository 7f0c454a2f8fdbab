"""Consent as the district records it: the partner's ground for seeing a child appears only
when every custodial guardian has consented, and disappears the moment one withdraws."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import event, select

from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.people import Child, ConsentRecord
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound
from referral.request_scope import request_session
from referral.rules import BasisKind, Category, LawfulBasis, NotLawful
from referral.services import children, consent, sharing
from tests.factories import Factory, child_row, invented_personnummer, social_worker_actor

VERSION = "IOP-A 2026:1"


@pytest.fixture(autouse=True)
def published_description(factory: Factory) -> None:
    """Consents given cite a published activity description."""
    factory.activity_description(VERSION)


def _consent(party: str, decision: str = "given", categories=("name", "age", "contact_details")):  # type: ignore[no-untyped-def]
    return consent.ConsentInput(
        party=party,
        decision=decision,
        categories=categories,
        decided_on=clock.today(),
        valid_until=clock.today() + timedelta(days=120),
        method="written",
        description_version=VERSION,
    )


def _sol_child(uow: UnitOfWork, actor: Actor) -> tuple[Child, str, str]:
    child = child_row(
        uow,
        children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2015, 4, 4), "Samtyckesbarn")
        ),
    )
    consent.record_placement(uow, actor, child.id, "SoL", today=clock.today())
    mother = consent.add_guardian(
        uow, actor, child.id, "Mamma Exempel", "070-000 00 01", True, today=clock.today()
    )
    father = consent.add_guardian(
        uow, actor, child.id, "Pappa Exempel", None, True, today=clock.today()
    )
    return child, mother.id, father.id


def test_sharing_needs_both_guardians_and_ends_when_one_withdraws(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child, mother, father = _sol_child(uow, actor)
        assert isinstance(
            sharing.sharing_basis_for(uow, child, Category.NAME, clock.today()), NotLawful
        )
        consent.record_consent(uow, actor, child.id, _consent(mother), today=clock.today())
        assert isinstance(
            sharing.sharing_basis_for(uow, child, Category.NAME, clock.today()), NotLawful
        )
        consent.record_consent(uow, actor, child.id, _consent(father), today=clock.today())
        basis = sharing.sharing_basis_for(uow, child, Category.NAME, clock.today())
        assert isinstance(basis, LawfulBasis) and basis.kind is BasisKind.SOL_CONSENT
        assert isinstance(
            sharing.sharing_basis_for(uow, child, Category.PARTICIPATION, clock.today()), NotLawful
        ), "participation was not among the categories consented to"
        consent.record_consent(
            uow, actor, child.id, _consent(father, "withdrawn", ()), today=clock.today()
        )
        assert isinstance(
            sharing.sharing_basis_for(uow, child, Category.NAME, clock.today()), NotLawful
        )
        consent.record_consent(uow, actor, child.id, _consent(father), today=clock.today())
        assert isinstance(
            sharing.sharing_basis_for(uow, child, Category.NAME, clock.today()), LawfulBasis
        )
        actions = [
            e.action
            for e in uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_id == child.id)
                .order_by(AuditEntry.sequence)
            )
        ]
    assert actions.count("consent:record") == 3 and actions.count("consent:withdraw") == 1


def test_a_long_history_of_decisions_is_read_as_each_partys_latest_one_only(
    app: Flask, factory: Factory
) -> None:
    """Renewals and withdrawals accumulate (the records are append-only); reading what may
    be shared loads each party's latest decision, not the whole history."""
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child, mother, father = _sol_child(uow, actor)
        for _ in range(10):
            consent.record_consent(uow, actor, child.id, _consent(mother), today=clock.today())
            consent.record_consent(uow, actor, child.id, _consent(father), today=clock.today())
            withdrawn = _consent(father, "withdrawn", ())
            consent.record_consent(uow, actor, child.id, withdrawn, today=clock.today())
        only_name = _consent(mother, categories=("name",))
        consent.record_consent(uow, actor, child.id, only_name, today=clock.today())
        loaded: list[str] = []

        def seen(row: ConsentRecord, _context: object) -> None:
            loaded.append(row.party)

        uow.session.expunge_all()  # what the records above left in the session is not a read
        event.listen(ConsentRecord, "load", seen)
        try:
            facts = sharing.sharing_facts(uow, [child.id])[child.id]
        finally:
            event.remove(ConsentRecord, "load", seen)

    assert sorted(loaded) == sorted([mother, father])
    decisions = {c.party: (c.decision.value, sorted(c.categories)) for c in facts.consents}
    assert decisions == {mother: ("given", ["name"]), father: ("withdrawn", [])}


def test_an_lvu_placement_is_shared_on_its_documented_decision(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = child_row(
            uow,
            children.register_child(
                uow, actor, children.NewChild(invented_personnummer(2014, 6, 6), "Lvubarn")
            ),
        )
        with pytest.raises(InvalidInput) as refused:
            consent.record_placement(uow, actor, child.id, "LVU", today=clock.today())
        assert refused.value.field == "lvu_decision"
        with pytest.raises(InvalidInput) as undated:
            consent.record_placement(
                uow, actor, child.id, "LVU", "Beslut nr 17", "Farsta SDN", today=clock.today()
            )
        assert undated.value.field == "lvu_decided_on"
        consent.record_placement(
            uow,
            actor,
            child.id,
            "LVU",
            "Beslut 2026-10-01 nr 17",
            "Farsta SDN",
            date(2026, 1, 15),
            today=clock.today(),
        )
        # Name and age by default; the contact details only once the social worker decides.
        basis = sharing.sharing_basis_for(uow, child, Category.NAME, clock.today())
        assert basis == LawfulBasis(BasisKind.LVU, "Beslut 2026-10-01 nr 17")
        assert isinstance(
            sharing.sharing_basis_for(uow, child, Category.AGE, clock.today()), LawfulBasis
        )
        for undecided in (Category.CONTACT, Category.PARTICIPATION):
            assert sharing.sharing_basis_for(uow, child, undecided, clock.today()) == NotLawful(
                "Under LVU, the social worker has not decided to share this category."
            )
        consent.decide_lvu_sharing(uow, actor, child.id, ["name", "contact_details"], clock.today())
        assert sharing.sharing_basis_for(uow, child, Category.CONTACT, clock.today()) == basis
        assert isinstance(
            sharing.sharing_basis_for(uow, child, Category.AGE, clock.today()), NotLawful
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"party": "not-a-guardian"}, "party"),
        ({"categories": ("name", "shoe_size")}, "categories"),
        ({"decision": "maybe"}, "decision"),
        ({"valid_until": date(2020, 1, 1)}, "valid_until"),  # before any decision made today
        ({"method": "telepathy"}, "method"),
        ({"description_version": "IOP-A 1999:9"}, "description_version"),
    ],
)
def test_bad_consent_input_names_the_field_and_writes_nothing(
    app: Flask, factory: Factory, change: dict[str, object], field: str
) -> None:
    from dataclasses import replace

    from referral.db.people import ConsentRecord

    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child, mother, _father = _sol_child(uow, actor)
        with pytest.raises(InvalidInput) as refused:
            consent.record_consent(
                uow, actor, child.id, replace(_consent(mother), **change), today=clock.today()
            )  # type: ignore[arg-type]
        assert refused.value.field == field
        assert (
            uow.session.scalars(
                select(ConsentRecord).where(ConsentRecord.child_id == child.id)
            ).all()
            == []
        )


def test_another_districts_child_is_not_found(app: Flask, factory: Factory) -> None:
    owner = social_worker_actor(factory)
    stranger = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, owner, children.NewChild(invented_personnummer(2013, 9, 9), "Annans barn")
        )
        child_id = child.id
    with app.app_context(), pytest.raises(NotFound), UnitOfWork(request_session()) as uow:
        consent.record_placement(uow, stranger, child_id, "SoL", today=clock.today())
