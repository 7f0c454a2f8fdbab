"""On SQLite, two workers read side by side and take turns only to write.

A transaction reads from a snapshot of its own without the write lock; its first write (or a
read that locks rows for a decision, `with_for_update()`) takes the lock, waiting for the
other worker's commit rather than failing with "database is locked", and from then on it
sees the newest data. These tests play the two workers with two engines on one file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text, update

from referral.db.engine import Database

metadata = MetaData()
counters = Table(
    "counters", metadata, Column("id", Integer, primary_key=True), Column("n", Integer)
)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    first, second = Database(url), Database(url)
    with first.engine.begin() as connection:
        metadata.create_all(connection)
        connection.execute(counters.insert().values(id=1, n=0))
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


def _add_one(database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(update(counters).values(n=counters.c.n + 1))


def test_a_worker_that_is_reading_does_not_hold_up_the_other_workers_write(
    two_workers: tuple[Database, Database],
) -> None:
    reader, writer = two_workers
    with reader.engine.begin() as reading:
        assert reading.scalar(select(counters.c.n)) == 0
        started = time.monotonic()
        _add_one(writer)
        assert time.monotonic() - started < 1.0
        # The reader's snapshot is its own until it writes.
        assert reading.scalar(select(counters.c.n)) == 0


def test_a_write_after_the_other_worker_committed_waits_its_turn_and_sees_the_newest_data(
    two_workers: tuple[Database, Database],
) -> None:
    reader, writer = two_workers
    with reader.engine.begin() as connection:
        assert connection.scalar(select(counters.c.n)) == 0
        _add_one(writer)  # the reader's snapshot is now stale
        # A deferred transaction would fail here at once with "database is locked".
        connection.execute(update(counters).values(n=counters.c.n + 10))
        assert connection.scalar(select(counters.c.n)) == 11
    with writer.engine.connect() as connection:
        assert connection.scalar(select(counters.c.n)) == 11


def test_a_read_that_locks_rows_for_a_decision_holds_the_write_lock_until_commit(
    two_workers: tuple[Database, Database],
) -> None:
    decider, other = two_workers
    other_done = threading.Event()
    with decider.engine.begin() as connection:
        connection.scalar(select(counters.c.n).with_for_update())
        worker = threading.Thread(target=lambda: (_add_one(other), other_done.set()))
        worker.start()
        # The other worker's write waits behind the lock the decision holds.
        assert not other_done.wait(0.5)
        assert connection.scalar(select(counters.c.n)) == 0
    worker.join(timeout=10)
    assert other_done.is_set()
    with other.engine.connect() as connection:
        assert connection.scalar(select(counters.c.n)) == 1


def test_writes_of_two_workers_at_once_all_land(two_workers: tuple[Database, Database]) -> None:
    first, second = two_workers

    def read_then_add(database: Database) -> None:
        for _ in range(25):
            with database.engine.begin() as connection:
                connection.scalar(select(counters.c.n))
                connection.execute(update(counters).values(n=counters.c.n + 1))

    workers = [threading.Thread(target=read_then_add, args=(db,)) for db in (first, second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    with first.engine.connect() as connection:
        assert connection.scalar(select(counters.c.n)) == 50
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
