"""Reading groups: the roster, the year's overview, and the groups with room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from audit.actions import Action
from audit.record import record_many
from referral.actors import Actor
from referral.db.groups import (
    Attendance,
    Group,
    GroupStatus,
)
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.policy import Permission, organisation_scope, require
from referral.rules import (
    Status,
    group_has_room,
)
from referral.services.groups._places import (
    GroupSummary,
    Roster,
    RosterEntry,
    YearOverview,
    _current_places,
    _entry_for_child,
    _group,
    _Place,
    _places_by_group,
    _summaries,
    _summary,
    _visible_many,
    places_left,
    places_taken,
)

# --- reading ---------------------------------------------------------------------------------


def _entry(place: _Place, marks: Sequence[Attendance]) -> RosterEntry:
    visit = place.enrolment.visits[-1] if place.enrolment.visits else None
    return RosterEntry(
        enrolment_id=place.enrolment.id,
        referral_id=place.referral.id,
        status=place.referral.status,
        name=place.share.view.name,
        age=place.share.view.age,
        visit_kind=visit.kind if visit else None,
        visit_day=visit.day if visit else None,
        attendance={mark.session_id: mark.present for mark in marks},
    )


def _marks(uow: UnitOfWork, places: Sequence[_Place]) -> dict[str, list[Attendance]]:
    """Each enrolment's attendance marks, read in one query for the whole roster."""
    marks: dict[str, list[Attendance]] = {place.enrolment.id: [] for place in places}
    if marks:
        query = select(Attendance).where(Attendance.enrolment_id.in_(list(marks)))
        for mark in uow.session.scalars(query):
            marks[mark.enrolment_id].append(mark)
    return marks


def group_roster(uow: UnitOfWork, actor: Actor, group_id: str, today: date) -> Roster:
    """The group and the children the partner may lawfully see today. Each child shown is
    recorded with its legal basis (one entry each, in one write) before the roster is
    returned."""
    group = _group(uow, actor, group_id, Permission.GROUP_READ)
    places = _current_places(uow, group, today, with_visits=True)
    record_many(
        uow.session,
        actor,
        [
            _entry_for_child(
                Action.GROUP_READ,
                place.referral,
                "enrolment",
                place.enrolment.id,
                place.share.basis.kind.value,
            )
            for place in places
        ],
    )
    marks = _marks(uow, places)
    roster = Roster(
        group=_summary(uow, group, len(places)),
        children=tuple(_entry(place, marks[place.enrolment.id]) for place in places),
    )
    uow.commit()
    return roster


_Selected = TypeVar("_Selected", bound=Select[*tuple[Any, ...]])


def _starting(query: _Selected, partner_id: str | None, first: date, last: date) -> _Selected:
    """`query` narrowed to the groups starting from `first` to `last` (the partner's, unless
    the actor sees every partner's), soonest first."""
    query = query.where(Group.start_date >= first, Group.start_date <= last)
    if partner_id is not None:
        query = query.where(Group.partner_id == partner_id)
    return query.order_by(Group.start_date, Group.name)


def _groups_starting(
    uow: UnitOfWork, partner_id: str | None, first: date, last: date
) -> list[Group]:
    # Each group's sessions and leaders are in its summary: read for all groups at once.
    query = select(Group).options(selectinload(Group.sessions), selectinload(Group.leaders))
    return list(uow.session.scalars(_starting(query, partner_id, first, last)))


def year_overview(uow: UnitOfWork, actor: Actor, year: int, today: date) -> YearOverview:
    """The partner's groups starting in `year`, with places left, and how many accepted
    children wait for a group. Counts only: no child is shown, so nothing is recorded."""
    require(actor, Permission.GROUP_READ)
    partner_id = organisation_scope(actor)
    groups = _groups_starting(uow, partner_id, date(year, 1, 1), date(year, 12, 31))
    waiting_query = select(Referral).where(Referral.status == Status.ACCEPTED.value)
    if partner_id is not None:
        waiting_query = waiting_query.where(Referral.partner_id == partner_id)
    waiting = len(_visible_many(uow, list(uow.session.scalars(waiting_query)), today))
    return YearOverview(
        year=year,
        groups=tuple(_summaries(uow, groups, today)),
        children_waiting=waiting,
    )


@dataclass(frozen=True)
class GroupWithRoom:
    """A planned group that still has places: what the inbox's place form offers. No child,
    no sessions, no leaders."""

    group_id: str
    name: str
    start_date: date
    places_left: int


def groups_with_room(uow: UnitOfWork, actor: Actor, today: date) -> list[GroupWithRoom]:
    """Planned groups starting this year or next that still have places: where an accepted
    child can be placed. Counts only, like the overview, without counting who waits. The
    inbox asks this on every look, so it reads the groups' own columns and the places held,
    not each group's sessions and leaders as a summary would."""
    require(actor, Permission.GROUP_READ)
    query = select(Group.id, Group.name, Group.start_date).where(
        Group.status == GroupStatus.PLANNED.value
    )
    first, last = date(today.year, 1, 1), date(today.year + 1, 12, 31)
    planned = uow.session.execute(_starting(query, organisation_scope(actor), first, last)).all()
    taken = places_taken(uow, [row.id for row in planned], today)
    return [
        GroupWithRoom(row.id, row.name, row.start_date, places_left(taken[row.id]))
        for row in planned
        if group_has_room(taken[row.id])
    ]


@dataclass(frozen=True)
class GroupReadiness:
    """A group starting soon and how ready it is: counts only, no child."""

    group: GroupSummary
    led_by_me: bool
    with_visit: int  # children in it whose pre-group visit is recorded

    @property
    def without_visit(self) -> int:
        return self.group.enrolled - self.with_visit


def groups_starting_soon(
    uow: UnitOfWork, actor: Actor, today: date, days: int
) -> list[GroupReadiness]:
    """The partner's planned groups starting within `days` of `today` (and those whose start
    has passed without being started), soonest first, with how many children still need
    their pre-group visit. Counts only, like the year overview: nothing to record."""
    require(actor, Permission.GROUP_READ)
    groups = _groups_starting(
        uow, organisation_scope(actor), today - timedelta(days=days), today + timedelta(days=days)
    )
    planned = [g for g in groups if g.status == GroupStatus.PLANNED.value]
    places_by_group = _places_by_group(uow, planned, today, with_visits=True)
    soon = []
    for group in planned:
        places = places_by_group[group.id]
        soon.append(
            GroupReadiness(
                group=_summary(uow, group, len(places)),
                led_by_me=actor.user_id in {leader.user_id for leader in group.leaders},
                with_visit=sum(1 for place in places if place.enrolment.visits),
            )
        )
    return soon
