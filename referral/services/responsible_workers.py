"""Who in the district is responsible for a child: the social worker whose own list ("Mina
barn", the start page) the child is on.

Registering a child makes the social worker who did it responsible; any social worker of
the district may hand the child to a colleague (or leave it with no one, between two). It
decides whose list the child is on, not who may open the record: every social worker of the
district still may, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from audit.actions import Action
from referral.actors import Actor
from referral.db.models import User, UserRole
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput
from referral.i18n import _
from referral.policy import Permission, can, require
from referral.roles import Role
from referral.services.children import record_child_access
from referral.services.loading import get_for


@dataclass(frozen=True)
class Colleague:
    id: str
    display_name: str


def _social_workers(uow: UnitOfWork, district_id: str) -> list[Colleague]:
    rows = uow.session.execute(
        select(User.id, User.display_name)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.organisation_id == district_id,
            User.active.is_(True),
            UserRole.role == Role.SOCIAL_WORKER.value,
        )
        .order_by(User.display_name, User.id)
    )
    return [Colleague(user_id, name) for user_id, name in rows]


def colleagues_to_choose(uow: UnitOfWork, actor: Actor, child_id: str) -> list[Colleague] | None:
    """The active social workers of the child's district, whom the child may be given to;
    None when the actor may not change the child's record (a reader through an emergency
    grant), so that the page offers no form. Asked without refusing (nothing to log): the
    page's read of the record was checked and logged already, and names of staff are work
    identities, not the child's data."""
    child = uow.session.get(Child, child_id)
    if child is None or not can(actor, Permission.CHILD_UPDATE, child):
        return None
    return _social_workers(uow, child.district_id)


def set_responsible_worker(
    uow: UnitOfWork, actor: Actor, child_id: str, worker_id: str | None
) -> str | None:
    """Make `worker_id` (an active social worker of the child's district) responsible for
    the child, or no one when empty; a change of the child's record in the log."""
    require(actor, Permission.CHILD_UPDATE)
    child = get_for(uow, actor, Permission.CHILD_UPDATE, Child, child_id, field="child")
    chosen = worker_id or None
    if chosen is not None and chosen not in {c.id for c in _social_workers(uow, child.district_id)}:
        raise InvalidInput(
            _("Choose one of the district's social workers."), field="responsible_worker_id"
        )
    child.responsible_worker_id = chosen
    uow.session.flush()
    record_child_access(uow, actor, Action.CHILD_UPDATE, child)
    uow.commit()
    return chosen
