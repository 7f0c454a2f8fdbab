"""Verifying the log where it is stored, in parallel between signed checkpoints.

The sequential pass (:class:`audit.chain.ChainWalk`) reads every entry from the first (or from
a signed starting checkpoint) to the head. Its state right after a signed checkpoint is known
without reading anything before it: the next entry expected is the one after the checkpoint
and the link before it is the checkpoint's, whose signature was checked with the public key.
So the log is cut at checkpoints into segments, and each segment is verified exactly as the
sequential pass would verify it had everything before it been intact, by one of the workers:
this process (in the caller's connection and transaction) and, for each further core, a new
interpreter that imports only the verifier and the database driver and opens a connection of
its own from the connection arguments. Each takes the next segment nobody has taken once it
is free (the new interpreters from the first, this process from the last; a file under a lock
says which are taken), so one that starts late or runs slower takes fewer. The report is then
the sequential one: the earliest
segment that fails gives it (its counts already include the segments before it, all intact),
and when none fails, the last segment (after the last checkpoint, up to the head read at the
start), which this process verifies, ends with the checks against the head.

A segment's walk stops once it has verified the checkpoint that ends the segment. If the
entries run out before that, it goes on reading past the segment's end, as the sequential
pass would, so a deletion at the boundary is worded the same way.

Without checkpoints to cut at, or for a short log, everything is verified here, in one pass.
Within a segment, batches of entries are read with their canonical text written by the
database and vouched for in bulk (:mod:`audit.stored_text`); a batch it declines is read
again column by column, vouched for by :mod:`audit.batch_check` or checked entry by entry.
"""

from __future__ import annotations

import fcntl
import gc
import importlib
import logging
import os
import pickle
import sqlite3
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
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
from audit.stored_text import (
    TextCheck,
    postgres_columns,
    postgres_types_fit,
    sqlite_columns,
    sqlite_writes_json,
)

__all__ = [
    "PARALLEL_FROM_ENTRIES",
    "Connector",
    "StoredLog",
    "WorkerFailed",
    "available_cores",
    "serve",
    "verify_stored_log",
]

logger = logging.getLogger(__name__)

FETCH_BATCH = 5000
# Below this many entries a pass in this process is done before worker processes have
# started (they import the verifier and connect: a few tenths of a second).
PARALLEL_FROM_ENTRIES = 100_000
# Segments per worker: enough that the last ones taken are short (the workers finish
# together), few enough that each is a long sequential read.
SEGMENTS_PER_WORKER = 32
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

    def select(self, after: int, through: int | None, columns: str | None = None) -> str:
        columns = columns or ", ".join(self.fields)
        columns += ", entry_hash, link"
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
        skipping the ORM's per-row work is a large part of its speed.

        PostgreSQL is asked for one range of sequence numbers at a time (an index range
        scan each): that costs its server less than a server-side cursor, and the server
        shares the cores with the verifier. SQLite, in process, streams one query."""
        if self.postgresql:
            yield from self._postgres_batches(connection, after, through, None, binary=False)
            return
        cursor = connection.cursor()
        try:
            cursor.execute(self.select(after, through))
            while rows := cursor.fetchmany(FETCH_BATCH):
                yield rows
        finally:
            cursor.close()  # the verifier may stop early

    def _postgres_batches(
        self,
        connection: DBAPIConnection,
        after: int,
        through: int | None,
        columns: str | None,
        *,
        binary: bool,
    ) -> Iterator[list[Any]]:
        if through is None:
            # Unbounded: one query through a server-side cursor, which streams.
            cursor = connection.cursor(name=_CURSOR_NAME, binary=binary)
            try:
                cursor.execute(self.select(after, through, columns))
                while rows := cursor.fetchmany(FETCH_BATCH):
                    yield rows
            finally:
                cursor.close()
            return
        cursor = connection.cursor(binary=binary)
        try:
            low = after
            while low < through:
                high = min(low + FETCH_BATCH, through)
                cursor.execute(self.select(low, high, columns))
                if rows := cursor.fetchall():
                    yield rows
                low = high
        finally:
            cursor.close()

    def text_check(self, connection: DBAPIConnection, audit_key: bytes) -> TextCheck | None:
        """The check of rows whose canonical text the database wrote
        (:mod:`audit.stored_text`), when it can write them as the encoder does."""
        if self.postgresql:
            cursor = connection.cursor()
            try:
                fits = postgres_types_fit(cursor, self.table, self.fields)
            finally:
                cursor.close()
        else:
            fits = isinstance(connection, sqlite3.Connection) and sqlite_writes_json(connection)
        return TextCheck(self.fields, audit_key) if fits else None

    def text_batches(
        self, connection: DBAPIConnection, after: int, through: int | None
    ) -> Iterator[list[Any]]:
        """As :meth:`batches`, each row as ``(sequence, canonical text, sealed details, hash,
        link)``. On SQLite it ends early, without an error, where SQLite refuses to write a
        row's text (a BLOB where the log keeps text): the caller reads the rest column by
        column."""
        if self.postgresql:
            columns = postgres_columns(self.fields)
            # Binary: the text and the hashes arrive as bytes, not as hex to decode.
            yield from self._postgres_batches(connection, after, through, columns, binary=True)
            return
        cursor = connection.cursor()
        try:
            cursor.execute(self.select(after, through, sqlite_columns(self.fields)))
            while rows := cursor.fetchmany(FETCH_BATCH):
                yield rows
        except sqlite3.Error:
            return
        finally:
            cursor.close()

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

    With a ``connector`` and more than one worker, segments between checkpoints are shared
    between this process and ``workers - 1`` new ones when there are at least
    ``parallel_from`` entries to verify; the last segment, and any short log, are verified in
    ``connection`` (which sees the caller's transaction, uncommitted entries included: a
    checkpoint is only ever signed over committed ones)."""
    walk = begin_walk(audit_key, checkpoints, public_key, start, head)
    if isinstance(walk, VerificationReport):
        return walk
    segments = _segments(walk, head, workers) if connector is not None and workers > 1 else []
    if head.sequence - walk.base < parallel_from or not segments:
        return _verify_rows(walk, connection, log).finish_report()
    assert connector is not None
    # This process is one of the workers, and verifies the last segment too. The segments
    # are claimed as each worker becomes free (the new processes from the first, this one
    # from the last), so one that starts late or runs slower takes fewer.
    others = min(workers, len(segments)) - 1
    outcomes: dict[int, VerificationReport | None] = {}
    tail_outcome: _Outcome | None = None
    with tempfile.TemporaryDirectory(prefix="audit-verify-") as directory:
        claims = Claims.create(Path(directory) / "claims", len(segments))
        processes = [_WorkerProcess.launch() for _number in range(others)]  # start together
        try:
            for process in processes:
                process.send(connector, log, walk, segments, claims)
            mine = _verify_claimed(connection, log, walk, segments, claims, from_first=False)
            outcomes.update(mine)
            if not any(failure is not None for failure in mine.values()):
                tail = walk.resumed_after(segments[-1].last_index, None)
                tail_outcome = _verify_rows(tail, connection, log)
            for process in processes:
                try:
                    outcomes.update(process.outcomes())
                except WorkerFailed as error:
                    # Slower, never a different report: what it did not answer for is
                    # verified here, below.
                    logger.warning("audit verification worker failed, verifying here: %s", error)
        finally:
            for process in processes:
                process.stop()
    for index, segment in enumerate(segments):
        # The earliest segment that fails gives the report: all before it are intact. A
        # worker stops at its first failure, and a segment no worker answered for (one
        # that failed, or the segments between a failure and the next claimed) is
        # verified here, so every segment before the report's has been verified.
        if index not in outcomes:
            outcomes[index] = _verify_segment(
                connection, log, walk.resumed_after(segment.after_index, segment.last)
            )
        failure = outcomes[index]
        if failure is not None:
            return failure
    assert tail_outcome is not None  # this process had no failure, else one was returned
    return tail_outcome.finish_report()


@dataclass(frozen=True)
class Claims:
    """Which segments have been taken: a small file holding the first and the last one not
    yet taken, changed under an exclusive lock by whichever process takes one."""

    path: Path

    @classmethod
    def create(cls, path: Path, count: int) -> Claims:
        path.write_bytes(_CLAIMS.pack(0, count))
        return cls(path)

    def take(self, *, first: bool) -> int | None:
        """The index of the first (or the last) segment not yet taken, now taken; None when
        all are."""
        with self.path.open("r+b") as claims:
            fcntl.flock(claims, fcntl.LOCK_EX)  # released when the file is closed
            low, high = (int(number) for number in _CLAIMS.unpack(claims.read(_CLAIMS.size)))
            if low >= high:
                return None
            taken = low if first else high - 1
            low, high = (low + 1, high) if first else (low, high - 1)
            claims.seek(0)
            claims.write(_CLAIMS.pack(low, high))
        return taken


_CLAIMS = struct.Struct("<qq")


def _verify_claimed(
    connection: DBAPIConnection,
    log: StoredLog,
    walk: ChainWalk,
    segments: Sequence[_Segment],
    claims: Claims,
    *,
    from_first: bool,
) -> dict[int, VerificationReport | None]:
    """Segments taken one at a time until none is left, each resumed from its checkpoint:
    None for each that is intact, up to the first that fails (what comes after it cannot
    change the report)."""
    outcomes: dict[int, VerificationReport | None] = {}
    while (index := claims.take(first=from_first)) is not None:
        segment = segments[index]
        outcome = _verify_segment(
            connection, log, walk.resumed_after(segment.after_index, segment.last)
        )
        outcomes[index] = outcome
        if outcome is not None:
            break
    return outcomes


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
    columns = _ColumnReader(connection, log, walk)
    texts = log.text_check(connection, walk.audit_key)
    head = walk.head
    end = head.sequence if head is not None else None
    ranges = [(walk.expected - 1, walk.stop_after or end)]
    if walk.stop_after is not None:
        ranges.append((walk.stop_after, end))
    with _collector_paused():
        for after, through in ranges:
            if texts is not None:
                for rows in log.text_batches(connection, after, through):
                    if texts.advance(walk, rows):
                        if walk.finished_segment:
                            return _Outcome(walk, None)
                        continue
                    # Declined: the same rows again, column by column.
                    failure = columns.check(after, rows[-1][0])
                    if failure is not None or walk.finished_segment:
                        return _Outcome(walk, failure)
            # Without SQLite's texts, all of the range; with them, whatever they left (none
            # when they reached its end).
            failure = columns.check(after, through)
            if failure is not None or walk.finished_segment:
                return _Outcome(walk, failure)
    return _Outcome(walk, None)


@dataclass
class _ColumnReader:
    """Reads entries column by column and checks them: each batch in bulk when the bulk
    check vouches for it, entry by entry when it does not."""

    connection: DBAPIConnection
    log: StoredLog
    walk: ChainWalk
    bulk: BatchCheck = field(init=False)
    shape: RowShape = field(init=False)

    def __post_init__(self) -> None:
        self.bulk = BatchCheck(self.log.fields, self.walk.audit_key)
        self.shape = self.log.shape()

    def check(self, after: int, through: int | None) -> VerificationReport | None:
        """The entries after `after` (and after where the walk stands) through `through`:
        the first failure, or None once they are read or the walk has finished its
        segment."""
        walk = self.walk
        start = max(after, walk.expected - 1)
        for rows in self.log.batches(self.connection, start, through):
            if not self.bulk.advance(walk, rows):
                failure = walk.walk_rows(rows, self.shape)
                if failure is not None:
                    return failure
            if walk.finished_segment:
                return None
        return None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The walk makes millions of short-lived tuples and no reference cycles: the cyclic
    garbage collector would only rescan them, for a tenth of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class WorkerFailed(Exception):
    """A worker process could not start, or ended without an answer."""


@dataclass
class _WorkerProcess:
    """A worker: a new interpreter that imports only the verifier and the database driver
    (not the application that asked: neither its modules nor anything it holds, such as a
    connection, a lock or a thread, reach the worker), opens a connection of its own and
    verifies the segments it is handed, in order."""

    process: subprocess.Popen[bytes] | None
    problem: str | None = None

    @classmethod
    def launch(cls) -> _WorkerProcess:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            process = subprocess.Popen(
                # -P: the working directory is not put on the path, so a module lying there
                # cannot be imported in place of ours (the worker is handed the log's key).
                [sys.executable, "-P", "-c", "from audit.stored_log import serve; serve()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=environment,
            )
        except OSError as error:
            return cls(None, f"could not start: {error}")
        return cls(process)

    def send(
        self,
        connector: Connector,
        log: StoredLog,
        walk: ChainWalk,
        segments: list[_Segment],
        claims: Claims,
    ) -> None:
        """Hand over the segments, where they are claimed, and the walk as it stands at the
        start (each segment is resumed from it at its checkpoint)."""
        if self.process is None or self.process.stdin is None:
            return
        try:
            self.process.stdin.write(pickle.dumps((connector, log, walk, segments, claims)))
            self.process.stdin.close()
        except OSError as error:  # it ended before reading: its answer tells why
            self.problem = f"could not be handed its segments: {error}"
        self.process.stdin = None  # sent: communicate() has only the answer to read

    def outcomes(self) -> dict[int, VerificationReport | None]:
        """The outcome of each segment it took (None: intact), up to the first that
        fails."""
        if self.process is None:
            raise WorkerFailed(self.problem)
        output, errors = self.process.communicate()
        if self.process.returncode != 0 or self.problem is not None:
            detail = errors.decode(errors="replace")[-2000:]
            raise WorkerFailed(
                f"{self.problem or 'exit ' + str(self.process.returncode)}: {detail}"
            )
        try:
            outcomes: dict[int, VerificationReport | None] = pickle.loads(output)  # noqa: S301 - ours  # nosec B301
        except (pickle.UnpicklingError, EOFError) as error:
            raise WorkerFailed(f"an answer that could not be read: {error}") from error
        return outcomes

    def stop(self) -> None:
        """End the worker if it is still running (the verification stopped early), and
        close its pipes."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def serve() -> None:
    """A worker's main: the task from standard input, the outcomes to standard output."""
    output = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the answer
    connector, log, walk, segments, claims = pickle.load(sys.stdin.buffer)  # noqa: S301 - from our parent  # nosec B301
    connection = connector.connect()
    try:
        outcomes = _verify_claimed(connection, log, walk, segments, claims, from_first=True)
    finally:
        connection.close()
    output.write(pickle.dumps(outcomes))
    output.flush()
    sys.stderr.flush()
    # Nothing is left to tidy (the connection is closed, the answer written): ending here
    # spares the parent, which waits for this process to end, the interpreter's shutdown.
    os._exit(0)


def _verify_segment(
    connection: DBAPIConnection, log: StoredLog, walk: ChainWalk
) -> VerificationReport | None:
    """None when the segment ends at its checkpoint intact; otherwise the report the
    sequential pass gives."""
    outcome = _verify_rows(walk, connection, log)
    if outcome.failure is not None:
        return outcome.failure
    if walk.finished_segment:
        return None
    return walk.finish()  # the entries ran out before the segment's checkpoint
