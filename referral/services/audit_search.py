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
from typing import TypeVarTuple

from sqlalchemy import Select, or_, select
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
from referral.spreadsheet import csv_pieces

_Columns = TypeVarTuple("_Columns")  # what a filtered query selects

PAGE_SIZE = 50
# What an export holds: every hashed field but the sealed details and the holder label.
EXPORT_COLUMNS = tuple(f for f in HASHED_FIELDS if f not in {"details", "subject_holder"})
# Entries read from the database and written out at a time: an export of any length holds
# this many in memory, not the whole log (issue 18: 100 000 entries grew a worker by 60 MB).
EXPORT_BATCH = 2000


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

    def apply(self, query: Select[*_Columns]) -> Select[*_Columns]:
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

    @property
    def by_dates_only(self) -> bool:
        """Dates, and no filter that an index of its own serves (who, where, what, whom)."""
        narrower = (self.actor, self.organisation_id, self.action, self.outcome, self.subjects)
        return bool(self.since or self.until) and not any(narrower)


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
    """Newest first, one page at a time, fast on millions: by the sequence, in the index of
    the filter that narrows the search; by dates alone, in the order of the entries' time
    (see _newest_first_in_time). Either way `before` is the last entry shown."""
    require(actor, Permission.AUDIT_SEARCH)
    query = criteria.apply(select(AuditEntry))
    if criteria.by_dates_only:
        query = _newest_first_in_time(uow.session, query, before)
    else:
        # Each filter's index holds the entries in sequence: a page is read, never sorted.
        query = query.order_by(AuditEntry.sequence.desc())
        if before is not None:
            query = query.where(AuditEntry.sequence < before)
    rows = list(uow.session.scalars(query.limit(PAGE_SIZE + 1)))
    record(uow.session, actor, Action.AUDIT_SEARCH, object_type="audit_log")
    uow.commit()
    more = len(rows) > PAGE_SIZE
    entries = rows[:PAGE_SIZE]
    return Page(entries, entries[-1].sequence if more and entries else None)


def _newest_first_in_time(
    session: Session, query: Select[AuditEntry], before: int | None
) -> Select[AuditEntry]:
    """A search by dates alone, newest first in the order of the index on the entry's time,
    so that a page of March is read from March's end rather than March sorted whole (or the
    log read back from today). Entries written together share their time: the sequence
    orders those. The next page starts after the entry `before`, found by its sequence as
    on every other search, so the API's cursor is the same."""
    query = query.order_by(AuditEntry.occurred_at.desc(), AuditEntry.sequence.desc())
    if before is None:
        return query
    at = session.scalar(select(AuditEntry.occurred_at).where(AuditEntry.sequence == before))
    if at is None:  # not an entry's sequence: what comes before it in the log
        return query.where(AuditEntry.sequence < before)
    # The first condition bounds the index's range; the second steps past the entries of
    # that very moment already shown.
    return query.where(
        AuditEntry.occurred_at <= at,
        or_(AuditEntry.occurred_at < at, AuditEntry.sequence < before),
    )


def _rows(session: Session, criteria: AuditFilter) -> Iterator[Sequence[object]]:
    """The export's columns of the matching entries, oldest first, fetched EXPORT_BATCH at a
    time as they are read (a server-side cursor on PostgreSQL)."""
    columns = [getattr(AuditEntry, column) for column in EXPORT_COLUMNS]
    query = criteria.apply(select(*columns)).order_by(AuditEntry.sequence)
    yield from session.execute(query.execution_options(yield_per=EXPORT_BATCH))


def _json_lines(rows: Iterator[Sequence[object]]) -> Iterator[str]:
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(dict(zip(EXPORT_COLUMNS, row, strict=True)), ensure_ascii=False))
        if len(lines) == EXPORT_BATCH:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


def export(uow: UnitOfWork, actor: Actor, criteria: AuditFilter, fmt: str) -> Iterator[str]:
    """The filtered log as CSV or JSON Lines, in pieces of EXPORT_BATCH entries, so an export
    of any length is never whole in memory. Recorded (and committed) at once; the log is read
    when the first piece is taken, in a transaction of its own on the same session, which must
    stay open until the last (the view's referral.request_scope.StreamOnOwnSession)."""
    require(actor, Permission.AUDIT_EXPORT)
    record(uow.session, actor, Action.AUDIT_EXPORT, object_type="audit_log", object_id=fmt)
    uow.commit()
    rows = _rows(uow.session, criteria)
    if fmt == "jsonl":
        return _json_lines(rows)
    return csv_pieces(EXPORT_COLUMNS, rows, rows_per_piece=EXPORT_BATCH)
