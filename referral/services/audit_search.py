"""The DPO's view of the access log: filter, page through, export.

Filters are pseudonymous (a person is a subject id, found from a personnummer through the
blind index by `subjects_for_personnummer`), so no personnummer ever needs to be in a URL.
Searching and exporting are themselves recorded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.record import record, timestamp
from crypto import blind_index, constant_time_equal
from referral.actors import Actor
from referral.db.audit_log import HASHED_FIELDS, AuditEntry
from referral.db.encryption import session_cipher
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.policy import Permission, require
from referral.services.children import valid_personnummer
from referral.spreadsheet import to_csv

PAGE_SIZE = 50
# What an export holds: every hashed field but the sealed details and the holder label.
EXPORT_COLUMNS = tuple(f for f in HASHED_FIELDS if f not in {"details", "subject_holder"})


CLIENT_PREFIX = "client:"  # an API client acts as client:<id>, named client:<its name>


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_id(value: str) -> bool:
    if value.startswith(CLIENT_PREFIX):
        return _is_uuid(value.removeprefix(CLIENT_PREFIX))
    return _is_uuid(value) or value.startswith("system:")


def _actor_name(value: str) -> str:
    """Logins are stored in lower case; an API client's name as the administrator wrote it."""
    value = value.strip()
    return value if value.startswith(CLIENT_PREFIX) else value.lower()


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None  # user id or login name
    organisation_id: str | None = None
    action: str | None = None
    outcome: str | None = None
    subjects: Sequence[str] = field(default_factory=tuple)

    def apply(self, query: Select[AuditEntry]) -> Select[AuditEntry]:
        if self.since:
            query = query.where(AuditEntry.occurred_at >= timestamp(self.since))
        if self.until:
            query = query.where(AuditEntry.occurred_at < timestamp(self.until))
        if self.actor:
            # One indexed column at a time: an OR across two columns would scan the log.
            if _is_id(self.actor):
                query = query.where(AuditEntry.actor_id == self.actor)
            else:
                query = query.where(AuditEntry.actor_name == _actor_name(self.actor))
        if self.organisation_id:
            query = query.where(AuditEntry.actor_organisation_id == self.organisation_id)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.outcome:
            query = query.where(AuditEntry.outcome == self.outcome)
        if self.subjects:
            query = query.where(AuditEntry.subject_id.in_(list(self.subjects)))
        return query


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    next_before: int | None  # pass as `before` for the next (older) page


def subjects_for_personnummer(session: Session, raw: str) -> list[str]:
    """The pseudonymous ids of every record of this person, in any district. The DPO sees
    ids only: nothing of the record's content is returned."""
    personnummer = valid_personnummer(raw)
    index_key = session_cipher(session).index_key
    candidates = session.scalars(
        select(Child).where(Child.personnummer_index == blind_index(personnummer, index_key))
    )
    return [c.id for c in candidates if constant_time_equal(c.personnummer, personnummer)]


def search(uow: UnitOfWork, actor: Actor, criteria: AuditFilter, before: int | None = None) -> Page:
    """Newest first, one page at a time (keyset on the sequence: fast on millions)."""
    require(actor, Permission.AUDIT_SEARCH)
    query = criteria.apply(select(AuditEntry)).order_by(AuditEntry.sequence.desc())
    if before is not None:
        query = query.where(AuditEntry.sequence < before)
    rows = list(uow.session.scalars(query.limit(PAGE_SIZE + 1)))
    record(uow.session, actor, Action.AUDIT_SEARCH, object_type="audit_log")
    uow.commit()
    more = len(rows) > PAGE_SIZE
    entries = rows[:PAGE_SIZE]
    return Page(entries, entries[-1].sequence if more and entries else None)


def _rows(session: Session, criteria: AuditFilter) -> Iterator[dict[str, object]]:
    query = criteria.apply(select(AuditEntry)).order_by(AuditEntry.sequence)
    for entry in session.scalars(query.execution_options(yield_per=2000)):
        yield {column: getattr(entry, column) for column in EXPORT_COLUMNS}


def export(uow: UnitOfWork, actor: Actor, criteria: AuditFilter, fmt: str) -> str:
    """The filtered log as CSV or JSON Lines. Recorded (and committed) before it is built."""
    require(actor, Permission.AUDIT_EXPORT)
    record(uow.session, actor, Action.AUDIT_EXPORT, object_type="audit_log", object_id=fmt)
    uow.commit()
    if fmt == "jsonl":
        return "".join(
            json.dumps(row, ensure_ascii=False) + "\n" for row in _rows(uow.session, criteria)
        )
    return to_csv(
        EXPORT_COLUMNS,
        ([row[column] for column in EXPORT_COLUMNS] for row in _rows(uow.session, criteria)),
    )
