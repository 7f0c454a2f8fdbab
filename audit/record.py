"""record(): append one entry to the access log, in the caller's transaction.

The entry commits with the change it describes, or not at all; a read is recorded (and
committed) before its data is returned, so a read whose entry cannot be written fails.
Appending updates the single chain-head row first, which locks it until commit: sequence
numbers stay gapless and the chain linear however many requests write at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, event, insert, text, update
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
from referral.actors import Actor, Origin
from referral.db.audit_log import HASHED_FIELDS, AuditEntry, AuditHead
from referral.db.base import new_id
from referral.db.data_keys import KeyScope
from referral.db.encryption import Sealed, session_cipher

log = logging.getLogger(__name__)

SESSION_KEY = "audit_config"


@dataclass(frozen=True)
class AuditConfig:
    audit_key: bytes  # HMAC key of the chain: outside the database, apart from data keys
    checkpoint_dir: Path
    signing_key_path: Path
    checkpoint_every: int  # 0: only on demand
    checkpoint_seconds: int = 0  # sign on time too, when entries were written; 0: never
    mirror: CheckpointSink | None = None  # a second place for every checkpoint

    def readable_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint the service's directory and a readable mirror hold (the verifier
        drops duplicates and reports two that disagree)."""
        found = CheckpointDirectory(self.checkpoint_dir).read_all()
        if self.mirror is not None:
            found.extend(self.mirror.read_all() or [])
        return found


def audit_config(session: Session) -> AuditConfig:
    config = session.info.get(SESSION_KEY)
    if not isinstance(config, AuditConfig):
        raise RuntimeError("this session has no audit configuration: nothing may be recorded")
    return config


def timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ENTRIES = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)
# Built once: constructing the statements anew on every append cost as much as running them.
_NEXT_SEQUENCE = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(sequence=_HEAD.c.sequence + 1)
    .returning(_HEAD.c.sequence, _HEAD.c.link)
)
_INSERT_ENTRY = insert(_ENTRIES)
_SET_LINK = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(link=bindparam("new_link"), head_mac=bindparam("new_mac"))
)


def _row(entry: AuditEntry) -> dict[str, object]:
    """The entry's column values, for a Core INSERT (the entry itself stays out of the ORM
    session: nothing else in the request needs it there)."""
    return {
        "id": entry.id,
        **{name: getattr(entry, name) for name in HASHED_FIELDS if name != "details"},
        "details": entry._details,
        "data_key_id": entry.data_key_id,
        "entry_hash": entry.entry_hash,
        "link": entry.link,
    }


def hashed_fields(entry: AuditEntry) -> dict[str, object]:
    fields: dict[str, object] = {}
    for name in HASHED_FIELDS:
        if name == "details":
            sealed = entry._details
            fields[name] = sealed.blob if isinstance(sealed, Sealed) else None
        else:
            fields[name] = getattr(entry, name)
    return fields


def record(
    session: Session,
    who: Actor | Origin,
    action: Action,
    *,
    outcome: Outcome = Outcome.ALLOWED,
    object_type: str | None = None,
    object_id: str | None = None,
    subject: KeyScope | None = None,
    legal_basis: str | None = None,
    details: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Append an entry. `details` (purpose, search terms…) are sealed under the subject's
    key and need a subject; everything else must already be free of personal data."""
    config = audit_config(session)
    actor = who if isinstance(who, Actor) else None
    origin = who.origin if isinstance(who, Actor) else who
    if details and subject is None:
        raise ValueError("details identify someone, so they are kept only with a subject")
    # Core statements on the session's connection, not ORM-enabled ones: this runs on every
    # request, and the ORM's bulk-update and unit-of-work machinery cost more than the
    # statements themselves.
    connection = session.connection()
    head = connection.execute(_NEXT_SEQUENCE).one()
    entry = AuditEntry(
        id=new_id(),
        sequence=head.sequence,
        occurred_at=timestamp(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else None,
        actor_organisation_id=actor.organisation_id if actor else None,
        actor_roles=",".join(sorted(actor.roles)) if actor else None,
        action=Action(action).value,
        outcome=Outcome(outcome).value,
        object_type=object_type,
        object_id=object_id,
        subject_id=subject.person_id if subject else None,
        subject_holder=subject.holder if subject else None,
        legal_basis=legal_basis,
        request_id=origin.request_id,
        client_address=origin.client_address,
    )
    if details:
        entry.details = json.dumps(dict(details), ensure_ascii=False, sort_keys=True)
        session_cipher(session).seal(session, entry)  # hash the ciphertext, not the text
        # The log's key for this subject may have been made just now: it must be in the
        # database before an entry refers to it.
        session.flush()
    entry.entry_hash = entry_hash(hashed_fields(entry))
    entry.link = next_link(config.audit_key, head.link, entry.entry_hash)
    connection.execute(_INSERT_ENTRY, _row(entry))
    connection.execute(
        _SET_LINK,
        {
            "new_link": entry.link,
            "new_mac": head_mac(config.audit_key, entry.sequence, entry.link),
        },
    )
    if config.checkpoint_every and entry.sequence % config.checkpoint_every == 0:
        _checkpoint_after_commit(session, config, entry.sequence, entry.link)
    return entry


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
    checkpoint = sign_checkpoint(private_key, sequence, link, timestamp())
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
    row = session.execute(
        text("SELECT sequence, link, head_mac FROM audit_head WHERE id = 1")
    ).one()
    mac = None if row.head_mac is None else bytes(row.head_mac)
    return ChainHead(int(row.sequence), bytes(row.link), mac)
