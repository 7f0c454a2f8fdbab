"""Interest registrations (intresseanmälan): a family home contacts a partner directly, the
partner records it for the responsible district, and the district confirms or declines it.

Social services must be informed before participation starts (domain.md §2). Here that holds
because a registration gives the partner nothing to enrol: only the district's confirmation
creates a referral, and that referral then follows the normal consent rules (SoL consent of
every custodian, or LVU) before the partner sees anything about the child. The partner sees
its own registrations by reference and status only; the personnummer it typed is never shown
back to it.

Every read of a registration's personal fields, and every change, is in the access log with
the registration's own key scope ("interest:<id>") as subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.interest import InterestRegistration, InterestStatus
from referral.db.models import Organisation
from referral.db.notifications import NoticeKind
from referral.db.uow import StepOf, UnitOfWork
from referral.errors import Conflict, InvalidInput, NotPermitted
from referral.i18n import _
from referral.policy import Permission, organisation_scope, require
from referral.roles import OrganisationKind
from referral.services import children, organisations, referrals
from referral.services.loading import get_for
from referral.services.notifications import notify_interest

MAX_NAME = children.MAX_NAME_LENGTH
MAX_CONTACT = 300
MAX_REASON = 500
# The partner chooses the format from the registrations and the child's needs (seed 004).
CONFIRMED_FORMAT = "partner_decides"
OBJECT_TYPE = "interest_registration"


@dataclass(frozen=True)
class NewInterest:
    child_name: str
    personnummer: str
    district_id: str
    family_home_contact: str
    received_on: date


@dataclass(frozen=True)
class PartnerRegistration:
    """What the partner sees of its own registration: no personal data at all."""

    registration_id: str
    reference: str  # the first eight characters of the id, as in notifications
    district_name: str
    received_on: date
    status: str
    decided_at: datetime | None


@dataclass(frozen=True)
class QueueEntry:
    """A registration waiting for the district's decision, as its social workers see it."""

    registration_id: str
    reference: str
    partner_name: str
    child_name: str
    family_home_contact: str
    received_on: date


@dataclass(frozen=True)
class RegistrationState:
    """A registration after a change (recorded, declined), by id and status: nothing the
    partner typed about the child, and not the reason for a decline."""

    id: str
    district_id: str
    received_on: date
    status: str
    decided_at: datetime | None


def registration_state(registration: InterestRegistration) -> RegistrationState:
    return RegistrationState(
        id=registration.id,
        district_id=registration.district_id,
        received_on=registration.received_on,
        status=registration.status,
        decided_at=registration.decided_at,
    )


@dataclass(frozen=True)
class Confirmation:
    registration_id: str
    referral_id: str
    child_id: str
    referral_status: str
    # True when the district had no record of the child and confirming registered one.
    child_registered: bool


def reference_of(registration_id: str) -> str:
    return registration_id[:8]


# --- the partner records ---------------------------------------------------------------------


def _own_partner(uow: UnitOfWork, actor: Actor) -> Organisation:
    organisation = (
        uow.session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    )
    if organisation is None or organisation.kind != OrganisationKind.PARTNER.value:
        raise NotPermitted(_("Interest registrations are recorded by a partner organisation."))
    return organisation


def _text(value: str, field: str, most: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > most:
        raise InvalidInput(_("Write 1-%(n)s characters.", n=most), field=field)
    return cleaned


def register_interest(
    uow: UnitOfWork, actor: Actor, new: NewInterest, today: date
) -> RegistrationState:
    """A group leader records a family home's interest registration; the district is told."""
    require(actor, Permission.INTEREST_REGISTER)
    partner = _own_partner(uow, actor)
    name = _text(new.child_name, "child_name", MAX_NAME)
    personnummer = children.plausible_personnummer(new.personnummer, today)
    district = organisations.responsible_district(uow, new.district_id)
    contact = _text(new.family_home_contact, "family_home_contact", MAX_CONTACT)
    if new.received_on > today:
        raise InvalidInput(_("The date received cannot be in the future."), field="received_on")
    registration = InterestRegistration(
        partner_id=partner.id,
        district_id=district.id,
        child_name=name,
        personnummer=personnummer,
        family_home_contact=contact,
        received_on=new.received_on,
        recorded_by=actor.user_id,
        status=InterestStatus.RECEIVED.value,
    )
    require(actor, Permission.INTEREST_REGISTER, registration)
    uow.session.add(registration)
    uow.session.flush()
    _record(uow, actor, Action.INTEREST_REGISTER, registration)
    notify_interest(uow, district.id, NoticeKind.INTEREST_REGISTERED, registration)
    uow.commit()
    return registration_state(registration)


def partner_registrations(uow: UnitOfWork, actor: Actor) -> list[PartnerRegistration]:
    """The partner's own registrations, newest first, by reference and status. Nothing
    personal is read, so nothing is recorded."""
    require(actor, Permission.INTEREST_REGISTER)
    query = (
        select(InterestRegistration, Organisation.name)
        .join(Organisation, Organisation.id == InterestRegistration.district_id)
        .where(InterestRegistration.purged_at.is_(None))
    )
    partner_id = organisation_scope(actor)
    if partner_id is not None:
        query = query.where(InterestRegistration.partner_id == partner_id)
    rows = uow.session.execute(
        query.order_by(InterestRegistration.created_at.desc(), InterestRegistration.id)
    )
    return [
        PartnerRegistration(
            registration_id=registration.id,
            reference=reference_of(registration.id),
            district_name=district_name,
            received_on=registration.received_on,
            status=registration.status,
            decided_at=registration.decided_at,
        )
        for registration, district_name in rows
    ]


# --- the district decides --------------------------------------------------------------------


def district_queue(uow: UnitOfWork, actor: Actor) -> list[QueueEntry]:
    """Registrations waiting for the actor's district, oldest first. Each one shown is
    recorded before the list is returned."""
    require(actor, Permission.INTEREST_CONFIRM)
    query = (
        select(InterestRegistration, Organisation.name)
        .join(Organisation, Organisation.id == InterestRegistration.partner_id)
        .where(InterestRegistration.status == InterestStatus.RECEIVED.value)
    )
    district_id = organisation_scope(actor)
    if district_id is not None:
        query = query.where(InterestRegistration.district_id == district_id)
    rows = uow.session.execute(
        query.order_by(InterestRegistration.received_on, InterestRegistration.created_at)
    ).all()
    for registration, _partner_name in rows:
        _record(uow, actor, Action.INTEREST_READ, registration)
    entries = [
        QueueEntry(
            registration_id=registration.id,
            reference=reference_of(registration.id),
            partner_name=partner_name,
            child_name=registration.child_name,
            family_home_contact=registration.family_home_contact,
            received_on=registration.received_on,
        )
        for registration, partner_name in rows
    ]
    uow.commit()
    return entries


def _to_decide(uow: UnitOfWork, actor: Actor, registration_id: str) -> InterestRegistration:
    """The registration, locked, if it is the actor's district's and still undecided."""
    require(actor, Permission.INTEREST_CONFIRM)
    registration = get_for(
        uow,
        actor,
        Permission.INTEREST_CONFIRM,
        InterestRegistration,
        registration_id,
        field="registration",
        lock=True,
    )
    if registration.status == InterestStatus.CONFIRMED.value:
        raise Conflict(_("The district has already confirmed this registration."), "registration")
    if registration.status != InterestStatus.RECEIVED.value:
        raise Conflict(_("The district has already declined this registration."), "registration")
    return registration


def _district_child(
    steps: UnitOfWork, actor: Actor, registration: InterestRegistration, today: date
) -> tuple[str, bool]:
    """The id of the district's record of the child, found by personnummer (the blind index
    narrows, decryption confirms), or registered from the registration when the district has
    none; and whether it was registered now."""
    personnummer = registration.personnummer
    found = children.find_children_by_personnummer(steps, actor, personnummer)
    if len(found) > 1:
        raise Conflict(
            _(
                "Your district holds more than one record of this personnummer: "
                "resolve that before confirming."
            ),
            field="registration",
        )
    if found:
        return found[0].id, False
    new = children.NewChild(personnummer=personnummer, name=registration.child_name)
    return children.register_child(steps, actor, new, today).id, True


def _decide(registration: InterestRegistration, actor: Actor, status: InterestStatus) -> None:
    registration.status = status.value
    registration.decided_by = actor.user_id
    registration.decided_at = utcnow()


def confirm(uow: UnitOfWork, actor: Actor, registration_id: str, today: date) -> Confirmation:
    """A social worker of the responsible district confirms: the child's record is found or
    made, a referral to the partner is created and submitted (shared at once only if consent
    or LVU already holds, else awaiting consent), and the partner is told."""
    registration = _to_decide(uow, actor, registration_id)
    # One transaction for the child, the referral and the confirmation (and the
    # registration's row lock holds until its commit: two social workers cannot both confirm).
    steps = StepOf(uow.session)
    child_id, registered = _district_child(steps, actor, registration, today)
    created = referrals.create_referral(
        steps,
        actor,
        referrals.NewReferral(child_id, registration.partner_id, CONFIRMED_FORMAT),
        today=today,
    )
    referral = referrals.submit_referral(steps, actor, created.id, today)
    _decide(registration, actor, InterestStatus.CONFIRMED)
    registration.referral_id = referral.id
    uow.session.flush()
    _record(uow, actor, Action.INTEREST_CONFIRM, registration)
    notify_interest(uow, registration.partner_id, NoticeKind.INTEREST_CONFIRMED, registration)
    uow.commit()
    return Confirmation(registration.id, referral.id, child_id, referral.status, registered)


def decline(
    uow: UnitOfWork, actor: Actor, registration_id: str, reason: str | None = None
) -> RegistrationState:
    """A social worker of the responsible district declines; the partner is told that, not
    why. The reason may describe the child, so it is kept only sealed in the access log entry,
    under the registration's own key."""
    registration = _to_decide(uow, actor, registration_id)
    cleaned = (reason or "").strip()
    if len(cleaned) > MAX_REASON:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_REASON), field="reason")
    _decide(registration, actor, InterestStatus.DECLINED)
    uow.session.flush()
    _record(
        uow,
        actor,
        Action.INTEREST_DECLINE,
        registration,
        details={"reason": cleaned} if cleaned else None,
    )
    notify_interest(uow, registration.partner_id, NoticeKind.INTEREST_DECLINED, registration)
    uow.commit()
    return registration_state(registration)


def _record(
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    registration: InterestRegistration,
    details: dict[str, object] | None = None,
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type=OBJECT_TYPE,
        object_id=registration.id,
        subject=registration.key_scope(),
        details=details,
    )
