"""SQLite only: a thread of each server process copies the write-ahead log back into the
database file, so that no request's commit has to.

With `synchronous=NORMAL` a commit only appends to the log. When the log passes SQLite's
threshold (1 000 pages), the connection that committed last runs the checkpoint itself:
it copies the log into the database file and waits for the disk. Measured on the benchmark's
data set, those commits took 15 to 20 ms each against a median of 0.7 ms, inside whichever
request crossed the line: about a fifth of the time of a social worker's list of 50
referrals (whose access-log entries touch a hundred index pages) and the tail of every
writing request's latency.

Here a PASSIVE checkpoint runs every CHECK_SECONDS beside the requests: the sqlite3 module
lets other threads run while SQLite works, and a PASSIVE checkpoint never waits for a reader
or the writer (what it cannot copy yet it copies next time). Durability is unchanged: a
commit is durable once in the log, as before, and the copy is made the same way.

The requests keep an automatic checkpoint of their own at FALLBACK_PAGES, so that the log
stays bounded if this thread falls behind or stops. Tests and the command line, which have
no thread, keep SQLite's default.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine, event

from referral.db.files import sqlite_path

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.25
# Pages (of 4 KiB) a request lets the log grow to before it checkpoints itself after all:
# about 40 MB, many seconds of writing at the benchmark's busiest, far more than
# CHECK_SECONDS' worth.
FALLBACK_PAGES = 10_000


class Progress(NamedTuple):
    """What `PRAGMA wal_checkpoint(PASSIVE)` reports."""

    blocked: bool  # could not run at all (another checkpoint was running)
    log_pages: int  # pages in the log; -1 when the database is not in WAL mode
    copied_pages: int  # of those, pages now in the database file


class WalCheckpointer:
    """Checkpoints one SQLite database's log on a timer, on a connection of its own."""

    def __init__(self, path: Path, interval_seconds: float = CHECK_SECONDS) -> None:
        self.path = path
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="sqlite-wal-checkpoints", daemon=True
        )
        self._connection: sqlite3.Connection | None = None

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def checkpoint(self) -> Progress | None:
        """One PASSIVE checkpoint; never raises (the next one tries again), None on failure."""
        try:
            if self._connection is None:
                # Autocommit, and the thread's own: a checkpoint must not run inside a
                # transaction, and a connection is not shared between threads.
                self._connection = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
            blocked, log_pages, copied = self._connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        except sqlite3.Error as error:
            # The type only: an error's message could name the file, never anything more.
            log.warning("SQLite log checkpoint failed: %s", type(error).__name__)
            self._close()
            return None
        return Progress(bool(blocked), int(log_pages), int(copied))

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval_seconds):
                self.checkpoint()
        finally:
            self._close()


def defer_checkpoints(
    engine: Engine, interval_seconds: float = CHECK_SECONDS
) -> WalCheckpointer | None:
    """For a server process: the requests' connections checkpoint only past FALLBACK_PAGES,
    and a thread checkpoints the log every CHECK_SECONDS. None (and nothing changed) for
    PostgreSQL or an in-memory database."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:
        return None

    @event.listens_for(engine, "connect")
    def _raise_threshold(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")

    # Connections opened before (the start-up's key check) reopen with the new threshold.
    engine.dispose()
    return WalCheckpointer(path, interval_seconds).start()
