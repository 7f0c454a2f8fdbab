"""A server process copies SQLite's write-ahead log back into the database file on a thread of
its own, so that no request's commit pays for it (referral.db.wal_checkpoints).

Each test uses an SQLite file of its own, whichever database the suite runs on: what is
tested is SQLite's log, and a server on PostgreSQL has no such thread.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from referral.db import wal_checkpoints
from referral.db.engine import Database
from referral.db.wal_checkpoints import FALLBACK_PAGES, WalCheckpointer, defer_checkpoints

PAGE = 4096
# More than SQLite's own threshold (1 000 pages), written in small commits as requests do.
PAGES_WRITTEN = 1_500
NEVER = 3600.0  # an interval at which the thread never runs within a test


def _database(tmp_path: Path) -> Engine:
    """An engine configured as the service's (WAL, synchronous=NORMAL) on a new file."""
    engine = Database(f"sqlite:///{tmp_path / 'referral.sqlite3'}").engine
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (content BLOB NOT NULL)"))
    return engine


def _write_pages(engine: Engine, pages: int = PAGES_WRITTEN) -> None:
    """About `pages` pages of new rows, ten rows a commit."""
    for _ in range(pages // 10):
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO filler (content) VALUES (randomblob(:size))"),
                [{"size": PAGE - 200}] * 10,
            )


def _log_pages(engine: Engine) -> int:
    """How large the log file has grown, in pages (SQLite reuses it after a checkpoint, so a
    log that was checkpointed on the way stays near the threshold)."""
    path = Path(str(engine.url.database) + "-wal")
    return os.path.getsize(path) // PAGE


def _stop(checkpointer: WalCheckpointer | None) -> WalCheckpointer:
    assert checkpointer is not None
    checkpointer.stop()
    return checkpointer


def test_without_the_thread_a_commit_checkpoints_at_sqlites_threshold(tmp_path: Path) -> None:
    """The control: what the requests did before, and the command line still does."""
    engine = _database(tmp_path)
    _write_pages(engine)
    assert _log_pages(engine) < 1_200


def test_with_the_thread_no_commit_checkpoints_and_the_thread_copies_the_whole_log(
    tmp_path: Path,
) -> None:
    engine = _database(tmp_path)
    checkpointer = _stop(defer_checkpoints(engine, interval_seconds=NEVER))
    _write_pages(engine)
    assert _log_pages(engine) >= PAGES_WRITTEN

    progress = checkpointer.checkpoint()

    assert progress is not None
    assert not progress.blocked
    assert progress.log_pages >= PAGES_WRITTEN
    assert progress.copied_pages == progress.log_pages
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM filler")) == PAGES_WRITTEN


def test_the_requests_still_checkpoint_past_the_fallback_so_the_log_stays_bounded(
    tmp_path: Path,
) -> None:
    engine = _database(tmp_path)
    _stop(defer_checkpoints(engine, interval_seconds=NEVER))
    with engine.connect() as connection:
        threshold = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert threshold == FALLBACK_PAGES


def test_the_thread_checkpoints_on_its_interval_until_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _database(tmp_path)
    ran = threading.Semaphore(0)
    original = WalCheckpointer.checkpoint

    def counted(self: WalCheckpointer) -> wal_checkpoints.Progress | None:
        ran.release()
        return original(self)

    monkeypatch.setattr(WalCheckpointer, "checkpoint", counted)
    checkpointer = defer_checkpoints(engine, interval_seconds=0.01)
    assert checkpointer is not None
    try:
        assert all(ran.acquire(timeout=5) for _ in range(3))
    finally:
        checkpointer.stop()
    assert not checkpointer._thread.is_alive()


def test_a_failed_checkpoint_is_logged_by_its_kind_only_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-directory" / "referral.sqlite3"
    checkpointer = WalCheckpointer(missing, NEVER)

    with caplog.at_level(logging.WARNING, logger=wal_checkpoints.__name__):
        assert checkpointer.checkpoint() is None
        assert checkpointer.checkpoint() is None

    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["SQLite log checkpoint failed: OperationalError"] * 2
    assert not any("no-such-directory" in message for message in messages)


def test_postgresql_and_an_in_memory_database_get_no_thread(database_url: str) -> None:
    assert defer_checkpoints(create_engine("sqlite://")) is None
    if database_url.startswith("postgresql"):
        assert defer_checkpoints(create_engine(database_url)) is None
