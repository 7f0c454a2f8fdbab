"""record(): append one entry to the access log, in the caller's transaction.

The entry commits with the change it describes, or not at all; a read is recorded (and
committed) before its data is returned, so a read whose entry cannot be written fails.
Appending updates the single chain-head row first, which locks it until commit: sequence
numbers stay gapless and the chain linear however many requests write at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable
from uuid import uuid4

from sqlalchemy import Insert, Integer, Update, bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from audit.actions import Action, Outcome
from audit.canonical import entry_hash
from audit.chain import ChainHead, head_mac, next_link
from audit.checkpoints import (
    Checkpoint,
    CheckpointDirectory,
    load_private_key,
    public_pem,
    sign_checkpoint,
)
from audit.sinks import CheckpointSink, DirectorySink
from audit.tables import HASHED_FIELDS, HEAD_ROW_ID, AuditTables

log = logging.getLogger(__name__)

SESSION_KEY = "audit_config"


class Source(Protocol):
    """Where a request came from: an id to correlate it, and the client's address."""

    @property
    def request_id(self) -> str | None: ...

    @property
    def client_address(self) -> str | None: ...


@runtime_checkable
class Principal(Protocol):
    """Who acted: a user of an organisation with roles (or a named system actor)."""

    @property
    def user_id(self) -> str: ...

    @property
    def username(self) -> str: ...

    @property
    def organisation_id(self) -> str | None: ...

    @property
    def roles(self) -> Set[str]: ...

    @property
    def origin(self) -> Source: ...


class Subject(Protocol):
    """The person an entry is about, by pseudonymous id, and whose record of them it was."""

    @property
    def person_id(self) -> str: ...

    @property
    def holder(self) -> str: ...


@dataclass(frozen=True)
class SealedDetails:
    """An entry's details once sealed: the value its `details` column stores (whatever that
    column's type accepts), the bytes the chain hashes, and the data key that sealed them."""

    stored: object
    hashed: bytes
    data_key_id: str | None


class DetailsSealer(Protocol):
    """Seals an entry's details under the subject's key, in the caller's transaction (so a
    key made for the purpose exists before the entry refers to it)."""

    def __call__(
        self, session: Session, entry_id: str, subject: Subject, details: str
    ) -> SealedDetails: ...


@dataclass(frozen=True)
class RecordedEntry:
    id: str
    sequence: int
    link: bytes


@dataclass(frozen=True)
class AuditConfig:
    tables: AuditTables
    audit_key: bytes  # HMAC key of the chain: outside the database, apart from data keys
    checkpoint_dir: Path
    signing_key_path: Path
    checkpoint_every: int  # 0: only on demand
    checkpoint_seconds: int = 0  # sign on time too, when entries were written; 0: never
    mirror: CheckpointSink | None = None  # a second place for every checkpoint
    # The application's clock (UTC instants), so entries carry the time the service keeps.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), compare=False)
    # Without a sealer, entries with details are refused (nothing is kept in clear).
    seal_details: DetailsSealer | None = field(default=None, compare=False)

    def readable_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint the service's directory and a readable mirror hold (the verifier
        drops duplicates and reports two that disagree)."""
        found = CheckpointDirectory(self.checkpoint_dir).read_all()
        if self.mirror is not None:
            found.extend(self.mirror.read_all() or [])
        return found

    @cached_property
    def statements(self) -> _Statements:
        return _Statements.for_tables(self.tables)


def audit_config(session: Session) -> AuditConfig:
    config = session.info.get(SESSION_KEY)
    if not isinstance(config, AuditConfig):
        raise RuntimeError("this session has no audit configuration: nothing may be recorded")
    return config


def timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class _Statements:
    """Built once per configuration: constructing them anew on every append cost as much as
    running them."""

    reserve: Update  # moves the head by :count entries, answering the last one's number
    insert_entry: Insert
    set_link: Update

    @classmethod
    def for_tables(cls, tables: AuditTables) -> _Statements:
        head = tables.head
        return cls(
            reserve=update(head)
            .where(head.c.id == HEAD_ROW_ID)
            .values(sequence=head.c.sequence + bindparam("count", type_=Integer))
            .returning(head.c.sequence, head.c.link),
            insert_entry=insert(tables.entries),
            set_link=update(head)
            .where(head.c.id == HEAD_ROW_ID)
            .values(link=bindparam("new_link"), head_mac=bindparam("new_mac")),
        )


@dataclass(frozen=True)
class Entry:
    """What one entry says, for record_many (the arguments of record())."""

    action: Action
    outcome: Outcome = Outcome.ALLOWED
    object_type: str | None = None
    object_id: str | None = None
    subject: Subject | None = None
    legal_basis: str | None = None
    details: Mapping[str, object] | None = None


def record(
    session: Session,
    who: Principal | Source,
    action: Action,
    *,
    outcome: Outcome = Outcome.ALLOWED,
    object_type: str | None = None,
    object_id: str | None = None,
    subject: Subject | None = None,
    legal_basis: str | None = None,
    details: Mapping[str, object] | None = None,
) -> RecordedEntry:
    """Append an entry. `details` (purpose, search terms…) are sealed under the subject's
    key and need a subject; everything else must already be free of personal data."""
    entry = Entry(action, outcome, object_type, object_id, subject, legal_basis, details)
    return record_many(session, who, [entry])[0]


def record_many(
    session: Session, who: Principal | Source, entries: Sequence[Entry]
) -> list[RecordedEntry]:
    """Append entries by one actor, in order, with three statements for all of them (the
    purge writes one per person purged): the head moves by their number at once, the chain
    links each to the one before, and the head is set to the last."""
    if not entries:
        return []
    config = audit_config(session)
    # One protocol check per call (this runs on every request), not one per attribute.
    actor: Principal | None
    if isinstance(who, Principal):
        actor, origin = who, who.origin
    else:
        actor, origin = None, who
    for entry in entries:
        if entry.details and entry.subject is None:
            raise ValueError("details identify someone, so they are kept only with a subject")
    # Core statements on the session's connection, not ORM-enabled ones: this runs on every
    # request, and the ORM's bulk-update and unit-of-work machinery cost more than the
    # statements themselves.
    statements = config.statements
    connection = session.connection()
    head = connection.execute(statements.reserve, {"count": len(entries)}).one()
    link = head.link
    occurred_at = timestamp(config.now())
    rows: list[dict[str, object]] = []
    recorded: list[RecordedEntry] = []
    for sequence, entry in enumerate(entries, start=head.sequence - len(entries) + 1):
        subject = entry.subject
        row: dict[str, object] = {
            "id": str(uuid4()),
            "sequence": sequence,
            "occurred_at": occurred_at,
            "actor_id": actor.user_id if actor else None,
            "actor_name": actor.username if actor else None,
            "actor_organisation_id": actor.organisation_id if actor else None,
            "actor_roles": ",".join(sorted(actor.roles)) if actor else None,
            "action": Action(entry.action).value,
            "outcome": Outcome(entry.outcome).value,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "subject_id": subject.person_id if subject else None,
            "subject_holder": subject.holder if subject else None,
            "legal_basis": entry.legal_basis,
            "request_id": origin.request_id,
            "client_address": origin.client_address,
            "details": None,
            "data_key_id": None,
        }
        hashed = {name: row[name] for name in HASHED_FIELDS}
        if entry.details:
            assert subject is not None
            if config.seal_details is None:
                raise RuntimeError("this log has no sealer: details are never kept in clear")
            text = json.dumps(dict(entry.details), ensure_ascii=False, sort_keys=True)
            sealed = config.seal_details(session, str(row["id"]), subject, text)
            row["details"], row["data_key_id"] = sealed.stored, sealed.data_key_id
            hashed["details"] = sealed.hashed  # the chain hashes the ciphertext, not the text
        hash_of_entry = entry_hash(hashed)
        link = next_link(config.audit_key, link, hash_of_entry)
        row["entry_hash"], row["link"] = hash_of_entry, link
        rows.append(row)
        recorded.append(RecordedEntry(id=str(row["id"]), sequence=sequence, link=link))
        if config.checkpoint_every and sequence % config.checkpoint_every == 0:
            _checkpoint_after_commit(session, config, sequence, link)
    connection.execute(statements.insert_entry, rows)
    connection.execute(
        statements.set_link,
        {"new_link": link, "new_mac": head_mac(config.audit_key, head.sequence, link)},
    )
    return recorded


def _checkpoint_after_commit(
    session: Session, config: AuditConfig, sequence: int, link: bytes
) -> None:
    """A checkpoint names an entry, so it is signed only once that entry has committed."""

    def write(_session: Session) -> None:
        try:
            write_checkpoint(config, sequence, link)
        except (OSError, ValueError) as error:
            # The entry is committed; a missed checkpoint is caught up by the next one.
            log.warning("audit checkpoint %s not written: %s", sequence, type(error).__name__)

    event.listen(session, "after_commit", write, once=True)


def write_checkpoint(config: AuditConfig, sequence: int, link: bytes) -> Checkpoint:
    """Sign (sequence, link) and write it beside the public key that verifies it, then to the
    mirror. The service's own directory must take it (an error is raised); a mirror that
    cannot is logged as an error, so the checkpoint is not lost for both."""
    private_key = load_private_key(config.signing_key_path.read_bytes())
    checkpoint = sign_checkpoint(private_key, sequence, link, timestamp(config.now()))
    public_key = public_pem(private_key)
    DirectorySink(config.checkpoint_dir).write(checkpoint, public_key)
    if config.mirror is not None:
        try:
            config.mirror.write(checkpoint, public_key)
        except (OSError, ValueError) as error:
            log.error(
                "audit checkpoint %s not written to the mirror (%s): %s",
                sequence,
                config.mirror.description,
                type(error).__name__,
            )
    return checkpoint


def current_head(session: Session) -> ChainHead:
    head = audit_config(session).tables.head
    row = session.execute(
        select(head.c.sequence, head.c.link, head.c.head_mac).where(head.c.id == HEAD_ROW_ID)
    ).one()
    mac = None if row.head_mac is None else bytes(row.head_mac)
    return ChainHead(int(row.sequence), bytes(row.link), mac)
