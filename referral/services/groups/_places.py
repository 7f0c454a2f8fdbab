"""What the group modules share: the records they take and give, and how a group's places are
read (a child counts only while placed or participating and lawfully shared today)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import func, select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.groups import (
    Enrolment,
    Group,
    GroupStatus,
)
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import NotFound
from referral.i18n import _
from referral.policy import Permission, require
from referral.rules import (
    GROUP_MAX,
    WITH_PARTNER,
    Status,
)
from referral.services.loading import get_for
from referral.services.referrals import (
    PartnerShare,
    partner_share,
)

MAX_NAME = 100
# A child holds a place while the referral is in one of these; a withdrawal (or completion)
# ends it. Lawfulness is checked on top of this, per call.
IN_GROUP = frozenset({Status.PLACED, Status.PARTICIPATING})


@dataclass(frozen=True)
class NewGroup:
    name: str  # a label such as "Vårgrupp Farsta 10-12 år": never a child's name
    group_format: str  # referral.schedule.GroupFormat
    start_date: date
    min_age: int
    max_age: int
    leader_ids: Sequence[str]  # user ids of group leaders of the actor's organisation


@dataclass(frozen=True)
class NewVisit:
    enrolment_id: str
    kind: str  # referral.db.groups.VisitKind
    day: date


@dataclass(frozen=True)
class SessionView:
    session_id: str
    number: int
    day: date
    kind: str


@dataclass(frozen=True)
class GroupState:
    """A group after a change (planned, started, completed): its own fields and sessions, no
    child and no count of children."""

    group_id: str
    name: str
    group_format: str
    start_date: date
    min_age: int
    max_age: int
    status: str
    leader_ids: tuple[str, ...]
    sessions: tuple[SessionView, ...]
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class GroupSummary(GroupState):
    """A group's state with its counts, and without any child in it: safe for lists and the
    year overview."""

    enrolled: int  # children who count now (completed groups: participations completed)
    places_left: int  # 0 unless the group is still planned


@dataclass(frozen=True)
class RosterEntry:
    """One child as the partner may see them now, with what the group has recorded."""

    enrolment_id: str
    referral_id: str
    status: str
    name: str | None
    age: int | None
    visit_kind: str | None
    visit_day: date | None
    attendance: Mapping[str, bool]  # session id -> present


@dataclass(frozen=True)
class Roster:
    group: GroupSummary
    children: tuple[RosterEntry, ...]


@dataclass(frozen=True)
class YearOverview:
    year: int
    groups: tuple[GroupSummary, ...]
    children_waiting: int  # accepted referrals, lawfully visible now, not yet in a group


@dataclass(frozen=True)
class _Place:
    """A child who holds a place now: the enrolment, its referral and what the partner sees."""

    enrolment: Enrolment
    referral: Referral
    child: Child
    share: PartnerShare  # what the partner sees, and (for the access log only) why


# --- reading groups and places ---------------------------------------------------------------


def _group(
    uow: UnitOfWork, actor: Actor, group_id: str, permission: Permission, lock: bool = False
) -> Group:
    require(actor, permission)
    # With `lock`, whatever is counted or changed next is decided under this row lock: a
    # second leader waits here until the first commits, then counts the first one's child.
    # (PostgreSQL: SELECT ... FOR UPDATE; SQLite serialises writers anyway.) Another
    # partner's group answers 404.
    return get_for(uow, actor, permission, Group, group_id, field="group", lock=lock)


def _visible(uow: UnitOfWork, referral: Referral, today: date) -> tuple[Child, PartnerShare] | None:
    """The child and what the partner may see of them today, or None when nothing."""
    if Status(referral.status) not in WITH_PARTNER:
        return None
    child = uow.session.get(Child, referral.child_id)
    assert child is not None
    share = partner_share(uow, referral, child, today)
    return None if share is None else (child, share)


def _current_places(uow: UnitOfWork, group: Group, today: date) -> list[_Place]:
    rows = uow.session.execute(
        select(Enrolment, Referral)
        .join(Referral, Enrolment.referral_id == Referral.id)
        .where(
            Enrolment.group_id == group.id,
            Referral.status.in_([s.value for s in IN_GROUP]),
        )
        .order_by(Enrolment.enrolled_at, Enrolment.id)
    ).all()
    places = []
    for enrolment, referral in rows:
        visible = _visible(uow, referral, today)
        if visible is not None:
            places.append(_Place(enrolment, referral, *visible))
    return places


def _place(uow: UnitOfWork, group: Group, enrolment_id: str, today: date) -> _Place:
    for place in _current_places(uow, group, today):
        if place.enrolment.id == enrolment_id:
            return place
    raise NotFound(_("No such child in this group."), field="enrolment_id")


def _sessions(group: Group) -> tuple[SessionView, ...]:
    return tuple(SessionView(s.id, s.number, s.day, s.kind) for s in group.sessions)


def _leader_ids(group: Group) -> tuple[str, ...]:
    return tuple(sorted(leader.user_id for leader in group.leaders))


def _state(group: Group) -> GroupState:
    return GroupState(
        group_id=group.id,
        name=group.name,
        group_format=group.format,
        start_date=group.start_date,
        min_age=group.min_age,
        max_age=group.max_age,
        status=group.status,
        leader_ids=_leader_ids(group),
        sessions=_sessions(group),
        started_at=group.started_at,
        completed_at=group.completed_at,
    )


def _summary(
    uow: UnitOfWork, group: Group, today: date, places: list[_Place] | None = None
) -> GroupSummary:
    if group.status == GroupStatus.COMPLETED.value:
        enrolled = uow.session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.group_id == group.id, Enrolment.completed_at.is_not(None))
        )
    else:
        enrolled = len(places if places is not None else _current_places(uow, group, today))
    planned = group.status == GroupStatus.PLANNED.value
    state = _state(group)
    return GroupSummary(
        **{field.name: getattr(state, field.name) for field in fields(state)},
        enrolled=enrolled or 0,
        places_left=max(GROUP_MAX - (enrolled or 0), 0) if planned else 0,
    )


def _record_for_child(
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    referral: Referral,
    object_type: str,
    object_id: str,
    legal_basis: str | None = None,
) -> None:
    record(
        uow.session,
        actor,
        action,
        object_type=object_type,
        object_id=object_id,
        subject=referral.key_scope(),
        legal_basis=legal_basis,
    )
