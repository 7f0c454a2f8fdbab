"""Is the access log intact? Verification of the chain and its signed checkpoints, and
on-demand checkpoints. The DPO and `flask audit verify` use the same code."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.actions import Action, Outcome
from audit.canonical import row_encoder
from audit.chain import ChainEntry, VerificationReport, verify_chain
from audit.checkpoints import Checkpoint, CheckpointDirectory, load_public_key
from audit.record import PUBLIC_KEY_FILE, audit_config, current_head, record, write_checkpoint
from referral.actors import Actor
from referral.db.audit_log import HASHED_FIELDS, AuditVerification
from referral.db.uow import UnitOfWork
from referral.errors import Conflict
from referral.policy import Permission, require

STREAM_BATCH = 5000


def chain_entries(session: Session) -> Generator[ChainEntry]:
    """Every entry in sequence order, streamed: a million entries never sit in memory.

    Read through the DBAPI cursor directly, in batches: the verifier needs raw columns, and
    skipping SQLAlchemy's per-row processing is most of what lets it check on the order of
    100 000 entries a second. On PostgreSQL the cursor is a named (server-side) one, so the
    rows stream instead of arriving all at once."""
    columns = ", ".join([*HASHED_FIELDS, "entry_hash", "link"])
    query = f"SELECT {columns} FROM audit_entries ORDER BY sequence"  # noqa: S608 - fixed names
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
    """Recompute the chain and check every checkpoint's signature with the public key alone."""
    config = audit_config(session)
    checkpoints: list[Checkpoint] = CheckpointDirectory(config.checkpoint_dir).read_all()
    key_file = public_key_file or public_key_path(config.checkpoint_dir)
    public_key = load_public_key(key_file.read_bytes()) if key_file.exists() else None
    if checkpoints and public_key is None:
        raise Conflict(f"Checkpoints exist but there is no public key at {key_file}.")
    entries = chain_entries(session)
    try:
        return verify_chain(entries, config.audit_key, checkpoints, public_key)
    finally:
        entries.close()


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
    record(
        uow.session,
        actor,
        Action.AUDIT_VERIFY,
        outcome=Outcome.ALLOWED if report.ok else Outcome.DENIED,
        object_type="audit_log",
        object_id=str(report.entries_checked),
    )
    uow.commit()
    return report


def checkpoint_now(uow: UnitOfWork, actor: Actor) -> Checkpoint | None:
    """Sign the current head (unless the latest checkpoint already covers it)."""
    require(actor, Permission.AUDIT_VERIFY)
    config = audit_config(uow.session)
    record(uow.session, actor, Action.AUDIT_CHECKPOINT, object_type="audit_log")
    uow.commit()
    sequence, link = current_head(uow.session)
    directory = CheckpointDirectory(config.checkpoint_dir)
    latest = directory.latest()
    if latest is not None and latest.sequence >= sequence:
        return latest
    write_checkpoint(config, sequence, link)
    return directory.latest()


@dataclass(frozen=True)
class IntegrityStatus:
    entries: int
    last_verification: AuditVerification | None
    last_checkpoint: Checkpoint | None
    checkpoint_dir: Path
    signed_at: datetime | None = None


def integrity_status(uow: UnitOfWork, actor: Actor) -> IntegrityStatus:
    require(actor, Permission.AUDIT_SEARCH)
    config = audit_config(uow.session)
    last = uow.session.scalar(
        select(AuditVerification).order_by(AuditVerification.verified_at.desc()).limit(1)
    )
    return IntegrityStatus(
        entries=current_head(uow.session)[0],
        last_verification=last,
        last_checkpoint=CheckpointDirectory(config.checkpoint_dir).latest(),
        checkpoint_dir=config.checkpoint_dir,
    )
