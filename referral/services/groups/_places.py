"""What the group modules share: the records they take and give, and how a group's places are
read (a child counts only while placed or participating and lawfully shared today)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from audit.actions import Action
from audit.record import Entry, record
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
from referral.services.sharing import children_by_id, partner_sees_referral, sharing_facts

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


def _visible_many(
    uow: UnitOfWork, referrals: Sequence[Referral], today: date
) -> dict[str, tuple[Child, PartnerShare]]:
    """`_visible` of each referral, by referral id (those the partner may see nothing of are
    left out), with the children and the facts of the law read for all of them at once."""
    held = [r for r in referrals if Status(r.status) in WITH_PARTNER]
    children = children_by_id(uow, [r.child_id for r in held])
    facts = sharing_facts(uow, children)
    visible = {}
    for referral in held:
        child = children.get(referral.child_id)
        assert child is not None
        share = partner_share(uow, referral, child, today, facts[child.id])
        if share is not None:
            visible[referral.id] = (child, share)
    return visible


def _held(
    uow: UnitOfWork, group_ids: Sequence[str], *, with_visits: bool = False
) -> list[tuple[Enrolment, Referral]]:
    """Each enrolment in these groups whose referral holds a place (placed or participating),
    in the order the children were enrolled; lawfulness is weighed by the caller."""
    if not group_ids:
        return []
    # By the groups alone, the places held picked here: asked for the referrals' status too,
    # SQLite (without statistics) began at the index on the status and read every referral
    # in a group in the city; a group has a few enrolments.
    query = (
        select(Enrolment, Referral)
        .join(Referral, Enrolment.referral_id == Referral.id)
        .where(Enrolment.group_id.in_(list(group_ids)))
        .order_by(Enrolment.enrolled_at, Enrolment.id)
    )
    if with_visits:
        query = query.options(selectinload(Enrolment.visits))
    return [
        (enrolment, referral)
        for enrolment, referral in uow.session.execute(query)
        if Status(referral.status) in IN_GROUP
    ]


def _places_by_group(
    uow: UnitOfWork, groups: Sequence[Group], today: date, *, with_visits: bool = False
) -> dict[str, list[_Place]]:
    """The children who hold a place in each group now, read for all the groups at once;
    `with_visits` reads every enrolment's visits in the same go, for a caller that shows or
    counts them."""
    places: dict[str, list[_Place]] = {group.id: [] for group in groups}
    rows = _held(uow, list(places), with_visits=with_visits)
    visible = _visible_many(uow, [referral for _, referral in rows], today)
    for enrolment, referral in rows:
        if referral.id in visible:
            places[enrolment.group_id].append(_Place(enrolment, referral, *visible[referral.id]))
    return places


def places_taken(uow: UnitOfWork, group_ids: Sequence[str], today: date) -> dict[str, int]:
    """How many children hold a place in each group now, counted by the same rule as
    `_places_by_group` (the partner may see the child today) without building what the
    partner would see: a count opens only the fields the law weighs, not the child's name or
    contact details. The inbox counts every planned group's places on each look (issue 18).
    One difference: a child whose name or contact details would not open still counts here,
    where the roster fails on them."""
    taken = dict.fromkeys(group_ids, 0)
    rows = _held(uow, group_ids)
    children = children_by_id(uow, [referral.child_id for _, referral in rows])
    facts = sharing_facts(uow, children)
    for enrolment, referral in rows:
        child = children[referral.child_id]
        if partner_sees_referral(uow, referral, child, today, facts[child.id]) is not None:
            taken[enrolment.group_id] += 1
    return taken


def _current_places(
    uow: UnitOfWork, group: Group, today: date, *, with_visits: bool = False
) -> list[_Place]:
    return _places_by_group(uow, [group], today, with_visits=with_visits)[group.id]


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


def _completed_counts(uow: UnitOfWork, group_ids: Sequence[str]) -> dict[str, int]:
    """How many took part to the end, per completed group, in one query for all of them."""
    if not group_ids:
        return {}
    rows = uow.session.execute(
        select(Enrolment.group_id, func.count())
        .where(Enrolment.group_id.in_(list(group_ids)), Enrolment.completed_at.is_not(None))
        .group_by(Enrolment.group_id)
    )
    return {group_id: int(count) for group_id, count in rows}


def places_left(taken: int) -> int:
    return max(GROUP_MAX - taken, 0)


def _summary(
    uow: UnitOfWork,
    group: Group,
    taken: int,
    completed: dict[str, int] | None = None,
) -> GroupSummary:
    """The group's state and counts: `taken`, the places held now (of a group not completed);
    `completed`, the counts of completed groups when the caller has read them for a list."""
    if group.status == GroupStatus.COMPLETED.value:
        if completed is None:
            completed = _completed_counts(uow, [group.id])
        enrolled = completed.get(group.id, 0)
    else:
        enrolled = taken
    planned = group.status == GroupStatus.PLANNED.value
    state = _state(group)
    return GroupSummary(
        **{field.name: getattr(state, field.name) for field in fields(state)},
        enrolled=enrolled,
        places_left=places_left(enrolled) if planned else 0,
    )


def _summaries(uow: UnitOfWork, groups: Sequence[Group], today: date) -> list[GroupSummary]:
    """`_summary` of each group, with every group's places and counts read at once."""
    running = [g.id for g in groups if g.status != GroupStatus.COMPLETED.value]
    taken = places_taken(uow, running, today)
    completed = _completed_counts(
        uow, [g.id for g in groups if g.status == GroupStatus.COMPLETED.value]
    )
    return [_summary(uow, g, taken.get(g.id, 0), completed) for g in groups]


def _entry_for_child(
    action: Action,
    referral: Referral,
    object_type: str,
    object_id: str,
    legal_basis: str | None = None,
) -> Entry:
    """What the access log says of one look at (or change to) a child in a group."""
    return Entry(
        action,
        object_type=object_type,
        object_id=object_id,
        subject=referral.key_scope(),
        legal_basis=legal_basis,
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
