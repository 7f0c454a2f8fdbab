"""Is the access log intact? Verification of the chain and its signed checkpoints, and
on-demand checkpoints. The DPO, the API, `flask audit verify` and the checkpoint timer use the
same code (audit.stored_log)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.actions import Action, Outcome
from audit.chain import ChainHead, VerificationReport, beyond_the_head, head_is_authentic
from audit.checkpoints import Checkpoint, CheckpointDirectory, load_private_key, load_public_key
from audit.record import audit_config, current_head, record, write_checkpoint
from audit.sinks import PUBLIC_KEY_FILE
from audit.stored_log import (
    PARALLEL_FROM_ENTRIES,
    Connector,
    StoredLog,
    available_cores,
    verify_stored_log,
)
from referral.actors import Actor
from referral.db.audit_log import HASHED_FIELDS, AuditEntry, AuditVerification
from referral.db.engine import SQLITE_BUSY_TIMEOUT_MS
from referral.db.uow import UnitOfWork
from referral.errors import Conflict
from referral.policy import Permission, require

log = logging.getLogger(__name__)

# A verification's entry in the log: object "audit_log", id the range found intact.
VERIFIED_RANGE_TYPE = "audit_log"


def stored_log(session: Session) -> StoredLog:
    """The entries' table as the verifier reads it."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    return StoredLog(audit_config(session).tables.entries.name, HASHED_FIELDS, postgresql)


def connector(session: Session) -> Connector | None:
    """How a worker process connects to the same database, or None when it cannot (a
    database in memory, a driver the verifier does not know)."""
    engine = session.get_bind().engine
    url, dialect = engine.url, engine.dialect
    if dialect.name == "sqlite":
        if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
            return None
        return Connector("sqlite3", (url.database,), {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _args, options = dialect.create_connect_args(url)
        options.pop("context", None)  # SQLAlchemy's adapters: a worker uses psycopg's own
        return Connector("psycopg", (), dict(options))
    return None


def public_key_path(checkpoint_dir: Path) -> Path:
    return checkpoint_dir / PUBLIC_KEY_FILE


@dataclass(frozen=True)
class LogVerification:
    """A verification's report, and where it began: after `started_after` (0: the first
    entry), the signed checkpoint at or before `previously_covered`, the last entry the
    previous successful verification reached (None when it was not used)."""

    report: VerificationReport
    started_after: int = 0
    previously_covered: int | None = None

    @property
    def first_checked(self) -> int:
        return self.started_after + 1


def verify(session: Session, public_key_file: Path | None = None) -> VerificationReport:
    """Recompute the chain up to its stored head, check the head (its link and its MAC), that
    nothing lies beyond it, and every checkpoint's signature with the public key alone."""
    return verify_log(session, public_key_file).report


def verify_log(
    session: Session,
    public_key_file: Path | None = None,
    *,
    since_last_verified: bool = False,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM_ENTRIES,
    restored: bool = False,
) -> LogVerification:
    """:func:`verify`, with segments between checkpoints verified in parallel (one worker
    process per core) on a long log. With `since_last_verified`, from the latest signed
    checkpoint at or before the entry the last successful verification reached: a signed
    link, so nothing stored in the database can make it skip an entry after that checkpoint
    (see :func:`last_verified_sequence`).

    `restored`: the database is a backup just restored, which ends where it was taken, so the
    checkpoints signed after it (beyond its head) cover entries it cannot hold and are left
    out; those up to its head must still match (see :func:`signed_beyond`)."""
    config = audit_config(session)
    checkpoints = config.readable_checkpoints()
    key_file = public_key_file or public_key_path(config.checkpoint_dir)
    public_key = load_public_key(key_file.read_bytes()) if key_file.exists() else None
    if checkpoints and public_key is None:
        raise Conflict(f"Checkpoints exist but there is no public key at {key_file}.")
    # The head first: every entry up to it had committed when it was read, so a concurrent
    # append (after it) can neither be missed nor mistaken for a forgery.
    head = current_head(session)
    if restored:
        checkpoints = [cp for cp in checkpoints if cp.sequence <= head.sequence]
    covered = last_verified_sequence(session, head.sequence) if since_last_verified else None
    start = _latest_at_or_before(checkpoints, covered) if covered is not None else None
    dbapi_connection = session.connection().connection.dbapi_connection
    assert dbapi_connection is not None
    report = verify_stored_log(
        dbapi_connection,
        stored_log(session),
        config.audit_key,
        checkpoints,
        public_key,
        head,
        start=start,
        connector=connector(session),
        workers=workers or available_cores(),
        parallel_from=parallel_from,
    )
    if report.ok:
        report = _nothing_beyond_the_head(session, report, head)
    return LogVerification(report, start.sequence if start else 0, covered)


def signed_beyond(session: Session) -> int | None:
    """The last entry a signed checkpoint covers beyond the stored head, if any: after a
    restore, how far the log went before the backup was brought back."""
    head = current_head(session).sequence
    later = [cp.sequence for cp in audit_config(session).readable_checkpoints()]
    return max((sequence for sequence in later if sequence > head), default=None)


def last_verified_sequence(session: Session, through: int) -> int | None:
    """The last entry the latest successful verification up to entry `through` (the head)
    reached, as its own entry in the log says (`object_id` "first-last"; older entries hold
    the count of a run from entry 1).

    The log, not the verifications table: a run that starts from here verifies that entry too
    (it lies after what it covered, and at or before the head), so an entry changed to claim
    more is caught by the very run that trusts it. A claim that does not lie before its own
    entry is ignored."""
    row = session.execute(
        select(AuditEntry.sequence, AuditEntry.object_id)
        .where(
            AuditEntry.action == Action.AUDIT_VERIFY.value,
            AuditEntry.outcome == Outcome.ALLOWED.value,
            AuditEntry.object_type == VERIFIED_RANGE_TYPE,
            AuditEntry.sequence <= through,
        )
        .order_by(AuditEntry.sequence.desc())
        .limit(1)
    ).first()
    if row is None or row.object_id is None:
        return None
    _first, _dash, last = row.object_id.rpartition("-")
    if not last.isdigit() or not 0 < int(last) < row.sequence:
        return None
    return int(last)


def _latest_at_or_before(checkpoints: Sequence[Checkpoint], sequence: int) -> Checkpoint | None:
    earlier = [cp for cp in checkpoints if cp.sequence <= sequence]
    return max(earlier, key=lambda cp: cp.sequence, default=None)


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
    return verify_and_record_log(uow, actor).report


def verify_and_record_log(
    uow: UnitOfWork, actor: Actor, *, since_last_verified: bool = False
) -> LogVerification:
    require(actor, Permission.AUDIT_VERIFY)
    verification = verify_log(uow.session, since_last_verified=since_last_verified)
    record_verification(uow, actor, verification)
    return verification


def record_verification(uow: UnitOfWork, actor: Actor, verification: LogVerification) -> None:
    """Keep the run for the integrity page and in the log itself: its entry names the range
    of entries found intact ("first-last"), which `--since-last-verified` starts from."""
    require(actor, Permission.AUDIT_VERIFY)
    report = verification.report
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
                object_type=VERIFIED_RANGE_TYPE,
                object_id=f"{verification.first_checked}-{report.last_sequence}",
            )
    except IntegrityError:
        # A forged entry holds the next sequence number, so nothing can be appended until it
        # is removed: the report says so, and the verification run is kept all the same.
        if report.ok:
            raise
    uow.commit()


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
    dbapi_connection = session.connection().connection.dbapi_connection
    assert dbapi_connection is not None
    report = verify_stored_log(
        dbapi_connection, stored_log(session), config.audit_key, (), public_key, head, latest
    )
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
