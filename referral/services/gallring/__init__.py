"""Retention and purge (gallring, domain.md §5): each record type's rule (rules), what stops a
purge (holds), the erasure of one person-holder (erasure), and the plan and the run (engine).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config import Settings
from referral.actors import Actor
from referral.db.uow import UnitOfWork
from referral.services import returned_files
from referral.services.gallring.engine import Plan, RunResult, plan, run
from referral.services.gallring.rule_base import Unit

__all__ = ["Plan", "RunResult", "plan", "purge_due"]


def purge_due(
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
    today: date,
    signing_key: Ed25519PrivateKey,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Return to social services the file of every participation that has ended and has
    none yet (signed), then purge what is due."""

    def deliver(unit_uow: UnitOfWork, units: list[Unit]) -> int:
        if not units:
            return 0
        referral_ids = [unit.unit_id for unit in units]
        # The engine locked the units' referrals and read them afresh in this transaction.
        delivered = returned_files.deliver_many(
            unit_uow,
            actor,
            referral_ids,
            signing_key,
            today,
            already_locked=True,
            refresh_stale=True,
        )
        return sum(1 for file in delivered.values() if file.created)

    return run(uow, actor, settings, today, deliver, progress)
