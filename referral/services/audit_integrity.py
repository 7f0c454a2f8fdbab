"""Is the access log intact? Verification of the chain and its signed checkpoints, and
on-demand checkpoints. The DPO and `flask audit verify` use the same code."""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.actions import Action, Outcome
from audit.canonical import row_encoder
from audit.chain import (
    ChainEntry,
    ChainHead,
    VerificationReport,
    beyond_the_head,
    head_is_authentic,
    verify_chain,
)
from audit.checkpoints import Checkpoint, CheckpointDirectory, load_private_key, load_public_key
from audit.record import audit_config, current_head, record, write_checkpoint
from audit.sinks import PUBLIC_KEY_FILE
from referral.actors import Actor
from referral.db.audit_log import HASHED_FIELDS, AuditEntry, AuditVerification
from referral.db.uow import UnitOfWork
from referral.errors import Conflict
from referral.policy import Permission, require

log = logging.getLogger(__name__)

STREAM_BATCH = 5000


def chain_entries(
    session: Session, after: int = 0, through: int | None = None
) -> Generator[ChainEntry]:
    """The entries after `after` (through `through`, when given) in sequence order, streamed:
    a million entries never sit in memory.

    Read through the DBAPI cursor directly, in batches: the verifier needs raw columns, and
    skipping SQLAlchemy's per-row processing is most of what lets it check on the order of
    100 000 entries a second. On PostgreSQL the cursor is a named (server-side) one, so the
    rows stream instead of arriving all at once."""
    columns = ", ".join([*HASHED_FIELDS, "entry_hash", "link"])
    bounds = f"sequence > {int(after)}"
    if through is not None:
        bounds += f" AND sequence <= {int(through)}"
    # Fixed column names and two integers: nothing from outside reaches the statement.
    query = f"SELECT {columns} FROM audit_entries WHERE {bounds} ORDER BY sequence"  # noqa: S608
    dbapi_connection = session.connection().connection.dbapi_connection
    assert dbapi_connection is not None
    if session.get_bind().dialect.name == "postgresql":
        cursor = dbapi_connection.cursor(name="audit_verify")
    else:
        cursor = dbapi_connection.cursor()
    width = len(HASHED_FIELDS)
    encode = row_encoder(HASHED_FIELDS)
    try:
        cursor.execute(query)
        while rows := cursor.fetchmany(STREAM_BATCH):
            for row in rows:
                # Encoded here, from the raw row: no dict per entry. An entry whose content
                # cannot be encoded gets no canonical bytes, so the verifier reports it.
                try:
                    canonical: bytes | None = encode(row)
                except (TypeError, ValueError):
                    canonical = None
                # Both drivers give BLOB/bytea as bytes: compared as they come.
                yield ChainEntry(
                    row[0],
                    _NO_FIELDS if canonical is not None else _fields(row),
                    row[width],
                    row[width + 1],
                    canonical,
                )
    finally:
        cursor.close()  # the verifier may stop early: release the server-side cursor


_NO_FIELDS: dict[str, object] = {}


def _fields(row: Sequence[object]) -> dict[str, object]:
    return dict(zip(HASHED_FIELDS, row, strict=False))


def public_key_path(checkpoint_dir: Path) -> Path:
    return checkpoint_dir / PUBLIC_KEY_FILE


def verify(session: Session, public_key_file: Path | None = None) -> VerificationReport:
    """Recompute the chain up to its stored head, check the head (its link and its MAC), that
    nothing lies beyond it, and every checkpoint's signature with the public key alone."""
    config = audit_config(session)
    checkpoints = config.readable_checkpoints()
    key_file = public_key_file or public_key_path(config.checkpoint_dir)
    public_key = load_public_key(key_file.read_bytes()) if key_file.exists() else None
    if checkpoints and public_key is None:
        raise Conflict(f"Checkpoints exist but there is no public key at {key_file}.")
    # The head first: every entry up to it had committed when it was read, so a concurrent
    # append (after it) can neither be missed nor mistaken for a forgery.
    head = current_head(session)
    entries = chain_entries(session, through=head.sequence)
    try:
        report = verify_chain(entries, config.audit_key, checkpoints, public_key, head=head)
    finally:
        entries.close()
    if report.ok:
        return _nothing_beyond_the_head(session, report, head)
    return report


def _nothing_beyond_the_head(
    session: Session, report: VerificationReport, head: ChainHead
) -> VerificationReport:
    """An entry past the head that the head has still not reached once re-read was written
    around the service: an append moves the head in the same transaction as its entry."""
    beyond = session.scalar(
        select(func.min(AuditEntry.sequence)).where(AuditEntry.sequence > head.sequence)
    )
    if beyond is None or beyond <= current_head(session).sequence:
        return report
    return replace(
        report,
        ok=False,
        first_bad_sequence=beyond,
        reason=beyond_the_head(beyond, head.sequence),
    )


def verify_and_record(uow: UnitOfWork, actor: Actor) -> VerificationReport:
    require(actor, Permission.AUDIT_VERIFY)
    report = verify(uow.session)
    uow.session.add(
        AuditVerification(
            ok=report.ok,
            entries_checked=report.entries_checked,
            checkpoints_checked=report.checkpoints_checked,
            first_bad_sequence=report.first_bad_sequence,
            reason=(report.reason or "")[:300] or None,
            verified_by=actor.username,
        )
    )
    try:
        with uow.session.begin_nested():
            record(
                uow.session,
                actor,
                Action.AUDIT_VERIFY,
                outcome=Outcome.ALLOWED if report.ok else Outcome.DENIED,
                object_type="audit_log",
                object_id=str(report.entries_checked),
            )
    except IntegrityError:
        # A forged entry holds the next sequence number, so nothing can be appended until it
        # is removed: the report says so, and the verification run is kept all the same.
        if report.ok:
            raise
    uow.commit()
    return report


def checkpoint_now(uow: UnitOfWork, actor: Actor) -> Checkpoint | None:
    """Sign the current head (unless the latest checkpoint already covers it)."""
    require(actor, Permission.AUDIT_VERIFY)
    config = audit_config(uow.session)
    record(uow.session, actor, Action.AUDIT_CHECKPOINT, object_type="audit_log")
    uow.commit()
    head = current_head(uow.session)
    latest = CheckpointDirectory(config.checkpoint_dir).latest()
    if latest is not None and latest.sequence >= head.sequence:
        return latest
    if not head_is_authentic(head, config.audit_key):
        raise Conflict("The chain head does not verify: run `flask audit verify` before signing.")
    return write_checkpoint(config, head.sequence, head.link)


def checkpoint_if_due(session: Session, now: datetime) -> Checkpoint | None:
    """Sign the head when entries were written since the last checkpoint and it is older than
    the configured interval — after verifying those entries and the head, so a checkpoint is
    never signed over a log that was tampered with since the last one."""
    config = audit_config(session)
    if not config.checkpoint_seconds:
        return None
    head = current_head(session)
    checkpoints = config.readable_checkpoints()
    latest = max(checkpoints, key=lambda cp: cp.sequence, default=None)
    if head.sequence == 0 or (latest is not None and latest.sequence >= head.sequence):
        return None  # nothing written since
    if latest is not None and _signed_at(latest) > now - timedelta(
        seconds=config.checkpoint_seconds
    ):
        return None  # not yet due
    public_key = load_private_key(config.signing_key_path.read_bytes()).public_key()
    entries = chain_entries(session, after=latest.sequence if latest else 0, through=head.sequence)
    try:
        report = verify_chain(entries, config.audit_key, (), public_key, start=latest, head=head)
    finally:
        entries.close()
    if not report.ok:
        log.error("audit checkpoint not signed: the log does not verify: %s", report.reason)
        return None
    return write_checkpoint(config, head.sequence, head.link)


def _signed_at(checkpoint: Checkpoint) -> datetime:
    return datetime.fromisoformat(checkpoint.signed_at.replace("Z", "+00:00"))


@dataclass(frozen=True)
class IntegrityStatus:
    entries: int
    last_verification: AuditVerification | None
    last_checkpoint: Checkpoint | None
    checkpoint_dir: Path
    mirror: str | None = None  # where else checkpoints go, or None
    checkpoint_every: int = 0
    checkpoint_minutes: int = 0


def integrity_status(uow: UnitOfWork, actor: Actor) -> IntegrityStatus:
    require(actor, Permission.AUDIT_SEARCH)
    config = audit_config(uow.session)
    last = uow.session.scalar(
        select(AuditVerification).order_by(AuditVerification.verified_at.desc()).limit(1)
    )
    return IntegrityStatus(
        entries=current_head(uow.session).sequence,
        last_verification=last,
        last_checkpoint=CheckpointDirectory(config.checkpoint_dir).latest(),
        checkpoint_dir=config.checkpoint_dir,
        mirror=config.mirror.description if config.mirror else None,
        checkpoint_every=config.checkpoint_every,
        checkpoint_minutes=(config.checkpoint_seconds + 59) // 60,  # rounded up
    )
