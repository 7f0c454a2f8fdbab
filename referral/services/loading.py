"""Loading one record for an actor: the get, the 404 and the policy's check, in one place.

A record that does not exist and one outside the actor's scope answer alike (404 naming the
field), so that a refusal never reveals that a record exists; the refusal is logged by the
unit of work like every other (see referral.policy.require).
"""

from __future__ import annotations

from typing import TypeVar

from referral.actors import Actor
from referral.db.uow import UnitOfWork
from referral.errors import NotFound
from referral.i18n import _
from referral.policy import Permission, require

T = TypeVar("T")


def get_for(
    uow: UnitOfWork,
    actor: Actor,
    permission: Permission,
    model: type[T],
    record_id: str | None,
    *,
    field: str,
    lock: bool = False,
) -> T:
    """The `model` row `record_id` if `actor` may do `permission` on it, else NotFound.
    With `lock`, the row is locked until commit and read afresh (SELECT … FOR UPDATE)."""
    found = (
        uow.session.get(model, record_id, with_for_update=lock or None, populate_existing=lock)
        if record_id
        else None
    )
    # A purged row (its person's keys shredded, its fields emptied) is gone for everyone.
    if found is None or getattr(found, "purged_at", None) is not None:
        raise NotFound(_("No such record."), field=field)
    try:
        require(actor, permission, found)
    except NotFound as hidden:
        hidden.field = field  # as for a record that does not exist: the answers are alike
        raise
    return found
