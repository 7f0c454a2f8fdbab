"""Emergency access ("break the glass"): a social worker of another district reads a child's
record only after giving a reason, only for a few hours, only to read, and the DPO is told."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from audit.actions import Action
from config import ConfigError, Settings, load_settings
from referral import clock
from referral.actors import Actor, Origin
from referral.auth.sessions import SessionPolicy, load_session, open_session
from referral.db.audit_log import AuditEntry
from referral.db.base import utcnow
from referral.db.emergency import EmergencyGrant
from referral.db.models import Organisation, User
from referral.db.people import Child, ConsentRecord, Guardian, district_holder
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound, NotPermitted
from referral.policy import Permission, can, in_scope
from referral.request_scope import request_session
from referral.roles import Role
from referral.scopes import KeyScope
from referral.services import (
    audit_alerts,
    child_record,
    children,
    consent,
    emergency_access,
    referrals,
    subject_access,
)
from tests.factories import Account, Factory, invented_personnummer

CHILD_NAME = "Nödbarn Qvaxl"
REASON = "Barnet har avvikit och hittats av socialjouren i natt; placeringen måste kontrolleras."
POLICY = SessionPolicy(idle=timedelta(hours=1), absolute=timedelta(hours=8))


def _actor(app: Flask, account: Account, now: datetime | None = None) -> Actor:
    """The actor as a request builds it: from a verified session, grants loaded at `now`."""
    with app.app_context():
        db = request_session()
        user = db.get(User, account.user.id)
        assert user is not None
        token = open_session(db, user, mfa_verified=True)
        db.commit()
        live = load_session(db, token, POLICY, now)
        assert live is not None
        return live.actor(Origin.command_line())


def _child_of(
    app: Flask, owner: Actor, personnummer: str | None = None
) -> children.RegisteredChild:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return children.register_child(
            uow,
            owner,
            children.NewChild(personnummer or invented_personnummer(2014, 8, 8), CHILD_NAME),
        )


def _read(app: Flask, actor: Actor, child_id: str) -> child_record.ChildRecord:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return child_record.read_child_record(uow, actor, child_id, clock.today())


def _break_glass(
    app: Flask, actor: Actor, child_id: str, reason: str = REASON, now: datetime | None = None
) -> EmergencyGrant:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return emergency_access.break_glass(uow, actor, child_id, reason, now or utcnow())


def _grants(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(EmergencyGrant)) or 0)


def _entries(app: Flask, actor: Actor, action: Action) -> list[AuditEntry]:
    with app.app_context():
        return list(
            request_session().scalars(
                select(AuditEntry)
                .where(AuditEntry.actor_id == actor.user_id, AuditEntry.action == action.value)
                .order_by(AuditEntry.sequence)
            )
        )


@pytest.fixture
def owner(app: Flask, factory: Factory) -> Actor:
    return _actor(app, factory.account("social_worker"))


@pytest.fixture
def stranger(factory: Factory) -> Account:
    """A social worker of another district."""
    return factory.account("social_worker")


def test_a_social_worker_of_another_district_is_refused_without_a_grant_and_reads_with_one(
    app: Flask, owner: Actor, stranger: Account
) -> None:
    child = _child_of(app, owner)
    with pytest.raises(NotFound):
        _read(app, _actor(app, stranger), child.id)

    _break_glass(app, _actor(app, stranger), child.id)

    assert _read(app, _actor(app, stranger), child.id).name == CHILD_NAME


@pytest.mark.asvs("V16.3.2")
def test_every_read_through_a_grant_is_logged_with_the_legal_basis_emergency_access(
    app: Flask, owner: Actor, stranger: Account
) -> None:
    child = _child_of(app, owner)
    _break_glass(app, _actor(app, stranger), child.id)
    reader = _actor(app, stranger)
    _read(app, reader, child.id)
    _read(app, reader, child.id)
    _read(app, owner, child.id)

    emergency_reads = _entries(app, reader, Action.CHILD_READ)
    assert [e.legal_basis for e in emergency_reads] == ["emergency_access", "emergency_access"]
    assert {e.subject_id for e in emergency_reads} == {child.id}
    assert [e.legal_basis for e in _entries(app, owner, Action.CHILD_READ)] == [None]


@pytest.mark.parametrize("reason", ["", "   ", "akut", " x " * 3])
def test_a_reason_shorter_than_ten_characters_is_refused_by_name_and_grants_nothing(
    app: Flask, owner: Actor, stranger: Account, reason: str
) -> None:
    child = _child_of(app, owner)
    with pytest.raises(InvalidInput) as refused:
        _break_glass(app, _actor(app, stranger), child.id, reason)
    assert refused.value.field == "reason" and refused.value.status == 422
    assert _grants(app) == 0
    with pytest.raises(NotFound):
        _read(app, _actor(app, stranger), child.id)


def test_a_grant_lasts_the_configured_hours_and_then_no_longer_opens_the_record(
    app: Flask, owner: Actor, stranger: Account
) -> None:
    child = _child_of(app, owner)
    four_hours_ago = utcnow() - timedelta(hours=4)
    grant = _break_glass(app, _actor(app, stranger), child.id, now=four_hours_ago)
    assert grant.expires_at - grant.granted_at == timedelta(hours=3)

    with pytest.raises(NotFound):
        _read(app, _actor(app, stranger), child.id)
    # The same grant was live while its three hours ran.
    assert _actor(app, stranger, four_hours_ago + timedelta(hours=2)).emergency_children == {
        child.id
    }


@pytest.mark.parametrize("role", ["group_leader", "link_worker", "dpo", "admin"])
def test_no_role_but_the_social_worker_may_break_the_glass(
    app: Flask, factory: Factory, owner: Actor, role: str
) -> None:
    child = _child_of(app, owner)
    other = _actor(app, factory.account(role))
    with pytest.raises(NotPermitted):
        _break_glass(app, other, child.id)
    with app.app_context(), UnitOfWork(request_session()) as uow, pytest.raises(NotPermitted):
        emergency_access.find_child_anywhere(uow, other, invented_personnummer(2014, 8, 8))
    assert _grants(app) == 0


def test_a_grant_lets_the_social_worker_read_but_never_change_the_record(
    app: Flask, factory: Factory, owner: Actor, stranger: Account
) -> None:
    child = _child_of(app, owner)
    partner = factory.organisation("partner")
    _break_glass(app, _actor(app, stranger), child.id)
    reader = _actor(app, stranger)
    changes = {
        "placement": lambda uow: consent.record_placement(
            uow, reader, child.id, "SoL", today=clock.today()
        ),
        "guardian": lambda uow: consent.add_guardian(
            uow, reader, child.id, "Vh", None, True, today=clock.today()
        ),
        "details": lambda uow: children.update_details(
            uow, reader, child.id, children.ChildDetails(gender="girl")
        ),
        "referral": lambda uow: referrals.create_referral(
            uow, reader, referrals.NewReferral(child.id, partner.id, "weekly"), today=clock.today()
        ),
        "consent": lambda uow: consent.record_consent(
            uow,
            reader,
            child.id,
            consent.ConsentInput(
                party="child",
                decision="given",
                categories=("name",),
                decided_on=clock.today(),
                valid_until=clock.today() + timedelta(days=30),
                method="written",
                description_version="A-2026:1",
            ),
            today=clock.today(),
        ),
    }
    for change in changes.values():
        with (
            app.app_context(),
            UnitOfWork(request_session()) as uow,
            pytest.raises(NotPermitted, match="read the child's record, and nothing more"),
        ):
            change(uow)
    with app.app_context():
        db = request_session()
        stored = db.get(Child, child.id)
        assert stored is not None and stored.placement_basis is None and stored.gender is None
        for model in (Guardian, ConsentRecord, Referral):
            assert db.scalar(select(func.count()).select_from(model)) == 0, model


def test_a_grant_unlocks_reading_only_and_only_for_social_workers() -> None:
    child = Child(id="c-1", district_id="farsta")
    worker = Actor(
        "u",
        "u",
        "skarpnack",
        frozenset({Role.SOCIAL_WORKER}),
        emergency_children=frozenset({"c-1"}),
    )
    assert can(worker, Permission.CHILD_READ, child)
    for change in (
        Permission.CHILD_UPDATE,
        Permission.PLACEMENT_RECORD,
        Permission.GUARDIAN_CREATE,
        Permission.CONSENT_RECORD,
        Permission.CONSENT_FORM_READ,
        Permission.REFERRAL_CREATE,
    ):
        assert not can(worker, change, child), change
    assert not in_scope(worker, child), "without a permission named, a grant unlocks nothing"
    assert not can(worker, Permission.CHILD_READ, Child(id="c-2", district_id="farsta"))
    leader = Actor(
        "l", "l", "bris", frozenset({Role.GROUP_LEADER}), emergency_children=frozenset({"c-1"})
    )
    assert not in_scope(leader, child, Permission.CHILD_READ)


def test_the_city_wide_look_up_tells_only_that_another_district_holds_a_record(
    app: Flask, owner: Actor, stranger: Account
) -> None:
    personnummer = invented_personnummer(2013, 9, 9)
    child = _child_of(app, owner, personnummer)
    searcher = _actor(app, stranger)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        found = emergency_access.find_child_anywhere(uow, searcher, personnummer)
        nothing = emergency_access.find_child_anywhere(
            uow, searcher, invented_personnummer(2013, 9, 10)
        )
    assert found == [emergency_access.RecordElsewhere(child.id)]
    assert nothing == []
    with app.app_context(), UnitOfWork(request_session()) as uow:
        own = emergency_access.find_child_anywhere(uow, owner, personnummer)
    assert own == [], "the owner's own child needs no emergency access"
    searches = _entries(app, searcher, Action.EMERGENCY_SEARCH)
    assert [(e.subject_id, e.object_id) for e in searches] == [
        (child.id, child.id),
        (None, "no-match"),
    ]


def test_breaking_the_glass_for_a_child_of_ones_own_district_is_refused_as_needless(
    app: Flask, factory: Factory
) -> None:
    district = factory.organisation("district")
    owner = _actor(app, factory.account("social_worker", district))
    colleague = _actor(app, factory.account("social_worker", district))
    child = _child_of(app, owner)
    with pytest.raises(Conflict):
        _break_glass(app, colleague, child.id)
    assert _grants(app) == 0


def test_the_reason_is_stored_sealed_and_the_dpo_reads_it_in_a_logged_review(
    app: Flask, factory: Factory, owner: Actor, stranger: Account
) -> None:
    child = _child_of(app, owner)
    grant = _break_glass(app, _actor(app, stranger), child.id)
    with app.app_context():
        raw = (
            request_session()
            .execute(text("SELECT reason FROM emergency_grants WHERE id = :id"), {"id": grant.id})
            .one()
        )
    assert REASON.encode() not in bytes(raw.reason)

    dpo = _actor(app, factory.account("dpo"))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        (review,) = emergency_access.grants_for_review(uow, dpo, utcnow())
    assert (review.username, review.child_id, review.reason) == (
        stranger.username,
        child.id,
        REASON,
    )
    assert review.live
    reviews = _entries(app, dpo, Action.EMERGENCY_REVIEW)
    assert {(e.object_type, e.subject_id) for e in reviews} == {
        ("emergency_grant", child.id),
        ("emergency_grants", None),
    }


def test_the_childs_access_report_shows_the_emergency_access_and_its_reason(
    app: Flask, factory: Factory, owner: Actor, stranger: Account
) -> None:
    personnummer = invented_personnummer(2012, 10, 10)
    child = _child_of(app, owner, personnummer)
    _break_glass(app, _actor(app, stranger), child.id)
    dpo = _actor(app, factory.account("dpo"))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        report = subject_access.subject_access_report(uow, dpo, personnummer)
    (line,) = [line for line in report.lines if line.action_code == "emergency:access"]
    assert (line.actor_name, line.legal_basis, line.purpose) == (
        stranger.username,
        "emergency_access",
        REASON,
    )


def test_every_emergency_access_raises_an_alert_for_the_dpo(
    app: Flask, factory: Factory, settings: Settings, owner: Actor, stranger: Account
) -> None:
    child = _child_of(app, owner)
    _break_glass(app, _actor(app, stranger), child.id)
    dpo = _actor(app, factory.account("dpo"))
    with app.app_context(), UnitOfWork(request_session()) as uow:
        found = audit_alerts.alerts(uow, dpo, settings)
    emergencies = [a for a in found if a.kind == "emergency_access"]
    assert [(a.who, a.subject) for a in emergencies] == [(stranger.username, child.id)]


def test_a_grant_is_sealed_under_the_childs_district_key(
    app: Flask, owner: Actor, stranger: Account
) -> None:
    child = _child_of(app, owner)
    grant = _break_glass(app, _actor(app, stranger), child.id)
    with app.app_context():
        stored = request_session().get(EmergencyGrant, grant.id)
        district = request_session().get(Organisation, owner.organisation_id)
        assert stored is not None and district is not None
        assert stored.district_id == district.id != stranger.user.organisation_id
        assert stored.key_scope() == KeyScope(child.id, district_holder(district.id))


SECRETS = {
    f"REFERRAL_{name}": secrets.token_urlsafe(48)
    for name in ("SECRET_KEY", "MFA_KEY", "BLIND_INDEX_KEY", "AUDIT_KEY")
}


def test_emergency_access_lasts_three_hours_unless_the_environment_says_otherwise() -> None:
    assert load_settings(SECRETS).emergency_access_hours == 3
    assert (
        load_settings({**SECRETS, "REFERRAL_EMERGENCY_ACCESS_HOURS": "1"}).emergency_access_hours
        == 1
    )
    for refused in ("0", "25", "three"):
        with pytest.raises(ConfigError, match="REFERRAL_EMERGENCY_ACCESS_HOURS"):
            load_settings({**SECRETS, "REFERRAL_EMERGENCY_ACCESS_HOURS": refused})
