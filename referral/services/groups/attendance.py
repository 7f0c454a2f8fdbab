"""A running group: attendance per session, and completion (which ends each child's
participation and starts the partner-side retention clock)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.groups import (
    Attendance,
    Enrolment,
    GroupSession,
    GroupStatus,
)
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission
from referral.rules import (
    Status,
)
from referral.services.groups._places import (
    GroupState,
    _current_places,
    _group,
    _record_for_child,
    _state,
)
from referral.services.referrals import (
    move_referral,
)


@dataclass(frozen=True)
class AttendanceMark:
    """Present or absent: one child's mark for one session, by enrolment id."""

    session_id: str
    enrolment_id: str
    present: bool


# --- running: attendance ---------------------------------------------------------------------


def record_attendance(
    uow: UnitOfWork,
    actor: Actor,
    group_id: str,
    session_id: str,
    present: Mapping[str, bool],
    today: date,
) -> list[AttendanceMark]:
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
        marks.append(AttendanceMark(mark.session_id, mark.enrolment_id, mark.present))
    uow.commit()
    return marks


# --- the end: completion ---------------------------------------------------------------------


def complete_group(uow: UnitOfWork, actor: Actor, group_id: str, today: date) -> GroupState:
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
    return _state(group)
