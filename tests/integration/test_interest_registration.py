"""Interest registrations (intresseanmälan): a family home contacts the partner directly, the
partner records it, and it reaches the responsible district. Social services is informed before
participation starts: only the district's confirmation makes a referral, and the partner then
sees the child only once consent (or LVU) allows it. Every read and change is in the access log
under the registration's own key scope."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.groups import Enrolment
from referral.db.interest import InterestRegistration
from referral.db.models import Organisation
from referral.db.notifications import Notification
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound, NotPermitted
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, groups, interest, notifications, referrals
from tests.factories import Factory, invented_personnummer, social_worker_actor

TODAY = date(2027, 3, 1)
DESCRIPTION = "A-2027:1"
CHILD_NAME = "Intressebarn Qvyxa"
CONTACT = "Familjehemmet Zorbesson, 070-111 22 33"


@dataclass
class World:
    district: Organisation
    worker: Actor  # a social worker of the responsible district
    partner: Organisation
    leader: Actor  # a group leader of the partner


def _leader_of(factory: Factory, partner: Organisation) -> Actor:
    account = factory.account("group_leader", organisation=partner)
    return Actor(account.user.id, account.username, partner.id, frozenset({Role.GROUP_LEADER}))


@pytest.fixture
def world(factory: Factory) -> World:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    return World(
        district, social_worker_actor(factory, district), partner, _leader_of(factory, partner)
    )


def _new(world: World, personnummer: str | None = None) -> interest.NewInterest:
    return interest.NewInterest(
        child_name=CHILD_NAME,
        personnummer=personnummer or invented_personnummer(2016, 5, 1),
        district_id=world.district.id,
        family_home_contact=CONTACT,
        received_on=TODAY - timedelta(days=2),
    )


def _register(uow: UnitOfWork, world: World, **changes: Any) -> interest.RegistrationState:
    return interest.register_interest(uow, world.leader, replace(_new(world), **changes), TODAY)


def _consent_of_the_only_guardian(uow: UnitOfWork, world: World, child_id: str) -> None:
    consent.record_placement(uow, world.worker, child_id, "SoL", today=TODAY)
    guardian = consent.add_guardian(
        uow, world.worker, child_id, "Vårdnadshavare", None, True, today=TODAY
    )
    consent.record_consent(
        uow,
        world.worker,
        child_id,
        consent.ConsentInput(
            party=guardian.id,
            decision="given",
            categories=("name", "age"),
            decided_on=TODAY,
            valid_until=TODAY + timedelta(days=180),
            method="written",
            description_version=DESCRIPTION,
        ),
        today=TODAY,
    )


def _count(uow: UnitOfWork, model: type) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _entries(uow: UnitOfWork, **where: object) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.sequence)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(uow.session.scalars(query))


# --- the main path ---------------------------------------------------------------------------


def test_the_district_confirms_a_registration_and_a_referral_awaits_consent(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registration = _register(uow, world)

        (waiting,) = interest.district_queue(uow, world.worker)
        assert (waiting.child_name, waiting.family_home_contact) == (CHILD_NAME, CONTACT)
        assert waiting.partner_name == world.partner.name

        confirmed = interest.confirm(uow, world.worker, registration.id, TODAY)
        assert confirmed.child_registered and confirmed.referral_status == "awaiting_consent"
        referral = uow.session.get(Referral, confirmed.referral_id)
        assert referral is not None
        assert (referral.partner_id, referral.district_id) == (world.partner.id, world.district.id)
        assert referral.preferred_format == "partner_decides"
        child = uow.session.get(Child, confirmed.child_id)
        assert child is not None and child.name == CHILD_NAME
        assert interest.district_queue(uow, world.worker) == []
        (mine,) = interest.partner_registrations(uow, world.leader)
        assert mine.status == "confirmed"

        # The partner still sees nothing of the child: no consent, no LVU yet.
        assert referrals.partner_inbox(uow, world.leader, TODAY) == []

        _consent_of_the_only_guardian(uow, world, confirmed.child_id)
        (shown,) = referrals.partner_inbox(uow, world.leader, TODAY)
        assert shown.name == CHILD_NAME and shown.status == "shared"


def test_a_child_the_district_already_holds_is_found_by_personnummer_not_registered_again(
    app: Flask, world: World
) -> None:
    personnummer = invented_personnummer(2015, 8, 20)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        known = children.register_child(
            uow, world.worker, children.NewChild(personnummer, "Känt Barn")
        )
        consent.record_placement(
            uow,
            world.worker,
            known.id,
            "LVU",
            "Beslut 3/2027",
            "SDN",
            date(2026, 1, 15),
            today=TODAY,
        )
        ten_digits = f"{personnummer[2:8]}-{personnummer[8:]}"
        registration = _register(uow, world, personnummer=ten_digits)

        confirmed = interest.confirm(uow, world.worker, registration.id, TODAY)

        assert confirmed.child_id == known.id and not confirmed.child_registered
        district_children = select(func.count()).where(Child.district_id == world.district.id)
        assert uow.session.scalar(district_children) == 1
        # Under LVU the referral is shared at once, with the district's own record of the name.
        (shown,) = referrals.partner_inbox(uow, world.leader, TODAY)
        assert shown.name == "Känt Barn"


def test_a_registration_not_yet_confirmed_gives_the_partner_nothing_it_could_enrol(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        _register(uow, world)
        assert referrals.partner_inbox(uow, world.leader, TODAY) == []
        assert groups.year_overview(uow, world.leader, TODAY.year, TODAY).children_waiting == 0
        partner_referrals = select(func.count()).where(Referral.partner_id == world.partner.id)
        assert uow.session.scalar(partner_referrals) == 0


def test_participation_cannot_start_if_a_linked_registration_is_not_confirmed(
    app: Flask, world: World
) -> None:
    """The defensive check: even if a registration naming a referral were reset to received,
    the child's participation could not start."""
    with app.app_context(), UnitOfWork(request_session()) as uow:
        confirmed = interest.confirm(uow, world.worker, _register(uow, world).id, TODAY)
        child = uow.session.get(Child, confirmed.child_id)
        assert child is not None
        enrolment = Enrolment(referral_id=confirmed.referral_id)  # not saved: the rule only
        rule = "responsible district has confirmed"

        ready = groups.participation_start_refusals(uow, enrolment, child, TODAY)
        assert not any(rule in reason for reason in ready)

        uow.session.execute(
            update(InterestRegistration)
            .where(InterestRegistration.id == confirmed.registration_id)
            .values(status="received")
        )
        refused = groups.participation_start_refusals(uow, enrolment, child, TODAY)
        assert any(rule in reason for reason in refused)


# --- refusals --------------------------------------------------------------------------------


def test_an_invalid_personnummer_is_refused_by_name_and_nothing_is_written(
    app: Flask, world: World
) -> None:
    typed = "20160501-1234"  # wrong check digit
    with app.app_context(), UnitOfWork(request_session()) as uow:
        before = _count(uow, AuditEntry)
        with pytest.raises(InvalidInput) as refused:
            _register(uow, world, personnummer=typed)
        assert refused.value.field == "personnummer"
        assert typed not in refused.value.message and "2016050" not in refused.value.message
        assert _count(uow, InterestRegistration) == 0
        assert _count(uow, Notification) == 0
        assert _count(uow, AuditEntry) == before


def test_the_responsible_district_must_be_a_district_and_the_date_not_in_the_future(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        with pytest.raises(InvalidInput) as not_a_district:
            _register(uow, world, district_id=world.partner.id)
        assert not_a_district.value.field == "district_id"
        with pytest.raises(InvalidInput) as tomorrow:
            _register(uow, world, received_on=TODAY + timedelta(days=1))
        assert tomorrow.value.field == "received_on"
        assert _count(uow, InterestRegistration) == 0


def test_another_districts_social_worker_can_neither_see_nor_decide_it(
    app: Flask, world: World, factory: Factory
) -> None:
    stranger = social_worker_actor(factory)
    with app.app_context():
        with UnitOfWork(request_session()) as uow:
            registration_id = _register(uow, world).id
            assert interest.district_queue(uow, stranger) == []
        for decide in (
            lambda uow: interest.confirm(uow, stranger, registration_id, TODAY),
            lambda uow: interest.decline(uow, stranger, registration_id, None),
        ):
            with pytest.raises(NotFound), UnitOfWork(request_session()) as uow:
                decide(uow)
        with UnitOfWork(request_session()) as uow:
            denied = _entries(uow, action="access:denied", actor_id=stranger.user_id)
            assert [e.object_id for e in denied] == [registration_id, registration_id]
            registration = uow.session.get(InterestRegistration, registration_id)
            assert registration is not None and registration.status == "received"


def test_a_group_leader_cannot_confirm_or_read_the_districts_queue(
    app: Flask, world: World
) -> None:
    with app.app_context():
        with UnitOfWork(request_session()) as uow:
            registration_id = _register(uow, world).id
        with pytest.raises(NotPermitted), UnitOfWork(request_session()) as uow:
            interest.confirm(uow, world.leader, registration_id, TODAY)
        with pytest.raises(NotPermitted), UnitOfWork(request_session()) as uow:
            interest.district_queue(uow, world.leader)
        with UnitOfWork(request_session()) as uow:
            assert _count(uow, Referral) == 0


def test_a_social_worker_cannot_record_a_registration(app: Flask, world: World) -> None:
    with (
        app.app_context(),
        UnitOfWork(request_session()) as uow,
        pytest.raises(NotPermitted),
    ):
        interest.register_interest(uow, world.worker, _new(world), TODAY)


def test_a_decided_registration_cannot_be_decided_again(app: Flask, world: World) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registration_id = _register(uow, world).id
        interest.confirm(uow, world.worker, registration_id, TODAY)
        with pytest.raises(Conflict):
            interest.decline(uow, world.worker, registration_id, None)
        with pytest.raises(Conflict):
            interest.confirm(uow, world.worker, registration_id, TODAY)
        assert _count(uow, Referral) == 1


# --- the access log, notices and what the partner sees ----------------------------------------


def test_every_read_and_change_is_logged_under_the_registrations_own_key_scope(
    app: Flask, world: World
) -> None:
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registration = _register(uow, world)
        interest.partner_registrations(uow, world.leader)  # no personal data: nothing to log
        interest.district_queue(uow, world.worker)
        interest.confirm(uow, world.worker, registration.id, TODAY)

        logged = _entries(uow, subject_id=registration.id)
        assert [(e.action, e.actor_id) for e in logged] == [
            ("interest:register", world.leader.user_id),
            ("interest:read", world.worker.user_id),
            ("interest:confirm", world.worker.user_id),
        ]
        assert {e.subject_holder for e in logged} == {f"interest:{registration.id}"}
        raw = uow.session.execute(
            text(
                "SELECT child_name, personnummer, family_home_contact "
                "FROM interest_registrations WHERE id = :id"
            ),
            {"id": registration.id},
        ).one()
        assert all(bytes(value)[0] == 0x01 for value in raw)  # the ciphertext format version
        assert b"Qvyxa" not in bytes(raw.child_name) and b"Zorbesson" not in bytes(raw[2])


def test_the_district_is_told_of_a_registration_and_the_partner_of_a_decline(
    app: Flask, world: World
) -> None:
    reason = "Barnet bor i en annan kommun Xqvw"
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registration = _register(uow, world)
        (told,) = notifications.notices_for(uow, world.worker)
        assert told.kind == "interest_registered" and told.partner_name == world.partner.name
        assert told.interest_ref == registration.id[:8] and told.child_id is None

        interest.decline(uow, world.worker, registration.id, reason)

        (answer,) = notifications.notices_for(uow, world.leader)
        assert answer.kind == "interest_declined" and answer.interest_ref == registration.id[:8]
        (mine,) = interest.partner_registrations(uow, world.leader)
        assert mine.status == "declined"
        assert interest.district_queue(uow, world.worker) == []
        (declined,) = _entries(uow, action="interest:decline")
        assert declined.subject_id == registration.id
        raw_details = uow.session.execute(
            text("SELECT details FROM audit_entries WHERE id = :id"), {"id": declined.id}
        ).scalar_one()
        assert b"Xqvw" not in bytes(raw_details)  # the reason is kept sealed only
        assert _count(uow, Referral) == 0


def test_the_partners_list_shows_status_and_reference_never_the_childs_data(
    app: Flask, world: World
) -> None:
    personnummer = invented_personnummer(2016, 5, 1)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registration = _register(uow, world, personnummer=personnummer)
        (mine,) = interest.partner_registrations(uow, world.leader)
        assert (mine.reference, mine.status) == (registration.id[:8], "received")
        assert mine.district_name == world.district.name
        shown = repr(mine)
        for never_shown in (personnummer, personnummer[2:], CHILD_NAME, CONTACT):
            assert never_shown not in shown
