"""The district's reads of its referrals: the list a social worker works from, and one
referral's status history (who moved it, when).

Both show a child's name, so both are reads of personal data: the access is written to the
log and committed before anything is returned, one entry per child shown, so that each
child's subject-access report lists every look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import id_param
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.policy import Permission, organisation_scope, require
from referral.services import concern_reports, organisations
from referral.services.children import record_children_access
from referral.services.loading import get_for
from referral.services.sharing import children_by_id
from referral.services.users import staff_names


@dataclass(frozen=True)
class ReferralSummary:
    id: str
    status: str
    child_id: str
    child_name: str
    partner_id: str
    partner_name: str
    preferred_format: str
    created_at: datetime
    updated_at: datetime
    concern: bool = False  # a concern report about the child is open


@dataclass(frozen=True)
class StatusChange:
    from_status: str | None
    to_status: str
    by: str  # the staff member's display name (a work identity, not a protected person)
    at: datetime


@dataclass(frozen=True)
class ReferralHistory:
    id: str
    status: str
    child_id: str
    child_name: str
    partner_id: str
    partner_name: str
    preferred_format: str
    notes: str | None
    created_at: datetime
    history: tuple[StatusChange, ...]


# Built once: a social worker's list of referrals runs one on every look.
_CITY_REFERRALS = select(Referral).order_by(Referral.created_at.desc(), Referral.id)
_DISTRICT_REFERRALS = _CITY_REFERRALS.where(Referral.district_id == id_param("district_id"))


def district_referrals(
    uow: UnitOfWork, actor: Actor, *, concern_only: bool = False
) -> list[ReferralSummary]:
    """The referrals of the actor's district, newest first (with `concern_only`, only those
    of children with an open concern report). Scoped by the query itself, so the list can
    never show what `require` would refuse one by one."""
    require(actor, Permission.REFERRAL_READ)
    db = uow.session
    scope = organisation_scope(actor)
    if scope is None:
        found = db.scalars(_CITY_REFERRALS).all()
    else:
        found = db.scalars(_DISTRICT_REFERRALS, {"district_id": scope}).all()
    flagged = concern_reports.children_with_open_reports(uow, {r.child_id for r in found})
    if concern_only:
        found = [r for r in found if r.child_id in flagged]
    children = children_by_id(uow, (r.child_id for r in found))
    # A foreign key: a referral always has its child.
    assert all(r.child_id in children for r in found)
    # One entry per child shown, however many of their referrals the list holds.
    record_children_access(
        uow,
        actor,
        Action.REFERRAL_LIST,
        (children[i] for i in dict.fromkeys(r.child_id for r in found)),
    )
    uow.commit()  # the access is on record before anything is shown
    partners = organisations.names_by_id(uow, (r.partner_id for r in found))
    return [
        ReferralSummary(
            id=r.id,
            status=r.status,
            child_id=r.child_id,
            child_name=children[r.child_id].name,
            partner_id=r.partner_id,
            partner_name=partners.get(r.partner_id, "?"),
            preferred_format=r.preferred_format,
            created_at=r.created_at,
            updated_at=r.updated_at,
            concern=r.child_id in flagged,
        )
        for r in found
    ]


def referral_history(uow: UnitOfWork, actor: Actor, referral_id: str) -> ReferralHistory:
    """One referral of the actor's district with every status change; another district's
    referral answers 404, as if it did not exist."""
    require(actor, Permission.REFERRAL_READ)
    db = uow.session
    referral = get_for(
        uow, actor, Permission.REFERRAL_READ, Referral, referral_id, field="referral"
    )
    child = db.get(Child, referral.child_id)
    assert child is not None
    record(
        db,
        actor,
        Action.REFERRAL_READ,
        object_type="referral",
        object_id=referral.id,
        subject=referral.key_scope(),
    )
    uow.commit()  # the access is on record before anything is shown
    staff = staff_names(uow, (event.by for event in referral.events))
    partners = organisations.names_by_id(uow, [referral.partner_id])
    return ReferralHistory(
        id=referral.id,
        status=referral.status,
        child_id=child.id,
        child_name=child.name,
        partner_id=referral.partner_id,
        partner_name=partners.get(referral.partner_id, "?"),
        preferred_format=referral.preferred_format,
        notes=referral.notes,
        created_at=referral.created_at,
        history=tuple(
            StatusChange(e.from_status, e.to_status, staff.get(e.by, e.by), e.at)
            for e in referral.events
        ),
    )
