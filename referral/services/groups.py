"""The partner's support groups (Programme A, domain.md §2): plan a group, place children from
accepted referrals in it, record each child's pre-group visit and attendance, start and
complete it.

A group holds 5 to 8 children. Places are counted under a row lock on the group, so two leaders
enrolling at the same moment cannot make nine. A child counts, and is shown, only while the
referral is placed or participating (not withdrawn) and sharing is lawful today: lawfulness is
decided on every call, never stored (a lapsed consent frees the place at once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.groups import (
    Attendance,
    Enrolment,
    Group,
    GroupLeader,
    GroupSession,
    GroupStatus,
    Visit,
    VisitKind,
)
from referral.db.interest import InterestRegistration, InterestStatus
from referral.db.models import Organisation, User
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound, NotPermitted
from referral.i18n import _
from referral.policy import Permission, organisation_scope, require
from referral.roles import OrganisationKind, Role
from referral.rules import (
    GROUP_MAX,
    GROUP_MIN,
    MAX_AGE,
    MIN_AGE,
    WITH_PARTNER,
    Category,
    NotLawful,
    Status,
    age_fits,
    age_on,
    group_can_start,
    group_has_room,
)
from referral.schedule import GroupFormat, plan_sessions, start_refusal
from referral.services.referrals import (
    PartnerShare,
    move_referral,
    partner_share,
    refuse_unlawful,
)
from referral.services.sharing import birth_date_of, sharing_basis_for

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
class GroupSummary:
    """A group without any child in it: safe for lists and the year overview."""

    group_id: str
    name: str
    group_format: str
    start_date: date
    min_age: int
    max_age: int
    status: str
    leader_ids: tuple[str, ...]
    sessions: tuple[SessionView, ...]
    enrolled: int  # children who count now (completed groups: participations completed)
    places_left: int  # 0 unless the group is still planned
    started_at: datetime | None
    completed_at: datetime | None


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
    query = select(Group).where(Group.id == group_id)
    if lock:
        # Whatever is counted or changed next is decided under this row lock: a second leader
        # waits here until the first commits, then counts the first one's child.
        # (PostgreSQL: SELECT ... FOR UPDATE; SQLite serialises writers anyway.)
        query = query.with_for_update().execution_options(populate_existing=True)
    group = uow.session.scalars(query).one_or_none()
    if group is None:
        raise NotFound(_("No such record."), field="group")
    require(actor, permission, group)  # another partner's group answers 404
    return group


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
    return GroupSummary(
        group_id=group.id,
        name=group.name,
        group_format=group.format,
        start_date=group.start_date,
        min_age=group.min_age,
        max_age=group.max_age,
        status=group.status,
        leader_ids=tuple(sorted(leader.user_id for leader in group.leaders)),
        sessions=tuple(SessionView(s.id, s.number, s.day, s.kind) for s in group.sessions),
        enrolled=enrolled or 0,
        places_left=max(GROUP_MAX - (enrolled or 0), 0) if planned else 0,
        started_at=group.started_at,
        completed_at=group.completed_at,
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


# --- planning --------------------------------------------------------------------------------


def _name(value: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(_("This field is required."), field="name")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_NAME), field="name")
    return cleaned


def _format(value: str, start: date, today: date) -> GroupFormat:
    try:
        group_format = GroupFormat(value)
    except ValueError:
        raise InvalidInput(_("The format is weekly or weekend."), field="group_format") from None
    if start_refusal(group_format, start) is not None:
        # The only refusal referral.schedule knows; its rule is spelled out for translation.
        raise InvalidInput(_("A support weekend starts on a Friday."), field="start_date")
    if start < today:
        raise InvalidInput(_("The start date has already passed."), field="start_date")
    return group_format


def _check_age_band(min_age: int, max_age: int) -> None:
    if not MIN_AGE <= min_age <= max_age <= MAX_AGE:
        raise InvalidInput(
            _(
                "The age band lies within %(lowest)s to %(highest)s years, youngest first.",
                lowest=MIN_AGE,
                highest=MAX_AGE,
            ),
            field="min_age",
        )


def _leaders(uow: UnitOfWork, partner_id: str, leader_ids: Sequence[str]) -> list[str]:
    chosen = sorted(set(leader_ids))
    if not chosen:
        raise InvalidInput(_("Choose at least one group leader."), field="leader_ids")
    for user_id in chosen:
        user = uow.session.get(User, user_id)
        if (
            user is None
            or not user.active
            or user.organisation_id != partner_id
            or Role.GROUP_LEADER not in user.role_names
        ):
            raise InvalidInput(
                _("Each leader must be a group leader of this organisation."),
                field="leader_ids",
            )
    return chosen


def create_group(uow: UnitOfWork, actor: Actor, new: NewGroup, today: date) -> Group:
    """A planned group of the actor's partner organisation, with its sessions generated."""
    require(actor, Permission.GROUP_MANAGE)
    partner = uow.session.get(Organisation, actor.organisation_id or "")
    if partner is None or partner.kind != OrganisationKind.PARTNER.value:
        raise NotPermitted(_("Only a partner organisation runs groups."))
    name = _name(new.name)
    group_format = _format(new.group_format, new.start_date, today)
    _check_age_band(new.min_age, new.max_age)
    leaders = _leaders(uow, partner.id, new.leader_ids)
    group = Group(
        partner_id=partner.id,
        name=name,
        format=group_format.value,
        start_date=new.start_date,
        min_age=new.min_age,
        max_age=new.max_age,
        status=GroupStatus.PLANNED.value,
        created_by=actor.user_id,
    )
    group.sessions = [
        GroupSession(number=s.number, day=s.day, kind=s.kind.value)
        for s in plan_sessions(group_format, new.start_date)
    ]
    group.leaders = [GroupLeader(user_id=user_id) for user_id in leaders]
    require(actor, Permission.GROUP_MANAGE, group)
    uow.session.add(group)
    uow.session.flush()
    record(uow.session, actor, Action.GROUP_CREATE, object_type="group", object_id=group.id)
    uow.commit()
    return group


# --- enrolment -------------------------------------------------------------------------------


def _referral_for_partner(
    uow: UnitOfWork, actor: Actor, referral_id: str, today: date
) -> tuple[Referral, Child, PartnerShare]:
    """The referral, locked, if the partner may see it now; otherwise 404, and the attempt is
    in the access log (as when responding to a referral that is not lawful to share)."""
    db = uow.session
    # Locked so that a withdrawal committing meanwhile is seen, not overwritten by `placed`.
    referral = db.get(Referral, referral_id, with_for_update=True, populate_existing=True)
    if referral is None:
        raise NotFound(_("No such record."), field="referral_id")
    require(actor, Permission.GROUP_MANAGE, referral)
    visible = _visible(uow, referral, today)
    if visible is None:
        refuse_unlawful(uow, actor, referral, "referral_id")
    return referral, *visible


def _check_age(group: Group, child: Child) -> None:
    birth_date = birth_date_of(child)
    if not age_fits(birth_date, group.start_date):
        raise Conflict(
            _(
                "The support groups take children aged %(lowest)s to %(highest)s at the "
                "group's start date; this child's age is outside that.",
                lowest=MIN_AGE,
                highest=MAX_AGE,
            ),
            field="referral_id",
        )
    if not group.min_age <= age_on(birth_date, group.start_date) <= group.max_age:
        raise Conflict(
            _(
                "This group takes children aged %(lowest)s to %(highest)s at its start date; "
                "this child's age is outside that.",
                lowest=group.min_age,
                highest=group.max_age,
            ),
            field="referral_id",
        )


def _check_planned(group: Group) -> None:
    if group.status != GroupStatus.PLANNED.value:
        raise Conflict(
            _(
                "The group is %(status)s: children are enrolled only before it starts.",
                status=group.status,
            ),
            field="group",
        )


def enrol(uow: UnitOfWork, actor: Actor, group_id: str, referral_id: str, today: date) -> Enrolment:
    """Place the child of an accepted referral in a planned group that has room; the referral
    becomes `placed`. The 9th child is refused however many leaders enrol at once."""
    group = _group(uow, actor, group_id, Permission.GROUP_MANAGE, lock=True)
    referral, child, share = _referral_for_partner(uow, actor, referral_id, today)
    if referral.partner_id != group.partner_id:
        raise NotFound(_("No such record."), field="referral_id")
    if referral.status != Status.ACCEPTED.value:
        raise Conflict(
            _(
                "Only an accepted referral can be placed in a group; this one is %(status)s.",
                status=referral.status,
            ),
            field="referral_id",
        )
    _check_planned(group)
    _check_age(group, child)
    if isinstance(sharing_basis_for(uow, child, Category.PARTICIPATION, today), NotLawful):
        raise Conflict(
            # Worded alike for consent and LVU: the partner is not told which it is.
            _("The district has not shared the registering of this child's participation."),
            field="referral_id",
        )
    places = _current_places(uow, group, today)
    if any(place.referral.child_id == child.id for place in places):
        raise Conflict(_("The child is already in this group."), field="referral_id")
    if not group_has_room(len(places)):
        raise Conflict(
            _("The group is full: a group holds at most %(n)s children.", n=GROUP_MAX),
            field="group",
        )
    enrolment = Enrolment(group_id=group.id, referral_id=referral.id, enrolled_by=actor.user_id)
    uow.session.add(enrolment)
    uow.session.flush()
    move_referral(uow, actor, referral, Status.PLACED)
    _record_for_child(
        uow, actor, Action.GROUP_ENROL, referral, "enrolment", enrolment.id, share.basis.kind.value
    )
    uow.commit()
    return enrolment


# --- before the start: the visit -------------------------------------------------------------


def record_visit(uow: UnitOfWork, actor: Actor, group_id: str, new: NewVisit, today: date) -> Visit:
    """The home visit, or the meeting at the partner's premises, before the first session."""
    group = _group(uow, actor, group_id, Permission.GROUP_MANAGE)
    place = _place(uow, group, new.enrolment_id, today)
    _check_planned(group)
    try:
        kind = VisitKind(new.kind)
    except ValueError:
        raise InvalidInput(
            _("The visit is a home visit or a meeting at the partner's premises."), field="kind"
        ) from None
    if new.day > group.first_day:
        raise InvalidInput(
            _("The visit must be on or before the first session, %(day)s.", day=group.first_day),
            field="day",
        )
    if new.day > today:
        raise InvalidInput(_("A visit is recorded once it has taken place."), field="day")
    visit = Visit(
        enrolment=place.enrolment, kind=kind.value, day=new.day, recorded_by=actor.user_id
    )
    uow.session.add(visit)
    uow.session.flush()
    _record_for_child(uow, actor, Action.GROUP_VISIT, place.referral, "visit", visit.id)
    uow.commit()
    return visit


def participation_start_refusals(
    uow: UnitOfWork, enrolment: Enrolment, child: Child, today: date
) -> list[str]:
    """Why this child's participation cannot start yet; empty when it can.

    This is the one place that says what must be true before a child participates, including
    the district's confirmation of an interest registration (domain.md §2)."""
    reasons = []
    if not enrolment.visits:
        reasons.append(_("Every child needs a pre-group visit recorded before the group starts."))
    if isinstance(sharing_basis_for(uow, child, Category.PARTICIPATION, today), NotLawful):
        reasons.append(
            _(
                "The registering of every child's participation must be shared by the district "
                "before the start."
            )
        )
    if _unconfirmed_interest(uow, enrolment.referral_id):
        reasons.append(
            _(
                "A child who came through a family home's interest registration starts only "
                "once the responsible district has confirmed it."
            )
        )
    return reasons


def _unconfirmed_interest(uow: UnitOfWork, referral_id: str) -> bool:
    """Social services must be informed before participation starts (domain.md §2). A
    registration gives the partner nothing to enrol: the referral exists only because the
    district confirmed (referral.services.interest.confirm creates it and marks the
    registration confirmed in one transaction), and it then waits for consent or LVU like any
    other. So this holds by construction; it is checked here as well so that no other path
    that links a referral to a registration can start a child without the confirmation."""
    unconfirmed = uow.session.scalar(
        select(func.count())
        .select_from(InterestRegistration)
        .where(
            InterestRegistration.referral_id == referral_id,
            InterestRegistration.status != InterestStatus.CONFIRMED.value,
        )
    )
    return bool(unconfirmed)


def start_group(uow: UnitOfWork, actor: Actor, group_id: str, today: date) -> Group:
    """5 to 8 children, each ready to participate: every placed child becomes participating."""
    group = _group(uow, actor, group_id, Permission.GROUP_MANAGE, lock=True)
    _check_planned(group)
    places = _current_places(uow, group, today)
    if not group_can_start(len(places)):
        raise Conflict(
            _(
                "A group starts with %(lowest)s to %(highest)s children; this one has %(n)s.",
                lowest=GROUP_MIN,
                highest=GROUP_MAX,
                n=len(places),
            ),
            field="group",
        )
    reasons: list[str] = []
    for place in places:
        for reason in participation_start_refusals(uow, place.enrolment, place.child, today):
            if reason not in reasons:
                reasons.append(reason)
    if reasons:
        raise Conflict(" ".join(reasons), field="enrolments")
    group.status = GroupStatus.STARTED.value
    group.started_at = utcnow()
    for place in places:
        move_referral(uow, actor, place.referral, Status.PARTICIPATING)
        _record_for_child(
            uow, actor, Action.GROUP_START, place.referral, "enrolment", place.enrolment.id
        )
    record(uow.session, actor, Action.GROUP_START, object_type="group", object_id=group.id)
    uow.commit()
    return group


# --- running: attendance ---------------------------------------------------------------------


def record_attendance(
    uow: UnitOfWork,
    actor: Actor,
    group_id: str,
    session_id: str,
    present: Mapping[str, bool],
    today: date,
) -> list[Attendance]:
    """Present or absent, per enrolment id, for one session of a started group. Recording
    again corrects the earlier mark."""
    group = _group(uow, actor, group_id, Permission.GROUP_MANAGE)
    session = uow.session.get(GroupSession, session_id)
    if session is None or session.group_id != group.id:
        raise NotFound(_("No such session in this group."), field="session_id")
    if group.status != GroupStatus.STARTED.value:
        raise Conflict(
            _(
                "Attendance is recorded only while the group is running; it is %(status)s.",
                status=group.status,
            ),
            field="group",
        )
    if session.day > today:
        raise InvalidInput(
            _("Attendance is recorded on or after the session's day."), field="session_id"
        )
    if not present:
        raise InvalidInput(_("Mark each child present or absent."), field="attendance")
    places = {place.enrolment.id: place for place in _current_places(uow, group, today)}
    if not set(present) <= set(places):
        raise NotFound(_("No such child in this group."), field="attendance")
    marks = []
    for enrolment_id, is_present in sorted(present.items()):
        mark = uow.session.scalars(
            select(Attendance).where(
                Attendance.session_id == session.id, Attendance.enrolment_id == enrolment_id
            )
        ).one_or_none()
        if mark is None:
            mark = Attendance(session_id=session.id, enrolment_id=enrolment_id)
            uow.session.add(mark)
        mark.present = bool(is_present)
        mark.recorded_by = actor.user_id
        mark.recorded_at = utcnow()
        uow.session.flush()
        referral = places[enrolment_id].referral
        _record_for_child(uow, actor, Action.GROUP_ATTENDANCE, referral, "attendance", mark.id)
        marks.append(mark)
    uow.commit()
    return marks


# --- the end: completion ---------------------------------------------------------------------


def complete_group(uow: UnitOfWork, actor: Actor, group_id: str, today: date) -> Group:
    """After its last session: every participation is completed and stamped `completed_at`,
    which starts the partner-side retention clock (domain.md §5)."""
    group = _group(uow, actor, group_id, Permission.GROUP_MANAGE, lock=True)
    if group.status != GroupStatus.STARTED.value:
        raise Conflict(
            _(
                "Only a running group can be completed; this one is %(status)s.",
                status=group.status,
            ),
            field="group",
        )
    last_day = group.sessions[-1].day
    if today < last_day:
        raise Conflict(
            _("A group is completed after its last session, %(day)s.", day=last_day),
            field="group",
        )
    now = utcnow()
    # Every participation, lawful to see today or not: completion is what ends the partner's
    # holding of the child's data, so a lapsed consent must not keep a participation open.
    rows = uow.session.execute(
        select(Enrolment, Referral)
        .join(Referral, Enrolment.referral_id == Referral.id)
        .where(Enrolment.group_id == group.id, Referral.status == Status.PARTICIPATING.value)
        .order_by(Enrolment.enrolled_at, Enrolment.id)
    ).all()
    for enrolment, referral in rows:
        move_referral(uow, actor, referral, Status.COMPLETED)
        referral.completed_at = now
        enrolment.completed_at = now
        _record_for_child(uow, actor, Action.GROUP_COMPLETE, referral, "enrolment", enrolment.id)
    group.status = GroupStatus.COMPLETED.value
    group.completed_at = now
    record(uow.session, actor, Action.GROUP_COMPLETE, object_type="group", object_id=group.id)
    uow.commit()
    return group


# --- reading ---------------------------------------------------------------------------------


def _entry(uow: UnitOfWork, place: _Place) -> RosterEntry:
    visit = place.enrolment.visits[-1] if place.enrolment.visits else None
    marks = uow.session.scalars(
        select(Attendance).where(Attendance.enrolment_id == place.enrolment.id)
    )
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


def group_roster(uow: UnitOfWork, actor: Actor, group_id: str, today: date) -> Roster:
    """The group and the children the partner may lawfully see today. Each child shown is
    recorded with its legal basis before the roster is returned."""
    group = _group(uow, actor, group_id, Permission.GROUP_READ)
    places = _current_places(uow, group, today)
    for place in places:
        _record_for_child(
            uow,
            actor,
            Action.GROUP_READ,
            place.referral,
            "enrolment",
            place.enrolment.id,
            place.share.basis.kind.value,
        )
    roster = Roster(
        group=_summary(uow, group, today, places),
        children=tuple(_entry(uow, place) for place in places),
    )
    uow.commit()
    return roster


def _groups_starting(
    uow: UnitOfWork, partner_id: str | None, first: date, last: date
) -> list[Group]:
    query = select(Group).where(Group.start_date >= first, Group.start_date <= last)
    if partner_id is not None:
        query = query.where(Group.partner_id == partner_id)
    return list(uow.session.scalars(query.order_by(Group.start_date, Group.name)))


def year_overview(uow: UnitOfWork, actor: Actor, year: int, today: date) -> YearOverview:
    """The partner's groups starting in `year`, with places left, and how many accepted
    children wait for a group. Counts only: no child is shown, so nothing is recorded."""
    require(actor, Permission.GROUP_READ)
    partner_id = organisation_scope(actor)
    groups = _groups_starting(uow, partner_id, date(year, 1, 1), date(year, 12, 31))
    waiting_query = select(Referral).where(Referral.status == Status.ACCEPTED.value)
    if partner_id is not None:
        waiting_query = waiting_query.where(Referral.partner_id == partner_id)
    waiting = sum(
        1 for referral in uow.session.scalars(waiting_query) if _visible(uow, referral, today)
    )
    return YearOverview(
        year=year,
        groups=tuple(_summary(uow, group, today) for group in groups),
        children_waiting=waiting,
    )


def groups_with_room(uow: UnitOfWork, actor: Actor, today: date) -> list[GroupSummary]:
    """Planned groups starting this year or next that still have places: where an accepted
    child can be placed. Counts only, like the overview, without counting who waits."""
    require(actor, Permission.GROUP_READ)
    groups = _groups_starting(
        uow, organisation_scope(actor), date(today.year, 1, 1), date(today.year + 1, 12, 31)
    )
    planned = (g for g in groups if g.status == GroupStatus.PLANNED.value)
    summaries = (_summary(uow, group, today) for group in planned)
    return [summary for summary in summaries if summary.places_left > 0]
