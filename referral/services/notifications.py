"""Notices to organisations about their referrals and interest registrations
(referral.db.notifications).

The partner learns at once that participation must stop when access ends (a withdrawn
referral or consent); the district learns the partner's answer. A notice names only the
referral: the district's page links to the child's record, where reading is audited; the
partner sees a short reference it can match against its groups, nothing about the child.
Notices about an interest registration name it by reference only, and link to the
district's queue or the partner's list of its registrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update

from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.interest import InterestRegistration
from referral.db.models import Organisation
from referral.db.notifications import NoticeKind, Notification
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import NotFound
from referral.i18n import _
from referral.policy import Permission, belongs_to, organisation_scope, require
from referral.services.group_dates import groups_of

SHOWN = 50


def notify(uow: UnitOfWork, organisation_id: str, kind: NoticeKind, referral: Referral) -> None:
    """Part of the caller's transaction: the notice exists exactly when the change does."""
    uow.session.add(
        Notification(organisation_id=organisation_id, kind=kind.value, referral_id=referral.id)
    )


def notify_interest(
    uow: UnitOfWork, organisation_id: str, kind: NoticeKind, registration: InterestRegistration
) -> None:
    """A notice about an interest registration, in the caller's transaction like notify()."""
    uow.session.add(
        Notification(organisation_id=organisation_id, kind=kind.value, interest_id=registration.id)
    )


@dataclass(frozen=True)
class NoticeView:
    id: str
    kind: str
    referral_ref: str | None  # the first eight characters of the referral id
    interest_ref: str | None  # or of the interest registration's id
    child_id: str | None  # for the district only: where the record is
    partner_name: str
    created_at: datetime
    unread: bool
    # The group the referral's child is placed in (notices about a placement or a start).
    group_name: str | None = None
    group_starts_on: date | None = None
    group_ends_on: date | None = None


def notices_for(uow: UnitOfWork, actor: Actor) -> list[NoticeView]:
    """The newest notices to the actor's organisation."""
    require(actor, Permission.NOTIFICATION_READ)
    organisation_id = organisation_scope(actor)
    # A notice is about a referral or an interest registration; either names the partner.
    rows = uow.session.execute(
        select(Notification, Referral.child_id, Referral.district_id, Organisation.name)
        .outerjoin(Referral, Referral.id == Notification.referral_id)
        .outerjoin(InterestRegistration, InterestRegistration.id == Notification.interest_id)
        .join(
            Organisation,
            Organisation.id == func.coalesce(Referral.partner_id, InterestRegistration.partner_id),
        )
        .where(Notification.organisation_id == organisation_id)
        .order_by(Notification.created_at.desc())
        .limit(SHOWN)
    ).all()
    groups = groups_of(uow, [n.referral_id for n, *_rest in rows if n.referral_id])
    views = []
    for notice, child_id, district_id, partner_name in rows:
        placed = groups.get(notice.referral_id or "") if notice.kind in _ABOUT_A_GROUP else None
        views.append(
            NoticeView(
                id=notice.id,
                kind=notice.kind,
                referral_ref=notice.referral_id[:8] if notice.referral_id else None,
                interest_ref=notice.interest_id[:8] if notice.interest_id else None,
                child_id=child_id if belongs_to(actor, district_id) else None,
                partner_name=partner_name,
                created_at=notice.created_at,
                unread=notice.read_at is None,
                group_name=placed.group_name if placed else None,
                group_starts_on=placed.starts_on if placed else None,
                group_ends_on=placed.ends_on if placed else None,
            )
        )
    return views


_ABOUT_A_GROUP = frozenset({NoticeKind.CHILD_PLACED.value, NoticeKind.GROUP_STARTED.value})


def mark_all_read(uow: UnitOfWork, actor: Actor) -> int:
    """Every unread notice of the actor's organisation marked read; how many."""
    require(actor, Permission.NOTIFICATION_READ)
    result = uow.session.execute(
        update(Notification)
        .where(
            Notification.organisation_id == organisation_scope(actor),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow(), read_by=actor.user_id)
    )
    uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many notices to the actor's organisation no one has read (for the menu's badge:
    a count, no notice's content)."""
    require(actor, Permission.NOTIFICATION_READ)
    return (
        uow.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.organisation_id == organisation_scope(actor),
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(uow: UnitOfWork, actor: Actor, notice_id: str) -> None:
    require(actor, Permission.NOTIFICATION_READ)
    notice = uow.session.get(Notification, notice_id)
    if notice is None or not belongs_to(actor, notice.organisation_id):
        raise NotFound(_("No such record."), field="notice")
    if notice.read_at is None:
        notice.read_at = utcnow()
        notice.read_by = actor.user_id
    uow.commit()
