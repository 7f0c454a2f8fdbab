"""The partner's inbox as cards: each referral the partner may see now (referrals.partner_inbox
decides and logs it), with when it arrived, which district sent it and whom there to call.

These are facts about the referral, not about the child, but a card must not become a channel
for what the partner may not know: they are read only for referrals the inbox already shows,
and they are the same whatever the child's placement basis (the referring social worker is
the one who made the referral, the day is the day it was first shared, under SoL or LVU
alike), so a card never tells the partner whether a child is in compulsory care.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from referral import clock
from referral.actors import Actor
from referral.db.models import Organisation, User
from referral.db.referrals import Referral, ReferralEvent
from referral.db.uow import UnitOfWork
from referral.rules import Status
from referral.services.referrals import PartnerView, partner_inbox


@dataclass(frozen=True)
class InboxCard:
    view: PartnerView  # what the partner may see of the child (the consented categories)
    received_on: date | None  # the Stockholm day the referral was first shared with it
    district_name: str  # the referring district
    contact_name: str | None  # the referring social worker (a work identity)
    contact_phone: str | None  # their work phone, when the district has recorded one


def days_received(uow: UnitOfWork, referral_ids: Sequence[str]) -> dict[str, date]:
    """The Stockholm day each referral was first shared with its partner: the day the
    partner received it (the inbox's card and the group leader's start page say the same)."""
    if not referral_ids:
        return {}
    rows = uow.session.execute(
        select(ReferralEvent.referral_id, func.min(ReferralEvent.at))
        .where(
            ReferralEvent.referral_id.in_(referral_ids),
            ReferralEvent.to_status == Status.SHARED.value,
        )
        .group_by(ReferralEvent.referral_id)
    )
    return {referral_id: clock.local_day(at) for referral_id, at in rows}


def partner_inbox_cards(uow: UnitOfWork, actor: Actor, today: date) -> list[InboxCard]:
    """The inbox (lawful now, each one logged before this returns) with each referral's
    arrival, district and contact, read in two queries for the whole inbox."""
    views = partner_inbox(uow, actor, today)
    ids = [view.referral_id for view in views]
    if not ids:
        return []
    db = uow.session
    senders = {
        referral_id: (district_name, contact_name, contact_phone)
        for referral_id, district_name, contact_name, contact_phone in db.execute(
            select(Referral.id, Organisation.name, User.display_name, User.work_phone)
            .join(Organisation, Organisation.id == Referral.district_id)
            .outerjoin(User, User.id == Referral.referred_by)
            .where(Referral.id.in_(ids))
        )
    }
    received = days_received(uow, ids)
    cards = []
    for view in views:
        district_name, contact_name, contact_phone = senders[view.referral_id]
        cards.append(
            InboxCard(
                view=view,
                received_on=received.get(view.referral_id),
                district_name=district_name,
                contact_name=contact_name,
                contact_phone=(contact_phone or "").strip() or None,
            )
        )
    return cards
