"""Planning a support group: its name, format, age band, leaders and sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from audit.actions import Action
from audit.record import record
from referral.actors import Actor
from referral.db.groups import (
    Group,
    GroupLeader,
    GroupSession,
    GroupStatus,
)
from referral.db.models import Organisation, User
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotPermitted
from referral.i18n import _
from referral.policy import Permission, may_lead_groups_of, require
from referral.roles import OrganisationKind
from referral.rules import (
    MAX_AGE,
    MIN_AGE,
)
from referral.schedule import GroupFormat, plan_sessions, start_refusal
from referral.services.groups._places import (
    MAX_NAME,
    GroupState,
    NewGroup,
    _state,
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
            or not may_lead_groups_of(user.role_names, user.organisation_id, partner_id)
        ):
            raise InvalidInput(
                _("Each leader must be a group leader of this organisation."),
                field="leader_ids",
            )
    return chosen


def create_group(uow: UnitOfWork, actor: Actor, new: NewGroup, today: date) -> GroupState:
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
    return _state(group)
