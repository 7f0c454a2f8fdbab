"""Alerts on unusual access, for the DPO: every emergency access to another district's child,
many distinct people read by one user within an hour, personal data read outside working
hours, and repeated refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, literal_column, select

from audit.actions import Action, Outcome
from audit.record import record, timestamp
from config import Settings
from referral.actors import Actor
from referral.clock import STOCKHOLM
from referral.db.audit_log import AuditEntry
from referral.db.base import utcnow
from referral.db.uow import UnitOfWork
from referral.policy import Permission, require
from referral.services import concern_reports

LOCAL_TIME = STOCKHOLM
MAX_OFF_HOURS_SHOWN = 200


@dataclass(frozen=True)
class Alert:
    # "emergency_access", "concern_overdue", "many_people", "off_hours", "denials"
    kind: str
    who: str
    hour: str  # "YYYY-MM-DDTHH" (UTC), or the local time of an off-hours read or emergency
    count: int
    # For an emergency access: the child's pseudonymous id (the log's subject), never a name;
    # for an overdue concern report: the report's reference (`who` is the receiver).
    subject: str | None = None


def _local(occurred_at: str) -> datetime:
    return datetime.fromisoformat(occurred_at.replace("Z", "+00:00")).astimezone(LOCAL_TIME)


def _emergency_accesses(uow: UnitOfWork, since: str) -> list[Alert]:
    """Each emergency access is an alert by rule, not by threshold: the DPO judges every one."""
    rows = uow.session.execute(
        select(AuditEntry.actor_name, AuditEntry.occurred_at, AuditEntry.subject_id)
        .where(
            AuditEntry.occurred_at >= since,
            AuditEntry.action == Action.EMERGENCY_ACCESS.value,
            AuditEntry.outcome == Outcome.ALLOWED.value,
        )
        .order_by(AuditEntry.sequence.desc())
    )
    return [
        Alert(
            "emergency_access",
            str(name or "—"),
            _local(occurred_at).strftime("%Y-%m-%d %H:%M"),
            1,
            subject=subject,
        )
        for name, occurred_at, subject in rows
    ]


def _overdue_concern_reports(uow: UnitOfWork, actor: Actor) -> list[Alert]:
    """Each concern report past its time without acknowledgement, first: a child may be
    being harmed while nobody has read it."""
    return [
        Alert(
            "concern_overdue",
            overdue.receiving_organisation,
            overdue.acknowledge_by.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M"),
            1,
            subject=overdue.reference,
        )
        for overdue in concern_reports.overdue_reports(uow, actor, utcnow())
    ]


def _hour() -> ColumnElement[str]:
    # The first 13 characters of the ISO timestamp: "2026-11-23T14".
    return func.substr(AuditEntry.occurred_at, 1, 13)


def alerts(uow: UnitOfWork, actor: Actor, settings: Settings, days: int = 7) -> list[Alert]:
    require(actor, Permission.AUDIT_SEARCH)
    db = uow.session
    since = timestamp(utcnow() - timedelta(days=days))
    hour = _hour()
    found: list[Alert] = _overdue_concern_reports(uow, actor) + _emergency_accesses(uow, since)

    many = (
        select(AuditEntry.actor_name, hour, func.count(func.distinct(AuditEntry.subject_id)))
        .where(
            AuditEntry.occurred_at >= since,
            AuditEntry.subject_id.is_not(None),
            AuditEntry.outcome == Outcome.ALLOWED.value,
        )
        # The hour first, in the grouping and the order: SQLite then reads the window by its
        # index on the time (grouped by the name first and in no order, it read the whole log
        # in the name's order). Either alone would do; the order is what the DPO reads.
        .group_by(hour, AuditEntry.actor_name)
        .having(
            func.count(func.distinct(AuditEntry.subject_id))
            > settings.alert_distinct_people_per_hour
        )
        .order_by(hour.desc(), AuditEntry.actor_name)  # the newest hour first
    )
    found += [Alert("many_people", str(w or "—"), str(h), int(n)) for w, h, n in db.execute(many)]

    who = func.coalesce(AuditEntry.actor_name, AuditEntry.client_address)
    denials = (
        select(who, hour, func.count(literal_column("1")))
        .where(AuditEntry.occurred_at >= since, AuditEntry.outcome == Outcome.DENIED.value)
        .group_by(who, hour)
        .having(func.count(literal_column("1")) >= settings.alert_denials_per_hour)
        .order_by(hour.desc(), who)
    )
    found += [Alert("denials", str(w or "—"), str(h), int(n)) for w, h, n in db.execute(denials)]

    reads = db.execute(
        select(AuditEntry.actor_name, AuditEntry.occurred_at)
        .where(AuditEntry.occurred_at >= since, AuditEntry.subject_id.is_not(None))
        # Newest first by the time, so that the window is read by its index (by the
        # sequence, the whole log was read to find the window's entries in it).
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.sequence.desc())
    )
    for name, occurred_at in reads:
        local = _local(occurred_at)
        weekend = local.weekday() >= 5
        if weekend or not settings.working_hours_start <= local.hour < settings.working_hours_end:
            found.append(Alert("off_hours", str(name or "—"), local.strftime("%Y-%m-%d %H:%M"), 1))
            if sum(a.kind == "off_hours" for a in found) >= MAX_OFF_HOURS_SHOWN:
                break
    # Alerts name staff members: reading them is reading the log.
    record(db, actor, Action.AUDIT_SEARCH, object_type="audit_alerts")
    uow.commit()
    return found
