"""Programme B, outreach: a link worker records encounters (anonymous ones hold no identity at
all), registers youths up to and including 20 once (found again by any identifier), and links
an anonymous encounter to a youth who agrees, reversibly. Another organisation's worker finds
none of it; bad input names the field and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.encryption import EncryptedText
from referral.db.outreach import Encounter, Youth
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import outreach
from referral.services.outreach import NewEncounter, NewYouth
from tests.factories import Factory, invented_personnummer

TODAY = date(2027, 3, 3)


@dataclass
class World:
    worker: Actor  # a link worker of Rädda Barnen (test)
    other: Actor  # a link worker of another partner


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
    return World(_link_worker(factory), _link_worker(factory))


def _youth(**changes: Any) -> NewYouth:
    return replace(NewYouth(alias="Ahmad (alias)", country_of_origin="Afghanistan"), **changes)


def _count(uow: UnitOfWork, model: type) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_anonymous_encounter_stores_no_identity(uow: UnitOfWork, world: World) -> None:
    met = outreach.record_encounter(
        uow,
        world.worker,
        NewEncounter(TODAY, "sergels_torg", ("basic_needs", "supportive_talk"), "boy", "15_17"),
        TODAY,
    )
    assert met.youth_id is None and met.needs == ("basic_needs", "supportive_talk")
    row = uow.session.get(Encounter, met.id)
    assert row is not None and row.youth_id is None
    columns = inspect(Encounter).columns
    assert not [c.name for c in columns if isinstance(c.type, EncryptedText)]
    stored = {c.name: getattr(row, c.key) for c in columns}
    # Only what the follow-up counts, and who recorded it; nothing that names the youth.
    assert {k for k, v in stored.items() if v is not None} == {
        "id",
        "organisation_id",
        "worker_id",
        "occurred_on",
        "place",
        "needs",
        "gender",
        "age_band",
        "created_at",
    }
    (entry,) = uow.session.scalars(select(AuditEntry).where(AuditEntry.object_id == met.id))
    assert entry.subject_id is None


def test_a_youth_is_registered_once_and_found_again_by_any_identifier(
    uow: UnitOfWork, world: World
) -> None:
    personnummer = invented_personnummer(2010, 5, 5)
    registered = outreach.register_youth(
        uow,
        world.worker,
        _youth(personnummer=personnummer, lma_number="12-345678-9", dossier_number="1234-5678"),
        TODAY,
    )
    for identifier in (personnummer, "123456789", "12345678", personnummer[2:]):
        (match,) = outreach.find_youths(uow, world.worker, identifier)
        assert match.id == registered.id
    with pytest.raises(Conflict) as twice:
        outreach.register_youth(uow, world.worker, _youth(dossier_number="12345678"), TODAY)
    assert twice.value.field == "dossier_number"
    # Another organisation's worker finds nothing, and cannot open the record.
    assert outreach.find_youths(uow, world.other, "12345678") == []
    with pytest.raises(NotFound):
        outreach.read_youth(uow, world.other, registered.id, TODAY)
    assert [y.id for y in outreach.youths(uow, world.other, TODAY)] == []
    record = outreach.read_youth(uow, world.worker, registered.id, TODAY)
    assert (record.age, record.country_of_origin) == (16, "Afghanistan")


@pytest.mark.parametrize("identifier", ["0", "123", "1234567", "1234567890123"])
def test_a_number_no_identifier_has_the_length_of_finds_nothing(
    uow: UnitOfWork, world: World, identifier: str
) -> None:
    outreach.register_youth(uow, world.worker, _youth(dossier_number="12345678"), TODAY)
    assert outreach.find_youths(uow, world.worker, identifier) == []


@pytest.mark.parametrize("identifier", ["١٢٣٤٥٦٧٨", "１２３４５６７８", "12 34 abc"])
def test_a_lookup_by_anything_but_ascii_digits_is_refused_naming_the_field(
    uow: UnitOfWork, world: World, identifier: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        outreach.find_youths(uow, world.worker, identifier)
    assert refused.value.field == "identifier"


def test_a_samordningsnummer_is_an_identifier_like_a_personnummer(
    uow: UnitOfWork, world: World
) -> None:
    samordningsnummer = invented_personnummer(2009, 7, 71)  # day 11 + 60
    registered = outreach.register_youth(
        uow, world.worker, _youth(personnummer=samordningsnummer), TODAY
    )
    assert outreach.read_youth(uow, world.worker, registered.id, TODAY).birth_date == "2009-07-11"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"personnummer": invented_personnummer(2006, 3, 2)}, "personnummer"),  # 21 on 2027-03-03
        ({"birth_year": 2005}, "birth_year"),  # 21 or 22 by now
        ({"birth_year": 2028}, "birth_year"),
        ({"personnummer": invented_personnummer(2010, 1, 1), "birth_year": 2011}, "birth_year"),
        ({"personnummer": "201001011234"}, "personnummer"),  # fails the check digit
        ({"lma_number": "12-34"}, "lma_number"),
        ({"dossier_number": "ABCD-1234"}, "dossier_number"),
        # Digits of other scripts (Arabic-Indic, full width) are no card's number.
        ({"dossier_number": "١٢٣٤٥٦٧٨"}, "dossier_number"),
        ({"lma_number": "１２３４５６７８"}, "lma_number"),
        ({"alias": "  "}, "alias"),
        ({"situation": "wandering"}, "situation"),
        ({"district_id": "no-such-district"}, "district_id"),
    ],
)
def test_bad_youth_input_names_the_field_and_writes_nothing(
    uow: UnitOfWork, world: World, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        outreach.register_youth(uow, world.worker, _youth(**changes), TODAY)
    assert refused.value.field == field
    assert _count(uow, Youth) == 0


def test_twenty_is_in_and_the_day_of_the_twenty_first_birthday_is_out(
    uow: UnitOfWork, world: World
) -> None:
    outreach.register_youth(
        uow, world.worker, _youth(personnummer=invented_personnummer(2006, 3, 4)), TODAY
    )
    with pytest.raises(InvalidInput):
        outreach.register_youth(
            uow, world.worker, _youth(personnummer=invented_personnummer(2006, 3, 3)), TODAY
        )


def test_an_anonymous_encounter_is_linked_to_a_youth_who_agrees_and_unlinked_again(
    uow: UnitOfWork, world: World
) -> None:
    met = outreach.record_encounter(
        uow, world.worker, NewEncounter(TODAY - timedelta(days=7), "centralstationen"), TODAY
    )
    youth = outreach.register_youth(uow, world.worker, _youth(), TODAY)
    with pytest.raises(NotFound):
        outreach.link_encounter(uow, world.other, met.id, youth.id)
    linked = outreach.link_encounter(uow, world.worker, met.id, youth.id)
    assert linked.youth_id == youth.id
    with pytest.raises(Conflict):
        outreach.link_encounter(uow, world.worker, met.id, youth.id)
    assert [e.id for e in outreach.read_youth(uow, world.worker, youth.id, TODAY).encounters] == [
        met.id
    ]
    outreach.unlink_encounter(uow, world.worker, met.id)
    assert outreach.read_youth(uow, world.worker, youth.id, TODAY).encounters == ()
    actions = list(
        uow.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == met.id)
            .order_by(AuditEntry.sequence)
        )
    )
    assert actions == ["encounter:record", "encounter:link", "encounter:unlink"]


@pytest.mark.parametrize(
    ("encounter", "field"),
    [
        (NewEncounter(TODAY + timedelta(days=1), "sergels_torg"), "occurred_on"),
        (NewEncounter(TODAY, "the moon"), "place"),
        (NewEncounter(TODAY, "sergels_torg", ("hugs",)), "needs"),
        (NewEncounter(TODAY, "sergels_torg", age_band="ancient"), "age_band"),
    ],
)
def test_bad_encounter_input_names_the_field_and_writes_nothing(
    uow: UnitOfWork, world: World, encounter: NewEncounter, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        outreach.record_encounter(uow, world.worker, encounter, TODAY)
    assert refused.value.field == field
    assert _count(uow, Encounter) == 0


def test_an_encounter_cannot_name_another_organisations_youth(
    uow: UnitOfWork, world: World
) -> None:
    theirs = outreach.register_youth(uow, world.other, _youth(), TODAY)
    with pytest.raises(NotFound) as refused:
        outreach.record_encounter(
            uow, world.worker, NewEncounter(TODAY, "sergels_torg", youth_id=theirs.id), TODAY
        )
    assert refused.value.field == "youth_id"
    assert _count(uow, Encounter) == 0
