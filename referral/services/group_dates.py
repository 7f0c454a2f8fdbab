"""The group a referral's child is placed in, and its dates: what the district arranges the
child's travel by, and what a consent should last until."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from referral.db.groups import Enrolment, Group, GroupSession
from referral.db.uow import UnitOfWork


@dataclass(frozen=True)
class PlacedIn:
    group_name: str
    starts_on: date  # the first session
    ends_on: date  # the last session


def groups_of(uow: UnitOfWork, referral_ids: list[str]) -> dict[str, PlacedIn]:
    """Per referral placed in a group (one query for them all)."""
    if not referral_ids:
        return {}
    return {
        referral_id: PlacedIn(name, first, last)
        for referral_id, name, first, last in uow.session.execute(
            select(
                Enrolment.referral_id,
                Group.name,
                func.min(GroupSession.day),
                func.max(GroupSession.day),
            )
            .join(Group, Group.id == Enrolment.group_id)
            .join(GroupSession, GroupSession.group_id == Group.id)
            .where(Enrolment.referral_id.in_(referral_ids))
            .group_by(Enrolment.referral_id, Group.name)
        )
    }
