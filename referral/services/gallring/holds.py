"""Legal holds: what stops a purge. A hold set by the DPO or an administrator, with a reason,
stands until released; an unacknowledged concern report about the person holds every unit of
theirs (domain.md §5). Setting, releasing and reading holds is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import or_, select

from audit.actions import Action
from audit.record import record
from config import Settings
from referral.actors import Actor
from referral.db.base import chunks, one_of, utcnow
from referral.db.concern import ConcernReport, ConcernStatus
from referral.db.retention import LegalHold, hold_holder
from referral.db.uow import UnitOfWork
from referral.errors import Conflict, InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, require
from referral.services.gallring.rule_base import Unit
from referral.services.gallring.rules import RULES_BY_NAME
from referral.services.users import staff_names

REASON_MOST = 500


class HoldKind(StrEnum):
    LEGAL_HOLD = "legal_hold"  # set by the DPO or an administrator
    OPEN_CONCERN_REPORT = "open_concern_report"  # not yet acknowledged by its receiver


@dataclass(frozen=True)
class HoldView:
    id: str
    rule: str
    unit_reference: str
    set_by: str
    set_at: datetime
    reason: str | None  # None once the record it held was purged (the reason with it)
    released_by: str | None
    released_at: datetime | None


def holds_on_many(uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, list[HoldKind]]:
    """Why each unit may not be purged now, by unit id (empty: nothing holds it)."""
    db = uow.session
    held: dict[str, list[HoldKind]] = {unit.unit_id: [] for unit in units}
    by_person: dict[str, list[Unit]] = {}
    for unit in units:
        by_person.setdefault(unit.person_id, []).append(unit)
    rules = {unit.unit_id: unit.rule for unit in units}
    for chunk in chunks([unit.unit_id for unit in units]):
        for rule, unit_id in db.execute(
            select(LegalHold.rule, LegalHold.unit_id)
            .where(one_of(db, LegalHold.unit_id, chunk), LegalHold.released_at.is_(None))
            .distinct()
        ):
            if rules.get(unit_id) == rule:
                held[unit_id].append(HoldKind.LEGAL_HOLD)
    open_about: set[str] = set()
    for chunk in chunks(list(by_person)):
        for child_id, youth_id in db.execute(
            select(ConcernReport.child_id, ConcernReport.youth_id).where(
                ConcernReport.status == ConcernStatus.OPEN.value,
                or_(
                    one_of(db, ConcernReport.child_id, chunk),
                    one_of(db, ConcernReport.youth_id, chunk),
                ),
            )
        ):
            open_about.update(person for person in (child_id, youth_id) if person)
    for person_id in open_about & set(by_person):
        for unit in by_person[person_id]:
            held[unit.unit_id].append(HoldKind.OPEN_CONCERN_REPORT)
    return held


def holds_on(uow: UnitOfWork, unit: Unit) -> list[HoldKind]:
    """Why `unit` may not be purged now (empty: nothing holds it)."""
    return holds_on_many(uow, [unit])[unit.unit_id]


def released_holds_of(uow: UnitOfWork, units: Sequence[Unit]) -> dict[str, tuple[str, ...]]:
    """Per unit id, the holders of the reasons of holds once set on it (a released hold's
    reason may name the person, so the unit's purge takes it too)."""
    found: dict[str, list[str]] = {unit.unit_id: [] for unit in units}
    rules = {unit.unit_id: unit.rule for unit in units}
    for chunk in chunks([unit.unit_id for unit in units]):
        for hold_id, rule, unit_id in uow.session.execute(
            select(LegalHold.id, LegalHold.rule, LegalHold.unit_id)
            .where(one_of(uow.session, LegalHold.unit_id, chunk))
            .order_by(LegalHold.set_at, LegalHold.id)
        ):
            if rules.get(unit_id) == rule:
                found[unit_id].append(hold_holder(hold_id))
    return {unit_id: tuple(holders) for unit_id, holders in found.items()}


def _reason(value: str | None) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(_("Give the reason for the hold."), field="reason")
    if len(cleaned) > REASON_MOST:
        raise InvalidInput(_("At most %(n)s characters.", n=REASON_MOST), field="reason")
    return cleaned


def set_hold(
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
    rule_name: str,
    unit_id: str,
    reason: str | None,
    today: date,
) -> str:
    """Hold one unit (as the plan lists it) from purge, with a reason. Returns the hold's id."""
    require(actor, Permission.LEGAL_HOLD_SET)
    rule = RULES_BY_NAME.get(rule_name)
    if rule is None:
        raise InvalidInput(_("No such retention rule."), field="rule")
    cleaned = _reason(reason)
    rule.lock(uow, [unit_id])  # a run purging this unit now finishes first, or waits for this
    unit = rule.unit(uow, settings, today, unit_id)
    if unit is None:
        raise NotFound(_("Nothing awaiting purge has this reference."), field="unit_id")
    already = uow.session.scalar(
        select(LegalHold.id).where(
            LegalHold.rule == rule.name,
            LegalHold.unit_id == unit.unit_id,
            LegalHold.released_at.is_(None),
        )
    )
    if already is not None:
        raise Conflict(_("A hold already stands on this record."), field="unit_id")
    hold = LegalHold(
        rule=rule.name, unit_id=unit.unit_id, person_id=unit.person_id, set_by=actor.user_id
    )
    hold.reason = cleaned
    uow.session.add(hold)
    uow.session.flush()
    record(
        uow.session,
        actor,
        Action.LEGAL_HOLD_SET,
        object_type=rule.name,
        object_id=unit.unit_id,
        subject=hold.key_scope(),
    )
    uow.commit()
    return hold.id


def release_hold(uow: UnitOfWork, actor: Actor, hold_id: str) -> None:
    require(actor, Permission.LEGAL_HOLD_SET)
    hold = uow.session.get(LegalHold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFound(_("No such record."), field="hold_id")
    if not hold.live:
        raise Conflict(_("This hold was released already."), field="hold_id")
    hold.released_at = utcnow()
    hold.released_by = actor.user_id
    record(
        uow.session,
        actor,
        Action.LEGAL_HOLD_RELEASE,
        object_type=hold.rule,
        object_id=hold.unit_id,
        subject=hold.key_scope(),
    )
    uow.commit()


def holds(uow: UnitOfWork, actor: Actor, released: int = 20) -> list[HoldView]:
    """The holds that stand, and the latest released ones; each shown is on record first."""
    require(actor, Permission.GALLRING_READ)
    db = uow.session
    live = list(
        db.scalars(
            select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.set_at)
        )
    )
    past = list(
        db.scalars(
            select(LegalHold)
            .where(LegalHold.released_at.is_not(None))
            .order_by(LegalHold.released_at.desc())
            .limit(released)
        )
    )
    shown = live + past
    for hold in shown:
        record(
            db,
            actor,
            Action.LEGAL_HOLD_READ,
            object_type=hold.rule,
            object_id=hold.unit_id,
            subject=hold.key_scope(),
        )
    names = staff_names(uow, [h.set_by for h in shown] + [h.released_by or "" for h in shown])
    views = [
        HoldView(
            id=hold.id,
            rule=hold.rule,
            unit_reference=hold.unit_id[:8],
            set_by=names.get(hold.set_by, hold.set_by),
            set_at=hold.set_at,
            reason=hold.reason if hold.data_key_id is not None else None,
            released_by=names.get(hold.released_by, hold.released_by) if hold.released_by else None,
            released_at=hold.released_at,
        )
        for hold in shown
    ]
    uow.commit()
    return views
