"""Notices to organisations about their referrals and interest registrations
(referral.db.notifications).

The partner learns at once that participation must stop when access ends (a withdrawn
referral or consent); the district learns the partner's answer, the placement and the
group's start. A notice stores only which record it is about, never a name: the page
(notice_page) names the child from the record when its reader may see the name now (the
district its own child; the partner only on the inbox's rule, services.sharing), writes each
child named to the access log before returning, and otherwise says "the child in referral
1a2b3c4d". The API's list (notices_for) stays by reference only and reads no child.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, func, select, update

from audit.actions import Action
from audit.record import Entry, record_many
from crypto import DecryptionError
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.interest import InterestRegistration
from referral.db.models import Organisation
from referral.db.notifications import NoticeKind, Notification
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import NotFound
from referral.i18n import _
from referral.policy import Permission, belongs_to, can, organisation_scope, require
from referral.services.group_dates import groups_of
from referral.services.sharing import (
    SharingFacts,
    children_by_id,
    partner_sees_referral,
    sharing_facts,
)

T = TypeVar("T", InterestRegistration, Referral)

SHOWN = 50
# The page lists every unread notice (so that it agrees with the menu's count) up to this
# many; beyond it the page says how many more are waiting.
UNREAD_SHOWN = 200


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
    """The newest notices to the actor's organisation (by reference: no child is read)."""
    require(actor, Permission.NOTIFICATION_READ)
    rows = _notice_rows(uow, organisation_scope(actor), None, SHOWN)
    return _views(uow, actor, rows)


# A notice, its referral's child and district (when about a referral), the partner's name.
_NoticeRow = tuple[Notification, str | None, str | None, str]


def _notice_rows(
    uow: UnitOfWork, organisation_id: str | None, where: ColumnElement[bool] | None, limit: int
) -> list[_NoticeRow]:
    # A notice is about a referral or an interest registration; either names the partner.
    query = (
        select(Notification, Referral.child_id, Referral.district_id, Organisation.name)
        .outerjoin(Referral, Referral.id == Notification.referral_id)
        .outerjoin(InterestRegistration, InterestRegistration.id == Notification.interest_id)
        .join(
            Organisation,
            Organisation.id == func.coalesce(Referral.partner_id, InterestRegistration.partner_id),
        )
        .where(Notification.organisation_id == organisation_id)
    )
    if where is not None:
        query = query.where(where)
    query = query.order_by(Notification.created_at.desc(), Notification.id).limit(limit)
    return [
        (notice, child, district, partner)
        for notice, child, district, partner in uow.session.execute(query)
    ]


def _views(uow: UnitOfWork, actor: Actor, rows: list[_NoticeRow]) -> list[NoticeView]:
    groups = groups_of(uow, [row[0].referral_id for row in rows if row[0].referral_id])
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


# --- the page a person reads -----------------------------------------------------------------


@dataclass(frozen=True)
class ReadNotice:
    """A notice as its reader's page shows it: the child's name only when the reader may
    see it now (and then it is in the access log), else None and the page says "the child
    in referral 1a2b3c4d". `referral_id` is the whole id, for a link to the inbox's card,
    and only where the name is shown (the card is there exactly then)."""

    notice: NoticeView
    child_name: str | None = None
    referral_id: str | None = None


@dataclass(frozen=True)
class NoticePage:
    notices: tuple[ReadNotice, ...]  # the unread first, each part newest first
    unread: int  # every unread notice of the organisation: the menu's count
    unread_not_shown: int  # unread beyond UNREAD_SHOWN, waiting behind those shown


@dataclass(frozen=True)
class _Named:
    name: str
    entry: Entry  # what the log says of this look: the action a read of the name has


def notice_page(uow: UnitOfWork, actor: Actor, today: date) -> NoticePage:
    """Every unread notice to the actor's organisation (up to UNREAD_SHOWN) and the newest
    read ones up to SHOWN in all, each naming its child where the actor may see the name
    today. The children named are written to the access log, in one write, and committed
    before anything is returned; a child named by several notices is logged once."""
    require(actor, Permission.NOTIFICATION_READ)
    organisation_id = organisation_scope(actor)
    unread = unread_count(uow, actor)
    unread_rows = _notice_rows(uow, organisation_id, Notification.read_at.is_(None), UNREAD_SHOWN)
    read_rows = _notice_rows(
        uow,
        organisation_id,
        Notification.read_at.is_not(None),
        max(SHOWN - len(unread_rows), 0),
    )
    rows = unread_rows + read_rows
    records = _records_named(uow, actor, [row[0] for row in rows])
    named: dict[str, _Named | None] = {}  # per notice id
    for row in rows:
        named[row[0].id] = _name_in(actor, row[0], records, today)
    entries: dict[tuple[str, str | None], Entry] = {}
    for found in named.values():
        if found is not None:
            entries.setdefault((found.entry.action.value, found.entry.object_id), found.entry)
    record_many(uow.session, actor, list(entries.values()))
    uow.commit()  # the names are on record before the page shows them
    views = _views(uow, actor, rows)
    notices = []
    for view, row in zip(views, rows, strict=True):
        notice = row[0]
        found = named[notice.id]
        notices.append(
            ReadNotice(
                view,
                child_name=found.name if found else None,
                referral_id=notice.referral_id if found else None,
            )
        )
    return NoticePage(tuple(notices), unread, max(unread - len(unread_rows), 0))


@dataclass(frozen=True)
class _Records:
    """What the page's notices are about, read for all of them at once (a notice read alone
    costs a query for its referral, one for its child and one for the child's key)."""

    uow: UnitOfWork
    registrations: dict[str, InterestRegistration]
    referrals: dict[str, Referral]
    children: dict[str, Child]
    facts: dict[str, SharingFacts]  # the children's the actor sees as the partner


def _by_id(uow: UnitOfWork, model: type[T], ids: set[str]) -> dict[str, T]:
    if not ids:
        return {}
    return {row.id: row for row in uow.session.scalars(select(model).where(model.id.in_(ids)))}


def _records_named(uow: UnitOfWork, actor: Actor, notices: list[Notification]) -> _Records:
    registrations = _by_id(
        uow, InterestRegistration, {n.interest_id for n in notices if n.interest_id}
    )
    referral_ids = {n.referral_id for n in notices if n.referral_id}
    referral_ids |= {r.referral_id for r in registrations.values() if r.referral_id}
    referrals = _by_id(uow, Referral, referral_ids)
    children = children_by_id(uow, {r.child_id for r in referrals.values()})
    as_partner = {
        r.child_id
        for r in referrals.values()
        if not belongs_to(actor, r.district_id) and belongs_to(actor, r.partner_id)
    }
    facts = sharing_facts(uow, as_partner) if as_partner else {}
    return _Records(uow, registrations, referrals, children, facts)


def _name_in(actor: Actor, notice: Notification, records: _Records, today: date) -> _Named | None:
    """The child's name for this reader, and the log entry a read of it makes; or None."""
    if notice.referral_id is not None:
        referral = records.referrals.get(notice.referral_id)
        return _name_of_referral(actor, referral, records, today) if referral else None
    registration = records.registrations.get(notice.interest_id or "")
    # A registration is the partner's record of what a family home said, not the district's
    # record of a child: the district reads its name in the queue, where that read is logged,
    # and its notice names it by reference. For the partner, a confirmed registration became
    # a referral, named on the inbox's rule like any other.
    if registration is None or not belongs_to(actor, registration.partner_id):
        return None
    if registration.referral_id is None:
        return None
    referral = records.referrals.get(registration.referral_id)
    return _name_of_referral(actor, referral, records, today) if referral else None


def _name_of_referral(
    actor: Actor, referral: Referral, records: _Records, today: date
) -> _Named | None:
    child = records.children.get(referral.child_id)
    if child is None:
        return None
    try:
        if belongs_to(actor, referral.district_id):
            # The district's own child: named as its list of children names it.
            if not can(actor, Permission.CHILD_READ, child):
                return None
            return _Named(
                child.name,
                Entry(
                    Action.CHILD_LIST,
                    object_type="child",
                    object_id=child.id,
                    subject=child.key_scope(),
                ),
            )
        if belongs_to(actor, referral.partner_id) and can(actor, Permission.REFERRAL_INBOX):
            # The partner: only while the inbox would show this referral, as the inbox logs it.
            facts = records.facts.get(child.id)
            basis = partner_sees_referral(records.uow, referral, child, today, facts)
            if basis is None:
                return None
            return _Named(
                child.name,
                Entry(
                    Action.REFERRAL_READ,
                    object_type="referral",
                    object_id=referral.id,
                    subject=referral.key_scope(),
                    legal_basis=basis.kind.value,
                ),
            )
    except DecryptionError:
        return None
    return None
