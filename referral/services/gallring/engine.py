"""The plan (what is due, what is held and why, what is kept) and the run that purges.

A run first returns to social services the file of every unit that has ended and needs one,
due or not yet (_return_ended): on completion the data is purged or returned (domain.md §5),
so a nightly run gives the district its file the night after the end, and the purge, when
the retention is over, finds it delivered (the return is still checked, and made, inside
the purge's transaction if it is missing).

A run purges units (one person's data under one holder each) in transactions of
`gallring_units_per_transaction` units: the units are locked and read afresh, checked again
(still due, not held, not purged by a run racing this one), their return files delivered,
their statistics kept, their keys shredded and their fields emptied, each purge recorded and
audited; then the batch commits. A unit is never split across transactions, so killed
half-way a run loses nothing: each unit is either wholly purged or untouched, and the next
run finishes the rest. A batch that fails is redone one unit per transaction, so a unit that
cannot be purged is counted and logged alone while the others go ahead. The batch exists
for speed: a unit costs a dozen statements and a commit on its own, and most of them are
shared by a batch (bench/gallring_bench.py). On PostgreSQL a run
holds an advisory lock, so a second run at once finds it taken and stops; on SQLite each
unit's transaction holds the write lock, and the unique (rule, unit) of the purge record
makes a unit purged once whatever happens.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.record import Entry, record, record_many
from config import Settings
from referral.actors import Actor
from referral.db.base import new_id, utcnow
from referral.db.retention import GallringRun, PurgeRecord, RunStatus
from referral.db.uow import UnitOfWork
from referral.policy import Permission, require
from referral.scopes import KeyScope
from referral.services import kept_statistics
from referral.services.gallring.erasure import erase_many
from referral.services.gallring.holds import HoldKind, holds_on_many, released_holds_of
from referral.services.gallring.rule_base import PurgeRule, Unit
from referral.services.gallring.rules import RULES, KeptRecord, kept_records

# Any fixed 64-bit number, the same in every process: the run's advisory lock on PostgreSQL.
ADVISORY_LOCK_KEY = 0x6761_6C6C_7269_6E67  # "gallring"
CHECKPOINT_ATTEMPTS = 10
# SQLite: the WAL may grow to this many pages (of 4 KiB) during a run before a commit folds it
# back into the file (SQLite's default is 1 000). Each fold writes and syncs the file: with the
# default, nearly every batch's commit folded, rewriting the same index pages each time. The
# run ends with a full checkpoint and truncates the WAL (_compact).
RUN_WAL_AUTOCHECKPOINT = 50_000
log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class PlannedUnit:
    rule: str
    reference: str
    unit_id: str
    due_on: date
    held_by: tuple[HoldKind, ...]


@dataclass(frozen=True)
class RulePlan:
    rule: str
    basis: str
    due: int
    held: int
    waiting: int  # retention not yet over
    next_due_on: date | None


@dataclass(frozen=True)
class Plan:
    today: date
    rules: tuple[RulePlan, ...]
    due: tuple[PlannedUnit, ...]  # what a run would purge now
    held: tuple[PlannedUnit, ...]  # due, but held (and why)
    waiting: tuple[PlannedUnit, ...]  # retention not over yet (a hold may be set already)
    kept: tuple[KeptRecord, ...]

    @property
    def due_count(self) -> int:
        return len(self.due)


def _classify(
    uow: UnitOfWork, settings: Settings, today: date
) -> Iterator[tuple[PurgeRule, Unit, list[HoldKind] | None]]:
    """Every unit of every rule, with its holds (None: its retention is not over yet)."""
    for rule in RULES:
        units = list(rule.units(uow, settings, today))
        holds = holds_on_many(uow, [unit for unit in units if unit.due_on <= today])
        for unit in units:
            yield rule, unit, holds.get(unit.unit_id)


def plan(uow: UnitOfWork, actor: Actor, settings: Settings, today: date) -> Plan:
    """A dry run: changes nothing. It shows references and counts only, never a name, so it
    writes nothing to the access log either."""
    require(actor, Permission.GALLRING_READ)
    due: list[PlannedUnit] = []
    held: list[PlannedUnit] = []
    later: list[PlannedUnit] = []
    waiting: Counter[str] = Counter()
    next_due: dict[str, date] = {}
    for rule, unit, holds in _classify(uow, settings, today):
        if holds is None:
            waiting[rule.name] += 1
            if rule.name not in next_due or unit.due_on < next_due[rule.name]:
                next_due[rule.name] = unit.due_on
            later.append(PlannedUnit(rule.name, unit.reference, unit.unit_id, unit.due_on, ()))
            continue
        planned = PlannedUnit(rule.name, unit.reference, unit.unit_id, unit.due_on, tuple(holds))
        (held if holds else due).append(planned)
    due_by = Counter(u.rule for u in due)
    held_by = Counter(u.rule for u in held)
    summary = tuple(
        RulePlan(
            rule.name,
            rule.basis,
            due_by[rule.name],
            held_by[rule.name],
            waiting[rule.name],
            next_due.get(rule.name),
        )
        for rule in RULES
    )
    uow.rollback()  # a dry run: nothing it read is kept open, nothing is written
    order = lambda u: (u.due_on, u.rule, u.unit_id)  # noqa: E731 - a sort key
    return Plan(
        today=today,
        rules=summary,
        due=tuple(sorted(due, key=order)),
        held=tuple(sorted(held, key=order)),
        waiting=tuple(sorted(later, key=order)),
        kept=tuple(kept_records(uow)),
    )


@dataclass(frozen=True)
class RunResult:
    run_id: str | None  # None: another run holds the lock, so this one did nothing
    due: int
    purged: int
    held: int
    failed: int = 0  # units whose purge raised: rolled back, logged, tried again next run
    returned: int = 0  # files returned to social services (of units due or not yet)


def _engine_of(uow: UnitOfWork) -> Engine:
    bind = uow.session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


@contextmanager
def _run_lock(bind: Engine) -> Iterator[bool]:
    """On PostgreSQL, the advisory lock on a connection of its own, held for the whole run
    (the units' transactions come and go on other connections). Elsewhere, always taken."""
    if bind.dialect.name != "postgresql":
        yield True
        return
    with bind.connect() as connection:
        taken = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
        )
        connection.commit()
        try:
            yield taken
        finally:
            if taken:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
                connection.commit()


# Returns the units' files to social services (in the caller's transaction); how many it
# created (a file returned before is not returned again).
DeliverReturn = Callable[[UnitOfWork, list[Unit]], int]


def run(
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
    today: date,
    deliver_return: DeliverReturn,
    progress: Progress | None = None,
) -> RunResult:
    """Purge every unit that is due and not held. `deliver_return` hands partners' files to
    social services before they are purged (in the units' transaction)."""
    require(actor, Permission.GALLRING_RUN)
    bind = _engine_of(uow)
    with _run_lock(bind) as taken:
        if not taken:
            return RunResult(None, 0, 0, 0)
        with _checkpoints_deferred(bind):
            return _run_locked(uow, actor, settings, today, deliver_return, progress)


# Set while this context runs a purge: the pool's listeners below act only then.
_DEFERRING: ContextVar[bool] = ContextVar("gallring_deferring_checkpoints", default=False)
_SAVED_LIMIT = "gallring_wal_autocheckpoint"
_listening: weakref.WeakSet[Engine] = weakref.WeakSet()
_registering = threading.Lock()


def _defer_on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if not _DEFERRING.get():
        return
    cursor = dbapi_connection.cursor()
    try:
        (limit,) = cursor.execute("PRAGMA wal_autocheckpoint").fetchone()
        record.info[_SAVED_LIMIT] = int(limit)
        cursor.execute(f"PRAGMA wal_autocheckpoint={RUN_WAL_AUTOCHECKPOINT}")
    finally:
        cursor.close()


def _restore_on_checkin(dbapi_connection: Any, record: Any) -> None:
    limit = record.info.pop(_SAVED_LIMIT, None)
    if limit is None or dbapi_connection is None:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA wal_autocheckpoint={int(limit)}")
    finally:
        cursor.close()


@contextmanager
def _checkpoints_deferred(bind: Engine) -> Iterator[None]:
    """SQLite: while the run lasts, a connection it takes from the pool lets the WAL grow to
    RUN_WAL_AUTOCHECKPOINT pages before a commit checkpoints it, and gets its own limit back
    when it returns to the pool. Nothing about durability changes: a commit is in the WAL
    either way; only how often the WAL is copied into the file. The listeners are added to
    an engine once, for good (adding or removing one while another thread's connection is
    checked out races with it), and act only in a context running a purge."""
    if bind.dialect.name != "sqlite":
        yield
        return
    with _registering:
        if bind not in _listening:
            event.listen(bind, "checkout", _defer_on_checkout)
            event.listen(bind, "checkin", _restore_on_checkin)
            _listening.add(bind)
    token = _DEFERRING.set(True)
    try:
        yield
    finally:
        _DEFERRING.reset(token)


def _run_locked(
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
    today: date,
    deliver_return: DeliverReturn,
    progress: Progress | None,
) -> RunResult:
    db = uow.session
    # A run that was killed stays "running": the next one says so, and finishes its work.
    for stale in db.scalars(select(GallringRun).where(GallringRun.status == RunStatus.RUNNING)):
        stale.status = RunStatus.INTERRUPTED
    pending: list[tuple[PurgeRule, str]] = []
    ended: dict[PurgeRule, list[Unit]] = {rule: [] for rule in RULES}
    held = 0
    for rule, unit, holds in _classify(uow, settings, today):
        ended[rule].append(unit)
        if holds is None:
            continue
        if holds:
            held += 1
        else:
            pending.append((rule, unit.unit_id))
    the_run = GallringRun(started_by=actor.user_id, due=len(pending) + held, held=held)
    db.add(the_run)
    db.flush()
    record(db, actor, Action.GALLRING_RUN, object_type="gallring_run", object_id=the_run.id)
    uow.commit()
    run_id = the_run.id
    purged = failed = done = 0
    batch_size = max(settings.gallring_units_per_transaction, 1)
    returned = _return_ended(uow, ended, batch_size, deliver_return)
    for rule, unit_ids in _batches(pending, batch_size):

        def purge(ids: list[str], rule: PurgeRule = rule) -> int:
            return _purge_batch(uow, actor, settings, today, rule, ids, run_id, deliver_return)

        def not_purged(unit_id: str, error: Exception, rule: PurgeRule = rule) -> None:
            nonlocal failed
            failed += 1
            # The rule and the unit's pseudonymous id only: never a field of it.
            log.error("gallring: %s %s not purged (%s)", rule.name, unit_id, type(error).__name__)

        purged += _in_batch_or_alone(uow, unit_ids, purge, not_purged)
        done += len(unit_ids)
        if progress:
            progress(done, len(pending))
    finished = db.get(GallringRun, run_id)
    assert finished is not None
    # The row counts the purge's own returns already (the batches' UPDATE): read it afresh.
    db.refresh(finished, ["returned"])
    finished.status = RunStatus.FINISHED
    finished.finished_at = utcnow()
    finished.failed = failed
    finished.returned += returned
    returned_in_all = finished.returned
    uow.commit()
    _compact(uow)
    return RunResult(run_id, len(pending) + held, purged, held, failed, returned_in_all)


def _return_ended(
    uow: UnitOfWork,
    ended: dict[PurgeRule, list[Unit]],
    batch_size: int,
    deliver_return: DeliverReturn,
) -> int:
    """Return to social services the files of every unit that has ended and needs one, due
    or not yet (held or not: a return copies, it destroys nothing), a batch per transaction;
    how many files were returned. In a nightly run these are the participations that ended
    since the last run, so the purge, when their retention is over, finds each file
    delivered and only checks it. A batch that fails is redone one unit per transaction; a
    unit that still fails is logged, and its purge waits for its return."""
    returned = 0
    for rule, units in ended.items():
        unreturned = rule.unreturned(uow, units)
        uow.rollback()  # the check's read is not held open (on SQLite: not the write lock)

        def give_back(units: list[Unit], rule: PurgeRule = rule) -> int:
            return _return_batch(uow, rule, units, deliver_return)

        def not_returned(unit: Unit, error: Exception, rule: PurgeRule = rule) -> None:
            log.error(
                "gallring: %s %s not returned (%s)", rule.name, unit.unit_id, type(error).__name__
            )

        for start in range(0, len(unreturned), batch_size):
            batch = unreturned[start : start + batch_size]
            returned += _in_batch_or_alone(uow, batch, give_back, not_returned)
    return returned


def _in_batch_or_alone(
    uow: UnitOfWork,
    items: list[T],
    step: Callable[[list[T]], int],
    failed: Callable[[T, Exception], None],
) -> int:
    """`step` over the batch in one transaction; if it raises, rolled back and redone one
    item per transaction, so the item that fails is rolled back and reported to `failed`
    alone while the others go ahead. What the steps counted."""
    try:
        return step(items)
    except Exception:
        uow.rollback()
    counted = 0
    for item in items:
        try:
            counted += step([item])
        except Exception as error:
            uow.rollback()
            failed(item, error)
    return counted


def _return_batch(
    uow: UnitOfWork, rule: PurgeRule, units: list[Unit], deliver_return: DeliverReturn
) -> int:
    with _kept_in_session(uow.session):
        rule.lock(uow, [unit.unit_id for unit in units])  # two runs at once return it once
        needing = rule.needing_return(uow, units)
        created = deliver_return(uow, [unit for unit in units if unit.unit_id in needing])
        uow.commit()
    return created


def _batches(
    pending: list[tuple[PurgeRule, str]], size: int
) -> Iterator[tuple[PurgeRule, list[str]]]:
    """The pending units, a rule's at a time, in batches of at most `size`."""
    for rule in RULES:
        ids = [unit_id for unit_rule, unit_id in pending if unit_rule is rule]
        for start in range(0, len(ids), size):
            yield rule, ids[start : start + size]


def _purge_batch(
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
    today: date,
    rule: PurgeRule,
    unit_ids: list[str],
    run_id: str,
    deliver_return: DeliverReturn,
) -> int:
    """Purge units of one rule in one transaction; how many were purged (a unit no longer
    due, purged by a run racing this one, held since the plan or changed, is left alone)."""
    with _kept_in_session(uow.session):
        return _purge_kept(uow, actor, settings, today, rule, unit_ids, run_id, deliver_return)


@contextmanager
def _kept_in_session(session: Session) -> Iterator[None]:
    """Every row the batch loads stays in the session until the batch ends. A session holds
    its rows weakly: a row one step reads (the lock) and lets go of would be gone by the next
    step, which then builds it anew from its own query, or reads it again by id; so a batch
    of a hundred units built each referral four times and looked each row up one by one."""
    kept: list[object] = []

    def keep(_session: Session, instance: object) -> None:
        kept.append(instance)

    event.listen(session, "loaded_as_persistent", keep)
    try:
        yield
    finally:
        event.remove(session, "loaded_as_persistent", keep)
        kept.clear()


def _purge_kept(
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
    today: date,
    rule: PurgeRule,
    unit_ids: list[str],
    run_id: str,
    deliver_return: DeliverReturn,
) -> int:
    db = uow.session
    rule.lock(uow, unit_ids)  # a hold set meanwhile waits for this commit, or stops it
    found = rule.units_by_id(uow, settings, today, unit_ids)
    due = [found[i] for i in unit_ids if i in found and found[i].due_on <= today]
    holds = holds_on_many(uow, due)
    units = [unit for unit in due if not holds[unit.unit_id]]
    if not units:
        uow.rollback()
        return 0
    now = utcnow()
    try:
        returning = rule.needing_return(uow, units)
        # Returned the night after the end, as a rule: here only a file missing, or one a
        # later concern report made stale, is (re)built.
        returned = (
            deliver_return(uow, [unit for unit in units if unit.unit_id in returning])
            if returning
            else 0
        )
        residues = rule.residues(uow, units)
        kept_statistics.keep(db, rule.kept_tallies(uow, units))
        rule.remove(uow, units)
        # The reasons of holds released on a unit may name the person: they go with it.
        released = released_holds_of(uow, units)
        shredded = erase_many(
            uow, [(unit.person_id, unit.holders + released[unit.unit_id]) for unit in units]
        )
        rule.stamp(uow, units, now)
        # One INSERT for the batch's records, not a hundred objects through the unit of work.
        db.execute(
            insert(PurgeRecord),
            [
                {
                    "id": new_id(),
                    "rule": rule.name,
                    "unit_id": unit.unit_id,
                    "person_id": unit.person_id,
                    "run_id": run_id,
                    "due_on": unit.due_on,
                    "purged_at": now,
                    "keys_shredded": keys,
                    **residues[unit.unit_id].__dict__,
                }
                for unit, keys in zip(units, shredded, strict=True)
            ],
        )
    except IntegrityError:  # another run purged one of them between our read and our write
        if len(units) > 1:
            raise  # redone one by one: the others are still purged
        uow.rollback()
        return 0
    record_many(
        db,
        actor,
        [
            Entry(
                Action.GALLRING_PURGE,
                object_type=rule.name,
                object_id=unit.unit_id,
                # Pseudonymous: the person's id and the holder, never sealed details (the
                # keys that would seal them are the ones just shredded). A unit without a
                # file of its own has no holder to name: the entry names the unit, and the
                # purge record the person.
                subject=KeyScope(unit.person_id, unit.holders[0]) if unit.holders else None,
                legal_basis=f"gallring:{rule.name}",
            )
            for unit in units
        ],
    )
    # One UPDATE: the run's row, expired by the erasure, is not read again to be counted.
    db.execute(
        update(GallringRun)
        .where(GallringRun.id == run_id)
        .values(purged=GallringRun.purged + len(units), returned=GallringRun.returned + returned)
        .execution_options(synchronize_session=False)
    )
    uow.commit()
    return len(units)


def _compact(uow: UnitOfWork) -> None:
    """SQLite: deleted content was zeroed as it went (PRAGMA secure_delete, set on every
    connection); fold the WAL back into the file and truncate it, so no old page lingers
    there. PostgreSQL does not zero pages: crypto-shredding is the guarantee (README)."""
    bind = uow.session.get_bind()
    if bind.dialect.name != "sqlite" or not isinstance(bind, Engine):
        return  # (a session bound to an outer transaction, as in tests: its owner's business)
    uow.session.close()
    raw = bind.raw_connection()
    try:
        for _attempt in range(CHECKPOINT_ATTEMPTS):
            busy, *_pages = raw.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()
            if not busy:
                return
            time.sleep(0.2)  # a reader of another worker holds an old snapshot: wait for it
        log.warning("gallring: the WAL could not be truncated (a reader stayed); next run")
    finally:
        raw.close()


@dataclass(frozen=True)
class RunView:
    id: str
    started_at: datetime
    finished_at: datetime | None
    started_by: str
    status: str
    due: int
    purged: int
    held: int
    failed: int
    returned: int


def last_runs(uow: UnitOfWork, actor: Actor, limit: int = 10) -> list[RunView]:
    require(actor, Permission.GALLRING_READ)
    rows = uow.session.scalars(
        select(GallringRun).order_by(GallringRun.started_at.desc()).limit(limit)
    )
    return [
        RunView(
            r.id,
            r.started_at,
            r.finished_at,
            r.started_by,
            r.status,
            r.due,
            r.purged,
            r.held,
            r.failed,
            r.returned,
        )
        for r in rows
    ]
