"""Programme B, linking: a link case takes a youth to an authority in ordered, dated steps;
at hand-over each category goes only on a basis that holds that day (from 18 the youth's own
consent, under 18 a god man's or a guardian's, or social services); a revoked consent stops
the next hand-over; the district sees only what was handed over to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.outreach import Disclosure, LinkCase
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import link_cases, outreach
from referral.services.link_cases import NewLinkCase, NewStep, NewYouthConsent
from tests.factories import Factory, invented_personnummer, social_worker_actor

TODAY = date(2027, 3, 3)


@dataclass
class World:
    worker: Actor
    other: Actor
    district: Organisation
    district_worker: Actor


def _link_worker(factory: Factory) -> Actor:
    partner = factory.organisation("partner")
    account = factory.account("link_worker", partner)
    return Actor(account.user.id, account.username, partner.id, frozenset({Role.LINK_WORKER}))


@pytest.fixture
def uow(app: Flask) -> Iterator[UnitOfWork]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


@pytest.fixture
def world(factory: Factory) -> World:
    district = factory.organisation("district")
    return World(
        _link_worker(factory),
        _link_worker(factory),
        district,
        social_worker_actor(factory, district),
    )


def _youth(uow: UnitOfWork, world: World, born: date) -> str:
    new = outreach.NewYouth(
        alias="Farid",
        personnummer=invented_personnummer(born.year, born.month, born.day),
        dossier_number="87654321",
        situation="absconded",
    )
    return outreach.register_youth(uow, world.worker, new, TODAY).id


def _consent(**changes: Any) -> NewYouthConsent:
    base = NewYouthConsent(
        authority="migrationsverket",
        purpose="Kontakt om asylärendet",
        categories=("identity", "situation"),
        given_by="god_man",
        valid_from=TODAY,
        valid_until=TODAY + timedelta(days=90),
    )
    return replace(base, **changes)


def _case(uow: UnitOfWork, world: World, youth_id: str, **changes: Any) -> str:
    new = replace(
        NewLinkCase(youth_id, "migrationsverket", "Återuppta kontakten", TODAY), **changes
    )
    return link_cases.open_case(uow, world.worker, new, TODAY).id


def _to_contact(uow: UnitOfWork, world: World, case_id: str) -> None:
    step = NewStep("contact_made", TODAY, next_due_on=TODAY + timedelta(days=3))
    link_cases.record_step(uow, world.worker, case_id, step, TODAY)


def _hand_over(uow: UnitOfWork, world: World, case_id: str, *categories: str) -> Any:
    step = NewStep("handed_over", TODAY, TODAY + timedelta(days=7), categories=categories)
    return link_cases.record_step(uow, world.worker, case_id, step, TODAY)


SEVENTEEN = date(2009, 6, 1)
EIGHTEEN = date(2008, 6, 1)


def test_a_minor_is_handed_over_on_the_god_mans_consent_with_the_categories_recorded(
    uow: UnitOfWork, world: World
) -> None:
    youth_id = _youth(uow, world, SEVENTEEN)
    consent = link_cases.record_consent(uow, world.worker, youth_id, _consent(), TODAY)
    case_id = _case(uow, world, youth_id)
    _to_contact(uow, world, case_id)
    handed = _hand_over(uow, world, case_id, "identity", "situation")
    assert [(d.category, d.basis, d.consent_id) for d in handed.disclosures] == [
        ("identity", "representative_consent", consent.id),
        ("situation", "representative_consent", consent.id),
    ]
    assert [s.step for s in handed.steps] == ["initiated", "contact_made", "handed_over"]
    bases = set(
        uow.session.scalars(
            select(AuditEntry.legal_basis).where(AuditEntry.action == "handover:disclose")
        )
    )
    assert bases == {"representative_consent"}


def test_a_category_the_consent_does_not_cover_is_not_handed_over(
    uow: UnitOfWork, world: World
) -> None:
    youth_id = _youth(uow, world, SEVENTEEN)
    link_cases.record_consent(uow, world.worker, youth_id, _consent(), TODAY)
    case_id = _case(uow, world, youth_id)
    _to_contact(uow, world, case_id)
    with pytest.raises(InvalidInput) as refused:
        _hand_over(uow, world, case_id, "identity", "needs")
    assert refused.value.field == "categories" and "needs" in refused.value.message
    assert list(uow.session.scalars(select(Disclosure))) == []


@pytest.mark.parametrize(
    ("born", "given_by", "allowed"),
    [
        (SEVENTEEN, "youth", False),  # 17: not alone
        (SEVENTEEN, "god_man", True),
        (SEVENTEEN, "guardian", True),
        (EIGHTEEN, "youth", True),  # 18: alone
        (EIGHTEEN, "god_man", False),
    ],
)
def test_whose_consent_counts_follows_the_age_on_the_day(
    uow: UnitOfWork, world: World, born: date, given_by: str, allowed: bool
) -> None:
    youth_id = _youth(uow, world, born)
    if allowed:
        link_cases.record_consent(uow, world.worker, youth_id, _consent(given_by=given_by), TODAY)
        return
    with pytest.raises(InvalidInput) as refused:
        link_cases.record_consent(uow, world.worker, youth_id, _consent(given_by=given_by), TODAY)
    assert refused.value.field == "given_by"


def test_social_services_acting_must_name_its_provision(uow: UnitOfWork, world: World) -> None:
    youth_id = _youth(uow, world, SEVENTEEN)
    with pytest.raises(InvalidInput) as refused:
        link_cases.record_consent(
            uow, world.worker, youth_id, _consent(given_by="social_services"), TODAY
        )
    assert refused.value.field == "legal_reference"
    made = link_cases.record_consent(
        uow,
        world.worker,
        youth_id,
        _consent(given_by="social_services", legal_reference="SoL 11 kap. 1 §"),
        TODAY,
    )
    assert made.given_by == "social_services"


def test_a_revoked_consent_stops_the_next_hand_over(uow: UnitOfWork, world: World) -> None:
    youth_id = _youth(uow, world, SEVENTEEN)
    consent = link_cases.record_consent(uow, world.worker, youth_id, _consent(), TODAY)
    case_id = _case(uow, world, youth_id)
    _to_contact(uow, world, case_id)
    link_cases.revoke_consent(uow, world.worker, consent.id)
    with pytest.raises(InvalidInput) as refused:
        _hand_over(uow, world, case_id, "identity")
    assert refused.value.field == "categories"


def test_a_youth_who_turns_eighteen_during_the_case_must_now_consent_alone(
    uow: UnitOfWork, world: World
) -> None:
    born = TODAY - timedelta(days=18 * 365)  # turns 18 within the week
    youth_id = _youth(uow, world, date(born.year, TODAY.month, TODAY.day) + timedelta(days=2))
    link_cases.record_consent(uow, world.worker, youth_id, _consent(), TODAY)
    case_id = _case(uow, world, youth_id)
    _to_contact(uow, world, case_id)
    later = TODAY + timedelta(days=5)
    (view,) = link_cases.cases_of(uow, world.worker, youth_id, later)
    assert view.needs_own_consent
    step = NewStep("handed_over", later, later + timedelta(days=7), categories=("identity",))
    with pytest.raises(InvalidInput) as refused:
        link_cases.record_step(uow, world.worker, case_id, step, later)
    assert "From 18" in refused.value.message


@pytest.mark.parametrize(
    ("step", "field"),
    [
        (NewStep("handed_over", TODAY, TODAY, categories=("identity",)), "step"),  # skips one
        (NewStep("contact_made", TODAY - timedelta(days=1), TODAY), "done_on"),  # before
        (NewStep("contact_made", TODAY + timedelta(days=1), TODAY), "done_on"),  # future
        (NewStep("contact_made", TODAY), "next_due_on"),
        (NewStep("teleported", TODAY, TODAY), "step"),
    ],
)
def test_a_step_out_of_order_or_misdated_names_the_field_and_writes_nothing(
    uow: UnitOfWork, world: World, step: NewStep, field: str
) -> None:
    case_id = _case(uow, world, _youth(uow, world, SEVENTEEN))
    with pytest.raises(InvalidInput) as refused:
        link_cases.record_step(uow, world.worker, case_id, step, TODAY)
    assert refused.value.field == field
    (view,) = link_cases.cases_of(uow, world.worker, _youth_of(uow, world, case_id), TODAY)
    assert view.step == "initiated"


def _youth_of(uow: UnitOfWork, world: World, case_id: str) -> str:
    case = uow.session.get(LinkCase, case_id)
    assert case is not None
    return case.youth_id


def test_an_unknown_authority_or_another_partners_youth_is_refused(
    uow: UnitOfWork, world: World
) -> None:
    youth_id = _youth(uow, world, SEVENTEEN)
    with pytest.raises(InvalidInput) as unknown:
        link_cases.open_case(
            uow, world.worker, NewLinkCase(youth_id, "the king", "x", TODAY), TODAY
        )
    assert unknown.value.field == "authority"
    with pytest.raises(NotFound):
        link_cases.open_case(uow, world.other, NewLinkCase(youth_id, "police", "x", TODAY), TODAY)


def test_the_district_sees_only_what_was_handed_over_to_it(
    uow: UnitOfWork, factory: Factory, world: World
) -> None:
    youth_id = _youth(uow, world, SEVENTEEN)
    link_cases.record_consent(
        uow,
        world.worker,
        youth_id,
        _consent(authority="district_social_services", categories=("identity",)),
        TODAY,
    )
    case_id = _case(
        uow, world, youth_id, authority="district_social_services", district_id=world.district.id
    )
    assert link_cases.handovers_to_district(uow, world.district_worker) == []
    _to_contact(uow, world, case_id)
    _hand_over(uow, world, case_id, "identity")
    (handover,) = link_cases.handovers_to_district(uow, world.district_worker)
    assert handover.categories == ("identity",) and handover.alias == "Farid"
    assert handover.situation is None  # not handed over
    assert "87654321" in handover.identifiers
    other_district = social_worker_actor(factory)
    assert link_cases.handovers_to_district(uow, other_district) == []
