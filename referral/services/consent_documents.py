"""The printable information letter and consent form for one child (domain.md §3): the
partner's current activity description, and a consent block for every guardian whose consent
is required, plus the child's own block from 15 (or a note of the child's views, Article 12).

Preparing the form reads the child's record (names, age, placement), so it is one audited
read of that record, written before anything is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.models import Organisation
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
class ConsentForm:
    child_id: str
    child_name: str
    child_age: int
    partner_name: str
    description_version: str
    description_text: str
    description_published_at: datetime
    # Under LVU no guardian consent is needed; the letter is still information for them.
    under_lvu: bool
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
    partner = _partner(uow, partner_id)
    description = current_description(uow.session, SUPPORT_GROUP, partner.id)
    if description is None:
        raise Conflict(
            _("No activity description is published for this partner yet."), field="partner"
        )
    basis = child.placement_basis
    under_lvu = basis == PlacementBasis.LVU.value
    age = age_on(birth_date_of(child), today)
    form = ConsentForm(
        child_id=child.id,
        child_name=child.name,
        child_age=age,
        partner_name=partner.name,
        description_version=description.version,
        description_text=description.text,
        description_published_at=description.published_at,
        under_lvu=under_lvu,
        placement_recorded=basis is not None,
        guardians=() if under_lvu else _custodians(uow, child),
        child_consents=not under_lvu and age >= OWN_CONSENT_AGE,
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
