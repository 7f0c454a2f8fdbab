"""Programme B: one youth, one record. Registering refuses a second record of an identifier
the organisation holds (referral.services.outreach); what remains are records made before an
identifier was known. The queue proposes pairs of the organisation's records with the same
alias, birth year and country of origin; the worker links a pair (reversibly: nothing is
merged or lost) or dismisses it, and a pair dismissed or unlinked is not proposed again.
While two records are linked, a hand-over needs a basis in both (services.link_cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.encryption import session_cipher
from referral.db.outreach import DismissedPair, Youth, YouthLink
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput
from referral.i18n import _
from referral.policy import Permission, require
from referral.services.loading import get_for


@dataclass(frozen=True)
class Candidate:
    """Another record that may be the same youth, named by id only: opening it is a read of
    its own (and logged there)."""

    id: str
    reference: str
    registered_on: date


@dataclass(frozen=True)
class LinkView:
    id: str
    first_id: str
    second_id: str
    active: bool


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _key(youth: Youth) -> tuple[str, str, str] | None:
    alias = " ".join((youth.alias or "").casefold().split())
    year = youth.birth_year or (youth.birth_date or "")[:4]
    country = " ".join((youth.country_of_origin or "").casefold().split())
    return (alias, year, country) if alias and year and country else None


def _likely_pairs(uow: UnitOfWork, organisation_id: str) -> list[tuple[Youth, Youth]]:
    """The organisation's pairs of records with the same alias, birth year and country,
    neither linked nor dismissed, the older record first. The comparison decrypts them."""
    youths = list(
        uow.session.scalars(
            select(Youth)
            .where(Youth.organisation_id == organisation_id, Youth.purged_at.is_(None))
            .order_by(Youth.created_at, Youth.id)
        )
    )
    ids = [y.id for y in youths]
    # Every record is decrypted to compare: their keys unwrapped at once, not one query each.
    session_cipher(uow.session).keys.load_many(uow.session, (y.data_key_id for y in youths))
    settled = {
        (row.first_id, row.second_id)
        for row in uow.session.scalars(
            select(YouthLink).where(YouthLink.unlinked_at.is_(None), YouthLink.first_id.in_(ids))
        )
    } | {
        (row.first_id, row.second_id)
        for row in uow.session.scalars(select(DismissedPair).where(DismissedPair.first_id.in_(ids)))
    }
    groups: dict[tuple[str, str, str], list[Youth]] = {}
    for youth in youths:
        key = _key(youth)
        if key is not None:
            groups.setdefault(key, []).append(youth)
    return [
        (first, second)
        for members in groups.values()
        for i, first in enumerate(members)
        for second in members[i + 1 :]
        if _ordered(first.id, second.id) not in settled
    ]


def _reference(youth_id: str) -> str:
    return youth_id[:8].upper()


def candidates_for(uow: UnitOfWork, actor: Actor, youth_id: str) -> list[Candidate]:
    """The organisation's other records that may be this youth, not linked to it and not
    dismissed. Nothing of theirs is shown but the id, so the caller's read of this youth is
    the only one to log."""
    require(actor, Permission.YOUTH_REGISTER)
    youth = get_for(uow, actor, Permission.YOUTH_REGISTER, Youth, youth_id, field="youth_id")
    return [
        Candidate(other.id, _reference(other.id), other.created_at.date())
        for pair in _likely_pairs(uow, youth.organisation_id)
        if youth in pair
        for other in pair
        if other is not youth
    ]


@dataclass(frozen=True)
class PendingPair:
    """A pair for the organisation's queue, by record reference only (opening either is a
    read of its own)."""

    first_id: str
    second_id: str
    first_reference: str
    second_reference: str


def pending_pairs(uow: UnitOfWork, actor: Actor) -> list[PendingPair]:
    """The organisation's queue of likely duplicates. Compared sealed values are never
    shown."""
    require(actor, Permission.YOUTH_REGISTER)
    if actor.organisation_id is None:
        return []
    pairs = []
    for first, second in _likely_pairs(uow, actor.organisation_id):
        a, b = _ordered(first.id, second.id)
        pairs.append(PendingPair(a, b, _reference(a), _reference(b)))
    return pairs


def _pair(uow: UnitOfWork, actor: Actor, first_id: str, second_id: str) -> tuple[Youth, Youth]:
    if first_id == second_id:
        raise InvalidInput(_("A record cannot be linked with itself."), field="other_id")
    first = get_for(uow, actor, Permission.YOUTH_REGISTER, Youth, first_id, field="youth_id")
    second = get_for(uow, actor, Permission.YOUTH_REGISTER, Youth, second_id, field="other_id")
    return first, second


def link_records(uow: UnitOfWork, actor: Actor, youth_id: str, other_id: str) -> LinkView:
    """The worker judges two records to be one youth: linked, reversibly, and logged under
    both."""
    require(actor, Permission.YOUTH_REGISTER)
    first, second = _pair(uow, actor, youth_id, other_id)
    a, b = _ordered(first.id, second.id)
    existing = uow.session.scalar(
        select(YouthLink).where(
            YouthLink.first_id == a, YouthLink.second_id == b, YouthLink.unlinked_at.is_(None)
        )
    )
    if existing is not None:
        raise Conflict(_("These records are linked already."), field="other_id")
    link = YouthLink(
        organisation_id=first.organisation_id, first_id=a, second_id=b, linked_by=actor.user_id
    )
    uow.session.add(link)
    uow.session.flush()
    for youth in (first, second):
        _record(uow, actor, Action.YOUTH_LINK, youth, "youth_link", link.id)
    view = LinkView(link.id, a, b, True)
    uow.commit()
    return view


def unlink_records(uow: UnitOfWork, actor: Actor, link_id: str) -> LinkView:
    """Undo a link: the two records stand apart again, and the pair is not proposed again."""
    require(actor, Permission.YOUTH_REGISTER)
    link = get_for(
        uow, actor, Permission.YOUTH_REGISTER, YouthLink, link_id, field="link", lock=True
    )
    if link.unlinked_at is not None:
        raise Conflict(_("These records are not linked."), field="link")
    link.unlinked_at, link.unlinked_by = utcnow(), actor.user_id
    _dismiss(uow, actor, link.first_id, link.second_id)
    uow.session.flush()
    for youth_id in (link.first_id, link.second_id):
        youth = uow.session.get(Youth, youth_id)
        assert youth is not None  # a foreign key
        _record(uow, actor, Action.YOUTH_UNLINK, youth, "youth_link", link.id)
    view = LinkView(link.id, link.first_id, link.second_id, False)
    uow.commit()
    return view


def dismiss_pair(uow: UnitOfWork, actor: Actor, youth_id: str, other_id: str) -> None:
    """Not one youth: the pair leaves the queue for good."""
    require(actor, Permission.YOUTH_REGISTER)
    first, second = _pair(uow, actor, youth_id, other_id)
    _dismiss(uow, actor, first.id, second.id)
    uow.commit()


def _dismiss(uow: UnitOfWork, actor: Actor, one: str, other: str) -> None:
    a, b = _ordered(one, other)
    if uow.session.get(DismissedPair, (a, b)) is None:
        uow.session.add(DismissedPair(first_id=a, second_id=b, dismissed_by=actor.user_id))


def linked_records(uow: UnitOfWork, youth_id: str) -> list[str]:
    """The ids of the records linked to this one now (for the hand-over's double check)."""
    rows = uow.session.scalars(
        select(YouthLink).where(
            YouthLink.unlinked_at.is_(None),
            or_(YouthLink.first_id == youth_id, YouthLink.second_id == youth_id),
        )
    )
    return [row.second_id if row.first_id == youth_id else row.first_id for row in rows]


def links_of(uow: UnitOfWork, youth_id: str) -> list[LinkView]:
    rows = uow.session.scalars(
        select(YouthLink)
        .where(or_(YouthLink.first_id == youth_id, YouthLink.second_id == youth_id))
        .order_by(YouthLink.linked_at)
    )
    return [LinkView(r.id, r.first_id, r.second_id, r.unlinked_at is None) for r in rows]


def _record(
    uow: UnitOfWork, actor: Actor, action: Action, youth: Youth, object_type: str, object_id: str
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type=object_type,
        object_id=object_id,
        subject=youth.key_scope(),
    )
