"""Placing children in a group: enrolment under a row lock, the pre-group visit, and the
start (which needs every child visited and every interest confirmed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.base import utcnow
from referral.db.groups import (
    Enrolment,
    Group,
    GroupStatus,
    Visit,
    VisitKind,
)
from referral.db.interest import InterestRegistration, InterestStatus
from referral.db.notifications import NoticeKind
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission
from referral.rules import (
    GROUP_MAX,
    GROUP_MIN,
    MAX_AGE,
    MIN_AGE,
    Category,
    NotLawful,
    Status,
    age_fits,
    age_on,
    group_can_start,
    group_has_room,
)
from referral.services.groups._places import (
    GroupState,
    NewVisit,
    _current_places,
    _group,
    _place,
    _record_for_child,
    _state,
    _visible,
)
from referral.services.loading import get_for
from referral.services.notifications import notify
from referral.services.referrals import (
    PartnerShare,
    move_referral,
    refuse_unlawful,
)
from referral.services.sharing import birth_date_of, sharing_basis_for


@dataclass(frozen=True)
class EnrolmentState:
    """A child's new place in a group, by ids: the enrolment points at the referral, never at
    the child."""

    enrolment_id: str
    group_id: str
    referral_id: str
    enrolled_at: datetime


@dataclass(frozen=True)
class RecordedVisit:
    """A pre-group visit as recorded: its kind and day, under the enrolment's id."""

    visit_id: str
    enrolment_id: str
    kind: str
    day: date


# --- enrolment -------------------------------------------------------------------------------


def _referral_for_partner(
    uow: UnitOfWork, actor: Actor, referral_id: str, today: date
) -> tuple[Referral, Child, PartnerShare]:
    """The referral, locked, if the partner may see it now; otherwise 404, and the attempt is
    in the access log (as when responding to a referral that is not lawful to share)."""
    # Locked so that a withdrawal committing meanwhile is seen, not overwritten by `placed`.
    referral = get_for(
        uow,
        actor,
        Permission.GROUP_MANAGE,
        Referral,
        referral_id,
        field="referral_id",
        lock=True,
    )
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


def enrol(
    uow: UnitOfWork, actor: Actor, group_id: str, referral_id: str, today: date
) -> EnrolmentState:
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
    # The district arranges the child's travel: it hears which group, and its dates.
    notify(uow, referral.district_id, NoticeKind.CHILD_PLACED, referral)
    _record_for_child(
        uow, actor, Action.GROUP_ENROL, referral, "enrolment", enrolment.id, share.basis.kind.value
    )
    uow.commit()
    return EnrolmentState(
        enrolment.id, enrolment.group_id, enrolment.referral_id, enrolment.enrolled_at
    )


# --- before the start: the visit -------------------------------------------------------------


def record_visit(
    uow: UnitOfWork, actor: Actor, group_id: str, new: NewVisit, today: date
) -> RecordedVisit:
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
    return RecordedVisit(visit.id, place.enrolment.id, visit.kind, visit.day)


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


def start_group(uow: UnitOfWork, actor: Actor, group_id: str, today: date) -> GroupState:
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
        notify(uow, place.referral.district_id, NoticeKind.GROUP_STARTED, place.referral)
        _record_for_child(
            uow, actor, Action.GROUP_START, place.referral, "enrolment", place.enrolment.id
        )
    record(uow.session, actor, Action.GROUP_START, object_type="group", object_id=group.id)
    uow.commit()
    return _state(group)
