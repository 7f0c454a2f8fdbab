"""The printable information letter and consent form for one child (domain.md §3): the
partner's current activity description, and a consent block for every guardian whose consent
is required, plus the child's own block from 15 (or a note of the child's views, Article 12).
The paper names the child as the district knows it (name, personnummer, the district's case
number), whom to call (the social worker and their work phone), where to send it back (the
district's postal address) and the day it was printed.

Preparing the form reads the child's record (names, age, placement), so it is one audited
read of that record, written before anything is returned. A child placed under LVU gets no
form at all: sharing then rests on the social worker's decision, not the guardians' consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from audit.actions import Action, Outcome
from audit.record import record
from referral import clock
from referral.actors import Actor
from referral.db.models import Organisation, User
from referral.db.people import Child, Guardian
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput
from referral.i18n import _
from referral.policy import Permission, require
from referral.roles import OrganisationKind
from referral.rules import OWN_CONSENT_AGE, Category, PlacementBasis, age_on
from referral.services.activity_descriptions import SUPPORT_GROUP, current_description
from referral.services.loading import get_for
from referral.services.sharing import birth_date_of

# The order the categories are printed in, as a guardian reads them.
FORM_CATEGORIES = (Category.NAME, Category.AGE, Category.CONTACT, Category.PARTICIPATION)


@dataclass(frozen=True)
class GuardianBlock:
    guardian_id: str
    name: str


@dataclass(frozen=True)
class Sender:
    """Who sends the form and takes it back: the social worker a guardian calls with
    questions, and the district's postal address (None: not recorded yet)."""

    social_worker_name: str
    social_worker_phone: str | None
    district_name: str
    return_address: str | None


@dataclass(frozen=True)
class ConsentForm:
    child_id: str
    child_name: str
    # As the district knows the child: the personnummer (YYYYMMDD-NNNN) and, where recorded,
    # the case number in the district's own case system, so the signed paper finds its case.
    child_personnummer: str
    case_number: str | None
    child_age: int
    partner_name: str
    description_version: str
    description_text: str
    description_published_on: date  # Stockholm's calendar day
    sender: Sender
    printed_on: date  # Stockholm's calendar day
    placement_recorded: bool
    guardians: tuple[GuardianBlock, ...]  # those with custody: each one's consent is required
    child_consents: bool  # a block for the child's own consent; otherwise a note of views
    categories: tuple[Category, ...] = FORM_CATEGORIES


def _own_child(uow: UnitOfWork, actor: Actor, child_id: str) -> Child:
    require(actor, Permission.CONSENT_FORM_READ)
    child = get_for(
        uow, actor, Permission.CONSENT_FORM_READ, Child, child_id, field="child"
    )  # another district's child: 404
    return child


def _partner(uow: UnitOfWork, partner_id: str | None) -> Organisation:
    partner = uow.session.get(Organisation, partner_id) if partner_id else None
    if partner is None or partner.kind != OrganisationKind.PARTNER.value:
        raise InvalidInput(_("Choose a partner organisation."), field="partner")
    return partner


def _refuse_under_lvu(uow: UnitOfWork, actor: Actor, child: Child) -> None:
    """Under LVU the partner sees what the social worker decided, whatever the guardians
    say: a consent form would ask them for a decision that is not theirs. The attempt is
    logged (committed on its own, since the refusal tells that the child is under LVU)."""
    if child.placement_basis != PlacementBasis.LVU.value:
        return
    record(
        uow.session,
        actor,
        Action.CONSENT_FORM_READ,
        outcome=Outcome.DENIED,
        object_type="child",
        object_id=child.id,
        subject=child.key_scope(),
        details={"refused": "lvu"},
    )
    uow.commit()
    raise Conflict(
        _(
            "The child is placed under LVU: what the partner may see rests on the social "
            "worker's decision, not on the guardians' consent, so no consent form is printed "
            "for the guardians. Record the decision on the child's page."
        ),
        field="child",
    )


def _sender(uow: UnitOfWork, actor: Actor, child: Child) -> Sender:
    """The child's responsible social worker while their account is active, otherwise the
    one printing: the guardian calls someone who still works on the case."""
    worker = uow.session.get(User, child.responsible_worker_id or actor.user_id)
    if worker is None or not worker.active:
        worker = uow.session.get(User, actor.user_id)
    district = uow.session.get(Organisation, child.district_id)
    return Sender(
        social_worker_name=worker.display_name if worker else actor.username,
        social_worker_phone=worker.work_phone if worker else None,
        district_name=district.name if district else "",
        return_address=district.postal_address if district else None,
    )


def _readable_personnummer(personnummer: str) -> str:
    """The stored twelve digits as people write them: YYYYMMDD-NNNN."""
    return f"{personnummer[:8]}-{personnummer[8:]}"


def _custodians(uow: UnitOfWork, child: Child) -> tuple[GuardianBlock, ...]:
    guardians = uow.session.scalars(
        select(Guardian)
        .where(Guardian.child_id == child.id, Guardian.has_custody.is_(True))
        .order_by(Guardian.created_at, Guardian.id)
    )
    return tuple(GuardianBlock(g.id, g.name) for g in guardians)


def consent_form(
    uow: UnitOfWork, actor: Actor, child_id: str, partner_id: str | None, today: date
) -> ConsentForm:
    """Everything the printed letter and form show for this child and partner. Refuses (409)
    while the partner has no published description: a guardian must get the text first."""
    child = _own_child(uow, actor, child_id)
    _refuse_under_lvu(uow, actor, child)
    partner = _partner(uow, partner_id)
    description = current_description(uow.session, SUPPORT_GROUP, partner.id)
    if description is None:
        raise Conflict(
            _("No activity description is published for this partner yet."), field="partner"
        )
    age = age_on(birth_date_of(child), today)
    form = ConsentForm(
        child_id=child.id,
        child_name=child.name,
        child_personnummer=_readable_personnummer(child.personnummer),
        case_number=child.case_number,
        child_age=age,
        partner_name=partner.name,
        description_version=description.version,
        description_text=description.text,
        description_published_on=clock.local_day(description.published_at),
        sender=_sender(uow, actor, child),
        printed_on=today,
        placement_recorded=child.placement_basis is not None,
        guardians=_custodians(uow, child),
        child_consents=age >= OWN_CONSENT_AGE,
    )
    record(
        uow.session,
        actor,
        Action.CONSENT_FORM_READ,
        object_type="child",
        object_id=child.id,
        subject=child.key_scope(),
        details={"partner_id": partner.id, "description_version": description.version},
    )
    uow.commit()
    return form
