"""Verifying the log where it is stored, in parallel between signed checkpoints.

The sequential pass (:class:`audit.chain.ChainWalk`) reads every entry from the first (or from
a signed starting checkpoint) to the head. Its state right after a signed checkpoint is known
without reading anything before it: the next entry expected is the one after the checkpoint
and the link before it is the checkpoint's, whose signature was checked with the public key.
So the log is cut at checkpoints into segments, and each segment is verified by a worker
process (one per core, each with its own database connection, opened from the connection
arguments) exactly as the sequential pass would verify it had everything before it been
intact. The report is then the sequential one: the earliest segment that fails gives it (its
counts already include the segments before it, all intact), and when none fails, the last
segment (after the last checkpoint, up to the head read at the start) is verified here, in
the caller's own connection and transaction, and its end is checked against the head.

A segment's worker stops once it has verified the checkpoint that ends the segment. If the
entries run out before that, it goes on reading past the segment's end, as the sequential
pass would, so a deletion at the boundary is worded the same way.

Without checkpoints to cut at, or for a short log, everything is verified here, in one pass.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.batch_check import BatchCheck
from audit.canonical import row_encoder
from audit.chain import (
    ChainHead,
    ChainWalk,
    RowShape,
    VerificationReport,
    begin_walk,
)
from audit.checkpoints import Checkpoint

__all__ = [
    "PARALLEL_FROM_ENTRIES",
    "Connector",
    "StoredLog",
    "available_cores",
    "verify_stored_log",
]

FETCH_BATCH = 5000
# Below this many entries a pass in this process is done before worker processes have
# started (they import the verifier and connect: a few tenths of a second).
PARALLEL_FROM_ENTRIES = 100_000
# Segments per worker: enough for an even share when the machine is busy, few enough that
# each is a long sequential read.
SEGMENTS_PER_WORKER = 4
_CURSOR_NAME = "audit_verify"


class DBAPIConnection(Protocol):
    def cursor(self, *args: Any, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Connector:
    """How a worker process opens a connection of its own: the DBAPI module's name and what
    to pass to its ``connect`` (never a connection: those are not shared across processes)."""

    module: str  # "sqlite3" or "psycopg"
    args: tuple[object, ...] = ()
    options: dict[str, object] = field(default_factory=dict)

    def connect(self) -> DBAPIConnection:
        connection: DBAPIConnection = importlib.import_module(self.module).connect(
            *self.args, **self.options
        )
        return connection


@dataclass(frozen=True)
class StoredLog:
    """Where the entries are: the table, its hashed fields (the sequence first) and which
    database it is (PostgreSQL reads through a server-side cursor)."""

    table: str
    fields: tuple[str, ...]
    postgresql: bool

    def select(self, after: int, through: int | None) -> str:
        columns = ", ".join([*self.fields, "entry_hash", "link"])
        bounds = f"sequence > {int(after)}"
        if through is not None:
            bounds += f" AND sequence <= {int(through)}"
        # Fixed column and table names and two integers: nothing from outside.
        return f"SELECT {columns} FROM {self.table} WHERE {bounds} ORDER BY sequence"  # noqa: S608  # nosec B608

    def batches(
        self, connection: DBAPIConnection, after: int, through: int | None
    ) -> Iterator[list[Any]]:
        """The entries after `after` (through `through`) in sequence order, a batch at a
        time, read with the DBAPI cursor itself: the verifier needs the raw columns, and
        skipping the ORM's per-row work is a large part of its speed."""
        cursor = connection.cursor(name=_CURSOR_NAME) if self.postgresql else connection.cursor()
        try:
            cursor.execute(self.select(after, through))
            while rows := cursor.fetchmany(FETCH_BATCH):
                yield rows
        finally:
            cursor.close()  # the verifier may stop early: release the server-side cursor

    def shape(self) -> RowShape:
        width = len(self.fields)
        return RowShape(hash_at=width, link_at=width + 1, encode=row_encoder(self.fields))


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def verify_stored_log(
    connection: DBAPIConnection,
    log: StoredLog,
    audit_key: bytes,
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey | None,
    head: ChainHead,
    start: Checkpoint | None = None,
    connector: Connector | None = None,
    workers: int = 1,
    parallel_from: int = PARALLEL_FROM_ENTRIES,
) -> VerificationReport:
    """Verify the stored entries up to ``head`` (read before calling), from the first or from
    the signed ``start``, with the checkpoints' signatures; the same report as
    :func:`audit.chain.verify_chain` over the same rows.

    With a ``connector`` and more than one worker, segments between checkpoints are verified
    in worker processes when there are at least ``parallel_from`` entries to verify; the last
    segment, and any short log, in ``connection`` (which sees the caller's transaction)."""
    walk = begin_walk(audit_key, checkpoints, public_key, start, head)
    if isinstance(walk, VerificationReport):
        return walk
    segments = _segments(walk, head, workers) if connector is not None and workers > 1 else []
    if head.sequence - walk.base < parallel_from or not segments:
        return _verify_rows(walk, connection, log).finish_report()
    assert connector is not None
    tail_start = segments[-1].last_index
    tail = walk.resumed_after(tail_start, None)
    context = multiprocessing.get_context("spawn")  # nothing inherited: no connection, no lock
    with ProcessPoolExecutor(min(workers, len(segments)), mp_context=context) as pool:
        futures: list[Future[VerificationReport | None]] = [
            pool.submit(_verify_segment, connector, log, walk.resumed_after(s.after_index, s.last))
            for s in segments
        ]
        try:
            tail_outcome = _verify_rows(tail, connection, log)
            for future in futures:
                failure = future.result()
                if failure is not None:
                    return failure  # the earliest segment that fails: all before it are intact
        finally:
            for future in futures:
                future.cancel()
    return tail_outcome.finish_report()


@dataclass(frozen=True)
class _Segment:
    """Entries after pending checkpoint `after_index` (-1: the walk's start) through the
    checkpoint `last_index`, at sequence `last`."""

    after_index: int
    last_index: int
    last: int


def _segments(walk: ChainWalk, head: ChainHead, workers: int) -> list[_Segment]:
    """Cut the entries between the walk's start and the last checkpoint at or before the
    head at checkpoints, into about `workers * SEGMENTS_PER_WORKER` segments of similar size."""
    usable = [i for i, cp in enumerate(walk.pending) if cp.sequence <= head.sequence]
    if not usable:
        return []
    span = head.sequence - walk.base
    target = max(1, span // (workers * SEGMENTS_PER_WORKER))
    segments: list[_Segment] = []
    after_index, after_sequence = -1, walk.base
    for index in usable:
        sequence = walk.pending[index].sequence
        if sequence - after_sequence >= target or index == usable[-1]:
            segments.append(_Segment(after_index, index, sequence))
            after_index, after_sequence = index, sequence
    return segments


@dataclass
class _Outcome:
    walk: ChainWalk
    failure: VerificationReport | None

    def finish_report(self) -> VerificationReport:
        return self.failure if self.failure is not None else self.walk.finish()


def _verify_rows(walk: ChainWalk, connection: DBAPIConnection, log: StoredLog) -> _Outcome:
    """Walk the stored entries from where `walk` stands: each batch in bulk when the bulk
    check vouches for it, entry by entry when it does not. A segment's walk reads to its last
    checkpoint, and past it only if the entries ran out before (as the whole pass would)."""
    bulk = BatchCheck(log.fields, walk.audit_key)
    shape = log.shape()
    head = walk.head
    end = head.sequence if head is not None else None
    ranges = [(walk.expected - 1, walk.stop_after or end)]
    if walk.stop_after is not None:
        ranges.append((walk.stop_after, end))
    for after, through in ranges:
        for rows in log.batches(connection, after, through):
            if not bulk.advance(walk, rows):
                failure = walk.walk_rows(rows, shape)
                if failure is not None:
                    return _Outcome(walk, failure)
            if walk.finished_segment:
                return _Outcome(walk, None)
    return _Outcome(walk, None)


def _verify_segment(
    connector: Connector, log: StoredLog, walk: ChainWalk
) -> VerificationReport | None:
    """In a worker process: verify one segment with a connection of its own. None when the
    segment ends at its checkpoint intact; otherwise the report the sequential pass gives."""
    connection = connector.connect()
    try:
        outcome = _verify_rows(walk, connection, log)
    finally:
        connection.close()
    if outcome.failure is not None:
        return outcome.failure
    if walk.finished_segment:
        return None
    return walk.finish()  # the entries ran out before the segment's checkpoint
