"""Referrals: the social worker refers a child to a partner's support groups; the partner
sees the referral only while sharing is lawful, and then only the consented categories.

Lawfulness is decided on every read (referral.rules via referral.services.sharing), never
cached in a status: a withdrawal or an expiry cuts the partner's access on their next request.
A share, a notification and a partner's read all ask the same predicate for the same day.
The partner is never told why it may see a child (consent or LVU): that is the district's
and the DPO's to know, and it would tell a charity that a child is in compulsory care.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NoReturn

from sqlalchemy import select

from audit.actions import Action, Outcome
from audit.record import Entry, record, record_many
from referral.actors import Actor
from referral.db.base import id_param, utcnow
from referral.db.models import Organisation
from referral.db.notifications import NoticeKind
from referral.db.people import Child
from referral.db.referrals import Referral, ReferralEvent
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from referral.i18n import _
from referral.policy import Permission, partner_scope, require
from referral.roles import OrganisationKind
from referral.rules import (
    MAX_AGE,
    MIN_AGE,
    TERMINAL,
    WITH_PARTNER,
    Category,
    LawfulBasis,
    NotLawful,
    Status,
    age_on,
    may_be_referred,
    transition_refusal,
)
from referral.services.loading import get_for
from referral.services.notifications import notify
from referral.services.sharing import (
    VISIBLE_WITH,
    SharingFacts,
    birth_date_of,
    children_by_id,
    sharing_bases,
    sharing_facts,
    visible_to_partner,
)

FORMATS = frozenset({"weekly", "weekend", "partner_decides"})
PROGRAMME = "support_group"
MAX_NOTES = 2000


@dataclass(frozen=True)
class NewReferral:
    child_id: str
    partner_id: str
    preferred_format: str
    notes: str | None = None


@dataclass(frozen=True)
class ReferralState:
    """A referral after a change, for the social worker who made it: where it stands, by ids
    and status. No personal data: the notes stay in the record."""

    id: str
    status: str
    child_id: str
    partner_id: str
    preferred_format: str
    created_at: datetime
    updated_at: datetime


def referral_state(referral: Referral) -> ReferralState:
    return ReferralState(
        id=referral.id,
        status=referral.status,
        child_id=referral.child_id,
        partner_id=referral.partner_id,
        preferred_format=referral.preferred_format,
        created_at=referral.created_at,
        updated_at=referral.updated_at,
    )


def move_referral(uow: UnitOfWork, actor: Actor, referral: Referral, target: Status) -> None:
    """One step of a referral's life: checked (409 naming the rule), stamped and audited."""
    current = Status(referral.status)
    if transition_refusal(current, target) is not None:
        if current in TERMINAL:
            message = _(
                "The referral is %(status)s: it can no longer change.", status=current.value
            )
        else:
            message = _(
                "A referral that is %(current)s cannot become %(target)s.",
                current=current.value,
                target=target.value,
            )
        raise InvalidTransition(message, field="status")
    referral.events.append(
        ReferralEvent(from_status=referral.status, to_status=target.value, by=actor.user_id)
    )
    referral.status = target.value
    referral.updated_at = utcnow()
    record(
        uow.session,
        actor,
        Action.REFERRAL_TRANSITION,
        object_type="referral",
        object_id=f"{referral.id}:{target.value}",
        subject=referral.key_scope(),
    )


def create_referral(
    uow: UnitOfWork, actor: Actor, new: NewReferral, *, today: date
) -> ReferralState:
    """A draft referral of a child who can be 7-18 at a group within the coming year."""
    require(actor, Permission.REFERRAL_CREATE)
    db = uow.session
    child = get_for(uow, actor, Permission.REFERRAL_CREATE, Child, new.child_id, field="child")
    if not may_be_referred(birth_date_of(child), today):
        raise Conflict(
            _(
                "The support groups take children aged %(lowest)s to %(highest)s: this child "
                "cannot be of that age at a group within the coming year.",
                lowest=MIN_AGE,
                highest=MAX_AGE,
            ),
            field="child",
        )
    partner = db.get(Organisation, new.partner_id)
    if partner is None or partner.kind != OrganisationKind.PARTNER.value:
        raise InvalidInput(_("Choose a partner organisation."), field="partner_id")
    if new.preferred_format not in FORMATS:
        raise InvalidInput(
            _("The format is weekly, weekend or partner decides."), field="preferred_format"
        )
    notes = (new.notes or "").strip() or None
    if notes and len(notes) > MAX_NOTES:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_NOTES), field="notes")
    referral = Referral(
        child_id=child.id,
        district_id=child.district_id,
        partner_id=partner.id,
        programme=PROGRAMME,
        preferred_format=new.preferred_format,
        referred_by=actor.user_id,
        notes=notes,
        status=Status.DRAFT.value,
    )
    referral.events.append(ReferralEvent(to_status=Status.DRAFT.value, by=actor.user_id))
    db.add(referral)
    db.flush()
    record(
        db,
        actor,
        Action.REFERRAL_CREATE,
        object_type="referral",
        object_id=referral.id,
        subject=referral.key_scope(),
    )
    uow.commit()
    return referral_state(referral)


def _district_referral(
    uow: UnitOfWork, actor: Actor, referral_id: str, permission: Permission
) -> Referral:
    require(actor, permission)
    referral = get_for(uow, actor, permission, Referral, referral_id, field="referral")
    return referral


def submit_referral(uow: UnitOfWork, actor: Actor, referral_id: str, today: date) -> ReferralState:
    """Submitted, then at once with the partner if sharing is lawful, else awaiting consent."""
    referral = _district_referral(uow, actor, referral_id, Permission.REFERRAL_CREATE)
    move_referral(uow, actor, referral, Status.SUBMITTED)
    child = uow.session.get(Child, referral.child_id)
    assert child is not None
    _share_if_lawful(uow, actor, referral, child, today)
    uow.commit()
    return referral_state(referral)


def _share_if_lawful(
    uow: UnitOfWork, actor: Actor, referral: Referral, child: Child, today: date
) -> None:
    _share_on(uow, actor, referral, visible_to_partner(uow, child, today))


def _share_on(
    uow: UnitOfWork, actor: Actor, referral: Referral, basis: LawfulBasis | NotLawful
) -> None:
    """To the partner if `basis` (the child's, for today) is lawful, else awaiting consent."""
    if isinstance(basis, LawfulBasis):
        move_referral(uow, actor, referral, Status.SHARED)
        record(
            uow.session,
            actor,
            Action.REFERRAL_SHARE,
            object_type="referral",
            object_id=referral.id,
            subject=referral.key_scope(),
            legal_basis=basis.kind.value,
            details={"basis_reference": basis.reference},
        )
        notify(uow, referral.partner_id, NoticeKind.NEW_REFERRAL, referral)
    elif referral.status != Status.AWAITING_CONSENT.value:
        move_referral(uow, actor, referral, Status.AWAITING_CONSENT)


# A child's referrals, by the child alone, built once (a consent, a guardian's custody or a
# placement reads them twice: before the change and after it). Asked for child and status,
# SQLite (without statistics) chose the index on the status and read every referral in the
# city in those states (5.7 ms a consent at 100 000 children); a child has a few.
_REFERRALS_OF_CHILD = select(Referral).where(Referral.child_id == id_param("child_id"))


def _referrals_of(uow: UnitOfWork, child: Child) -> list[Referral]:
    return list(uow.session.scalars(_REFERRALS_OF_CHILD, {"child_id": child.id}))


def _with_partner(uow: UnitOfWork, child: Child) -> list[Referral]:
    return [r for r in _referrals_of(uow, child) if Status(r.status) in WITH_PARTNER]


def lawful_with_partner(uow: UnitOfWork, child: Child, today: date) -> frozenset[str]:
    """The referrals of this child that a partner holds and may see today: taken before a
    change to the child's placement, guardians or consent, and handed to settle_sharing."""
    referrals = _with_partner(uow, child)
    if not referrals or not isinstance(visible_to_partner(uow, child, today), LawfulBasis):
        return frozenset()
    return frozenset(r.id for r in referrals)


def settle_sharing(
    uow: UnitOfWork, actor: Actor, child: Child, today: date, lawful_before: frozenset[str]
) -> None:
    """After a change to what may be shared, in the same transaction: referrals that were
    waiting go to the partner once lawful today; every partner that could see the child and
    no longer may is told at once that participation must stop (once, not on every change).
    (A referral keeps its status: a renewed consent restores the partner's access.)"""
    referrals = _referrals_of(uow, child)  # once, by the child alone
    waiting = [r for r in referrals if r.status == Status.AWAITING_CONSENT.value]
    if not waiting and not lawful_before:
        return  # nothing waits to be shared and no partner could see the child: no change
    # What a partner may see is the child's alone (placement, guardians, consents), the same
    # for each of its referrals, and sharing one changes none of it: weighed once, here,
    # after the change and under the write lock.
    basis = visible_to_partner(uow, child, today)
    for referral in waiting:
        _share_on(uow, actor, referral, basis)
    if isinstance(basis, LawfulBasis):
        return  # every referral a partner holds may be seen: no partner lost access
    for referral in referrals:
        if referral.id in lawful_before and Status(referral.status) in WITH_PARTNER:
            notify(uow, referral.partner_id, NoticeKind.PARTICIPATION_MUST_STOP, referral)


def withdraw_referral(uow: UnitOfWork, actor: Actor, referral_id: str) -> ReferralState:
    referral = _district_referral(uow, actor, referral_id, Permission.REFERRAL_WITHDRAW)
    with_partner = Status(referral.status) in WITH_PARTNER
    target = Status.WITHDRAWN if with_partner else Status.CANCELLED
    move_referral(uow, actor, referral, target)
    if with_partner:
        notify(uow, referral.partner_id, NoticeKind.PARTICIPATION_MUST_STOP, referral)
    uow.commit()
    return referral_state(referral)


@dataclass(frozen=True)
class PartnerView:
    """What a partner may see of a referral: only the consented categories, never the
    personnummer, the social worker's notes, any guardian's details or the legal basis."""

    referral_id: str
    status: str
    preferred_format: str
    name: str | None = None
    age: int | None = None
    # Contact details: the family home the child lives in (never a guardian's details).
    family_home_name: str | None = None
    family_home_address: str | None = None
    family_home_phone: str | None = None


@dataclass(frozen=True)
class PartnerShare:
    """A partner's view of a referral and the ground it rests on: the view goes to the
    partner, the basis only to the access log."""

    view: PartnerView
    basis: LawfulBasis


def partner_share(
    uow: UnitOfWork,
    referral: Referral,
    child: Child,
    today: date,
    facts: SharingFacts | None = None,
) -> PartnerShare | None:
    """What the partner may see of this referral today, or None when it may not see that the
    referral exists. Decided afresh on every call: the caller audits what it shows.
    `facts`: the child's, when the caller has read them for a list (`sharing_facts`)."""
    if facts is None:
        facts = sharing_facts(uow, [child.id])[child.id]  # once for the three categories
    bases = sharing_bases(uow, child, (VISIBLE_WITH, Category.AGE, Category.CONTACT), today, facts)
    visible = bases[VISIBLE_WITH]
    if not isinstance(visible, LawfulBasis):
        return None
    shown: dict[str, object] = {"name": child.name}
    if isinstance(bases[Category.AGE], LawfulBasis):
        shown["age"] = age_on(birth_date_of(child), today)
    if isinstance(bases[Category.CONTACT], LawfulBasis):
        shown["family_home_name"] = child.family_home_name
        shown["family_home_address"] = child.family_home_address
        shown["family_home_phone"] = child.family_home_phone
    view = PartnerView(
        referral_id=referral.id,
        status=referral.status,
        preferred_format=referral.preferred_format,
        **shown,  # type: ignore[arg-type]
    )
    return PartnerShare(view, visible)


def partner_view(
    uow: UnitOfWork, referral: Referral, child: Child, today: date
) -> PartnerView | None:
    share = partner_share(uow, referral, child, today)
    return share.view if share else None


# Built once: a partner's every look at its inbox runs it.
_PARTNER_INBOX = (
    select(Referral)
    .where(
        Referral.partner_id == id_param("partner_id"),
        Referral.status.in_(sorted(s.value for s in WITH_PARTNER)),
    )
    .order_by(Referral.created_at)
)


def partner_inbox(uow: UnitOfWork, actor: Actor, today: date) -> list[PartnerView]:
    """Referrals to the actor's partner organisation that may lawfully be shown now. Each one
    shown is recorded with its legal basis before the list is returned."""
    require(actor, Permission.REFERRAL_INBOX)
    db = uow.session
    referrals = db.scalars(_PARTNER_INBOX, {"partner_id": partner_scope(actor)}).all()
    # The children, their keys and the facts of the law, read for the whole inbox at once.
    children = children_by_id(uow, [r.child_id for r in referrals])
    facts = sharing_facts(uow, children)
    views = []
    entries = []
    for referral in referrals:
        child = children.get(referral.child_id)
        assert child is not None
        share = partner_share(uow, referral, child, today, facts[child.id])
        if share is None:
            continue  # not lawful now: the partner does not see that it exists
        entries.append(
            Entry(
                Action.REFERRAL_READ,
                object_type="referral",
                object_id=referral.id,
                subject=referral.key_scope(),
                legal_basis=share.basis.kind.value,
            )
        )
        views.append(share.view)
    record_many(db, actor, entries)  # one entry per referral shown, in one write
    uow.commit()
    return views


def refuse_unlawful(uow: UnitOfWork, actor: Actor, referral: Referral, field: str) -> NoReturn:
    """A partner asked for a referral it may not see now: the attempt goes to the access log
    (committed on its own) and the answer is 404, as if the referral did not exist."""
    record(
        uow.session,
        actor,
        Action.ACCESS_DENIED,
        outcome=Outcome.DENIED,
        object_type="referral",
        object_id=referral.id,
        subject=referral.key_scope(),
    )
    uow.commit()
    raise NotFound(_("No such record."), field=field)


def respond(
    uow: UnitOfWork, actor: Actor, referral_id: str, accept: bool, today: date
) -> PartnerView:
    """The partner accepts or declines a referral it may lawfully see."""
    require(actor, Permission.REFERRAL_RESPOND)
    db = uow.session
    referral = get_for(
        uow, actor, Permission.REFERRAL_RESPOND, Referral, referral_id, field="referral"
    )
    child = db.get(Child, referral.child_id)
    assert child is not None
    if (
        Status(referral.status) not in WITH_PARTNER
        or partner_view(uow, referral, child, today) is None
    ):
        refuse_unlawful(uow, actor, referral, "referral")
    move_referral(uow, actor, referral, Status.ACCEPTED if accept else Status.DECLINED)
    answer = NoticeKind.REFERRAL_ACCEPTED if accept else NoticeKind.REFERRAL_DECLINED
    notify(uow, referral.district_id, answer, referral)
    uow.commit()
    view = partner_view(uow, referral, child, today)
    assert view is not None
    return view
