"""Activity descriptions: the city publishes versioned texts per programme and partner; a
published text never changes, the newest is current, and a consent given must cite one."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from config.settings import Settings
from referral import clock
from referral.actors import Actor
from referral.db.activity import ActivityDescription, ImmutableVersion
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.demo import BRIS_DESCRIPTION, BRIS_DESCRIPTION_VERSION, PARTNER
from referral.errors import Conflict, InvalidInput, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import activity_descriptions, children, consent, referrals
from referral.services.activity_descriptions import (
    SUPPORT_GROUP,
    DescriptionView,
    NewDescription,
)
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import SYSTEM, Factory, invented_personnummer, social_worker_actor


def _publish(
    app: Flask, partner: Organisation, version: str, text: str = "Text", actor: Actor = SYSTEM
) -> DescriptionView:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return activity_descriptions.publish(
            uow, actor, NewDescription(SUPPORT_GROUP, partner.id, version, text)
        )


def test_publishing_a_new_version_makes_it_current_and_keeps_the_old_one(
    app: Flask, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    first = _publish(app, partner, "2026:1", "Första texten")
    second = _publish(app, partner, "2026:2", "Andra texten")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        current = activity_descriptions.current_description(uow.session, SUPPORT_GROUP, partner.id)
        assert current is not None and current.id == second.id
        assert current.text == "Andra texten"
        versions = activity_descriptions.list_versions(uow, SYSTEM, partner_id=partner.id)
        assert [(v.id, v.version, v.text) for v in versions] == [
            (second.id, "2026:2", "Andra texten"),
            (first.id, "2026:1", "Första texten"),
        ]


def test_each_partner_has_its_own_current_description(app: Flask, factory: Factory) -> None:
    bris, other = factory.organisation("partner"), factory.organisation("partner")
    _publish(app, bris, "2026:1", "Bris text")
    _publish(app, other, "2026:1", "Annan text")
    _publish(app, other, "2026:2", "Annan text, rättad")
    with app.app_context():
        db = request_session()
        bris_current = activity_descriptions.current_description(db, SUPPORT_GROUP, bris.id)
        nothing = activity_descriptions.current_description(db, "link_cases", bris.id)
    assert bris_current is not None and bris_current.text == "Bris text"
    assert nothing is None


def test_a_published_version_can_neither_be_republished_nor_edited(
    app: Flask, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    published = _publish(app, partner, "2026:1", "Det guardians fick")
    with pytest.raises(Conflict) as refused:
        _publish(app, partner, " 2026:1 ", "En annan text")
    assert refused.value.field == "version" and refused.value.status == 409
    with app.app_context(), UnitOfWork(request_session()) as uow:
        stored = uow.session.get(ActivityDescription, published.id)
        assert stored is not None
        stored.text = "Ändrad i efterhand"
        with pytest.raises(ImmutableVersion):
            uow.session.flush()
    with app.app_context(), UnitOfWork(request_session()) as uow:
        stored = uow.session.get(ActivityDescription, published.id)
        assert stored is not None
        uow.session.delete(stored)
        with pytest.raises(ImmutableVersion):
            uow.session.flush()
    with app.app_context():
        again = request_session().get(ActivityDescription, published.id)
    assert again is not None and again.text == "Det guardians fick"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"programme": "knitting"}, "programme"),
        ({"version": "  "}, "version"),
        ({"version": "v" * 41}, "version"),
        ({"text": ""}, "text"),
        ({"partner_id": "no-such-organisation"}, "partner_id"),
    ],
)
def test_bad_input_names_the_field_and_publishes_nothing(
    app: Flask, factory: Factory, change: dict[str, str], field: str
) -> None:
    partner = factory.organisation("partner")
    new = replace(NewDescription(SUPPORT_GROUP, partner.id, "2026:1", "Text"), **change)
    count = select(func.count()).select_from(ActivityDescription)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        before = uow.session.scalar(count)
        with pytest.raises(InvalidInput) as refused:
            activity_descriptions.publish(uow, SYSTEM, new)
        assert refused.value.field == field and refused.value.status == 422
        assert uow.session.scalar(count) == before


def test_a_description_is_published_for_a_partner_not_for_a_district(
    app: Flask, factory: Factory
) -> None:
    district = factory.organisation("district")
    with pytest.raises(InvalidInput) as refused:
        _publish(app, district, "2026:1")
    assert refused.value.field == "partner_id"


def test_only_the_city_publishes_not_a_group_leader_or_a_social_worker(
    app: Flask, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    leader = Actor("leader", "gruppledare", partner.id, frozenset({Role.GROUP_LEADER}))
    for actor in (leader, social_worker_actor(factory)):
        with pytest.raises(NotPermitted):
            _publish(app, partner, "2026:1", actor=actor)
    admin = Actor("admin", "admin", None, frozenset({Role.ADMIN}))
    published = _publish(app, partner, "2026:1", actor=admin)
    with app.app_context():
        stored = request_session().get(ActivityDescription, published.id)
    assert stored is not None and stored.published_by == "admin"


def test_publishing_is_recorded_without_a_subject(app: Flask, factory: Factory) -> None:
    published = _publish(app, factory.organisation("partner"), "2026:1")
    with app.app_context():
        entries = request_session().scalars(
            select(AuditEntry).where(AuditEntry.object_type == "activity_description")
        )
        found = [
            (e.action, e.subject_id, e.actor_name) for e in entries if e.object_id == published.id
        ]
    assert found == [("activity_description:publish", None, SYSTEM.username)]


def _child_with_custodian(app: Flask, actor: Actor) -> tuple[str, str]:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2015, 5, 5), "Versionsbarn")
        )
        consent.record_placement(uow, actor, child.id, "SoL", today=clock.today())
        guardian = consent.add_guardian(
            uow, actor, child.id, "Ensam Vårdnadshavare", None, True, today=clock.today()
        )
        return child.id, guardian.id


def _given(party: str, version: str, decision: str = "given") -> consent.ConsentInput:
    return consent.ConsentInput(
        party=party,
        decision=decision,
        categories=("name", "age") if decision == "given" else (),
        decided_on=clock.today(),
        valid_until=clock.today() + timedelta(days=90),
        method="written",
        description_version=version,
    )


def test_a_consent_citing_an_unpublished_version_is_refused_naming_the_field(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    child_id, guardian_id = _child_with_custodian(app, actor)
    with (
        app.app_context(),
        UnitOfWork(request_session()) as uow,
        pytest.raises(InvalidInput) as refused,
    ):
        consent.record_consent(
            uow, actor, child_id, _given(guardian_id, "2026:1"), today=clock.today()
        )
    assert refused.value.field == "description_version" and refused.value.status == 422
    assert "2026:1" in refused.value.message


def test_a_consent_may_cite_a_version_published_for_any_partner_of_the_programme(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    child_id, guardian_id = _child_with_custodian(app, actor)
    _publish(app, factory.organisation("partner"), "Bris 2026:1")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        recorded = consent.record_consent(
            uow, actor, child_id, _given(guardian_id, "Bris 2026:1"), today=clock.today()
        )
    assert recorded.description_version == "Bris 2026:1"


def test_a_withdrawal_is_never_blocked_by_an_unpublished_version_label(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    child_id, guardian_id = _child_with_custodian(app, actor)
    _publish(app, factory.organisation("partner"), "2026:1")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        consent.record_consent(
            uow, actor, child_id, _given(guardian_id, "2026:1"), today=clock.today()
        )
        withdrawn = consent.record_consent(
            uow,
            actor,
            child_id,
            _given(guardian_id, "före 2026", decision="withdrawn"),
            today=clock.today(),
        )
    assert withdrawn.decision == "withdrawn" and withdrawn.description_version == "före 2026"


def test_the_programme_of_referrals_is_one_descriptions_can_be_published_for() -> None:
    assert referrals.PROGRAMME in activity_descriptions.PROGRAMMES


def test_the_demo_publishes_the_bris_description_written_from_the_agreement(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the loader writes its credentials file under instance/
    with app_in_rolled_back_transaction(replace(settings, demo_mode=True)) as app:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            db = request_session()
            bris = db.scalar(select(Organisation).where(Organisation.name == PARTNER.name))
            assert bris is not None
            current = activity_descriptions.current_description(db, SUPPORT_GROUP, bris.id)
            assert current is not None and current.version == BRIS_DESCRIPTION_VERSION
            text = current.text
    assert text == BRIS_DESCRIPTION.strip()
    for fact in (
        "åtta träffar om två timmar",  # the weekly format
        "stödhelg",  # or the weekend
        "stödgruppsledare",  # who leads the groups
        "namn, ålder och kontaktuppgifter",  # all Bris gets, and only with consent
        "när som helst",  # consent can be withdrawn at any time
        "gallras",  # purged when the group ends
    ):
        assert fact in text.lower(), fact
