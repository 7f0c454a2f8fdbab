"""The access log verified in parallel, between signed checkpoints, says exactly what the
one-pass verifier says: the same first bad entry, the same reason, the same counts.

The log here is committed to a database of its own (worker processes open their own
connections, so they cannot see a test's rolled-back transaction): 65 entries, a checkpoint
every 10, so the parallel verifier cuts six segments ending at entries 10, 20, ... 60 and
verifies 61 to 65 itself. Each test works on a fresh copy of that log.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from audit import stored_log
from audit.actions import Action, Outcome
from audit.chain import ChainEntry, VerificationReport, verify_chain
from audit.checkpoints import (
    CheckpointDirectory,
    checkpoint_to_json,
    load_public_key,
)
from audit.record import Entry, audit_config, current_head, record_many
from config.settings import Settings
from referral import create_app
from referral.actors import Actor
from referral.db.audit_log import AUDIT_TABLES, HASHED_FIELDS
from referral.request_scope import get_database, request_session
from referral.services import audit_integrity
from tests.integration.test_audit_log import with_own_checkpoints
from tests.own_database import own_database

ENTRIES = 65
CHECKPOINT_EVERY = 10
CHECKPOINTED = list(range(CHECKPOINT_EVERY, ENTRIES + 1, CHECKPOINT_EVERY))
# Where tampering lands: the first segment, a middle one, an entry a checkpoint pins (the
# end of a segment), and the last segment (after the last checkpoint, verified in-process).
FIRST_SEGMENT, MIDDLE_SEGMENT, SEGMENT_END, LAST_SEGMENT = 3, 25, 30, 62
POSITIONS = [FIRST_SEGMENT, MIDDLE_SEGMENT, SEGMENT_END, LAST_SEGMENT]


@pytest.fixture(scope="module")
def original(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The log every test copies: committed, checkpointed, with a few values the bulk check
    leaves to the per-entry walker (a quote, a backslash, a newline)."""
    settings = replace(
        with_own_checkpoints(base_settings, tmp_path_factory.mktemp("parallel-log")),
        database_url=own_database(base_settings.database_url, tmp_path_factory, "parallel"),
        audit_checkpoint_every=CHECKPOINT_EVERY,
    )
    app = create_app(settings)
    odd_values = {7: 'said "hello"', 18: "C:\\temp", 41: "two\nlines", 63: "tab\there"}
    with app.app_context():
        session = request_session()
        entries = [
            Entry(
                Action.AUDIT_SEARCH if sequence % 3 else Action.LOGIN,
                Outcome.ALLOWED if sequence % 7 else Outcome.DENIED,
                object_type="test",
                object_id=odd_values.get(sequence, f"object-{sequence}"),
                legal_basis="SoL 11 kap. 1 §" if sequence % 2 else None,
            )
            for sequence in range(1, ENTRIES + 1)
        ]
        record_many(session, Actor.system_actor("parallel-test"), entries)
        session.commit()
        assert current_head(session).sequence == ENTRIES
    _allow_tampering(app)
    get_database(app).engine.dispose()
    signed = CheckpointDirectory(Path(settings.audit_checkpoint_dir)).read_all()
    assert [cp.sequence for cp in signed] == CHECKPOINTED
    return settings


@pytest.fixture
def log_copy(original: Settings, tmp_path: Path) -> Iterator[Flask]:
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(original.audit_checkpoint_dir, checkpoints)
    url = make_url(original.database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        copy = tmp_path / "log.sqlite3"
        shutil.copyfile(url.database, copy)
        copy_url = f"sqlite:///{copy}"
    else:
        copy_url = url.set(database=f"{url.database}_copy").render_as_string(False)
        _copy_postgres_database(original.database_url, copy_url)
    app = create_app(
        replace(original, database_url=copy_url, audit_checkpoint_dir=str(checkpoints))
    )
    try:
        yield app
    finally:
        get_database(app).engine.dispose()


def _copy_postgres_database(source: str, target: str) -> None:
    """CREATE DATABASE ... TEMPLATE: the copy of a committed database, quickly."""
    source_name, target_name = make_url(source).database, make_url(target).database
    admin = create_engine(make_url(source).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target_name}" TEMPLATE "{source_name}"'))
    admin.dispose()


def _allow_tampering(app: Flask) -> None:
    """What someone with the database owner's rights can do: switch the triggers off."""
    with app.app_context():
        session = request_session()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER audit_entries_no_update"))
            session.execute(text("DROP TRIGGER audit_entries_no_delete"))
        session.commit()


def _tamper(app: Flask, *statements: tuple[str, dict[str, Any]]) -> None:
    with app.app_context():
        session = request_session()
        for statement, values in statements:
            session.execute(text(statement), values)
        session.commit()


class CountingWorkers:
    """Counts the segments worker processes answered for."""

    segments = 0


@pytest.fixture
def counting_pool(monkeypatch: pytest.MonkeyPatch) -> type[CountingWorkers]:
    """Counts what the worker process verified, and lets it take the first segment: this
    process, which would otherwise take all of a log this short before the worker has
    started, waits for the worker's first claim before its own."""
    CountingWorkers.segments = 0
    outcomes = stored_log._WorkerProcess.outcomes
    verify_claimed = stored_log._verify_claimed

    def counting_outcomes(self: Any) -> dict[int, VerificationReport | None]:
        answered = outcomes(self)
        CountingWorkers.segments += len(answered)
        return answered

    def after_the_workers_first(*args: Any, from_first: bool) -> Any:
        claims: stored_log.Claims = args[4]
        deadline = time.monotonic() + 30
        while claims.path.read_bytes()[:8] == bytes(8) and time.monotonic() < deadline:
            time.sleep(0.01)  # the first segment is not taken yet
        return verify_claimed(*args, from_first=from_first)

    monkeypatch.setattr(stored_log._WorkerProcess, "outcomes", counting_outcomes)
    monkeypatch.setattr(stored_log, "_verify_claimed", after_the_workers_first)
    return CountingWorkers


def _parallel(app: Flask) -> VerificationReport:
    with app.app_context():
        return audit_integrity.verify_log(request_session(), workers=2, parallel_from=1).report


def _one_pass(app: Flask) -> VerificationReport:
    with app.app_context():
        return audit_integrity.verify_log(request_session(), workers=1).report


def _reference(app: Flask) -> VerificationReport:
    """The chain verifier itself over the rows as the ORM reads them: no bulk check, no
    segments, every entry encoded from its fields."""
    table = AUDIT_TABLES.entries
    columns = [table.c[name] for name in HASHED_FIELDS]
    with app.app_context():
        session = request_session()
        config = audit_config(session)
        head = current_head(session)
        rows = session.execute(
            select(*columns, table.c.entry_hash, table.c.link)
            .where(table.c.sequence <= head.sequence)
            .order_by(table.c.sequence)
        )
        entries = (
            ChainEntry(row[0], dict(zip(HASHED_FIELDS, row, strict=False)), row[-2], row[-1])
            for row in rows
        )
        public_key = load_public_key((config.checkpoint_dir / "public-key.pem").read_bytes())
        return verify_chain(
            entries, config.audit_key, config.readable_checkpoints(), public_key, head=head
        )


def _same_verdict(app: Flask, counting_pool: type[CountingWorkers]) -> VerificationReport:
    parallel = _parallel(app)
    # Two workers: the worker process took the first segment at least, this process the last.
    assert counting_pool.segments >= 1
    assert parallel == _one_pass(app)
    return parallel


def test_an_intact_log_verified_in_parallel_says_what_one_pass_says(
    log_copy: Flask, counting_pool: type[CountingWorkers]
) -> None:
    report = _same_verdict(log_copy, counting_pool)
    assert report.ok, report.reason
    assert report.entries_checked == ENTRIES
    assert report.checkpoints_checked == len(CHECKPOINTED)
    assert report == _reference(log_copy)


@pytest.mark.parametrize("sequence", POSITIONS)
def test_a_changed_entry_is_named_in_any_segment(
    log_copy: Flask, counting_pool: type[CountingWorkers], sequence: int
) -> None:
    _tamper(
        log_copy,
        (
            "UPDATE audit_entries SET actor_name = 'someone-else' WHERE sequence = :s",
            {"s": sequence},
        ),
    )
    report = _same_verdict(log_copy, counting_pool)
    assert report == _reference(log_copy)
    assert not report.ok
    assert report.first_bad_sequence == sequence
    assert report.reason == f"entry {sequence}: content does not match its hash (edited)."
    assert report.entries_checked == sequence - 1


@pytest.mark.parametrize("sequence", POSITIONS)
def test_a_deleted_entry_is_named_in_any_segment(
    log_copy: Flask, counting_pool: type[CountingWorkers], sequence: int
) -> None:
    _tamper(log_copy, ("DELETE FROM audit_entries WHERE sequence = :s", {"s": sequence}))
    report = _same_verdict(log_copy, counting_pool)
    assert report == _reference(log_copy)
    assert report.first_bad_sequence == sequence
    assert report.reason == f"entry {sequence} missing after entry {sequence - 1} (deleted)."


@pytest.mark.parametrize("sequence", POSITIONS)
def test_a_reordered_entry_is_named_in_any_segment(
    log_copy: Flask, counting_pool: type[CountingWorkers], sequence: int
) -> None:
    # Two entries' contents swapped, their sequence numbers kept in order.
    renumber = "UPDATE audit_entries SET sequence = :t WHERE sequence = :s"
    neighbour = sequence + 1
    _tamper(
        log_copy,
        (renumber, {"s": sequence, "t": -1}),
        (renumber, {"s": neighbour, "t": sequence}),
        (renumber, {"s": -1, "t": neighbour}),
    )
    report = _same_verdict(log_copy, counting_pool)
    assert report == _reference(log_copy)
    assert report.first_bad_sequence == sequence


def test_entries_deleted_from_a_middle_segment_to_the_end_are_named(
    log_copy: Flask, counting_pool: type[CountingWorkers]
) -> None:
    _tamper(log_copy, ("DELETE FROM audit_entries WHERE sequence >= :s", {"s": MIDDLE_SEGMENT}))
    report = _same_verdict(log_copy, counting_pool)
    assert report == _reference(log_copy)
    assert report.first_bad_sequence == MIDDLE_SEGMENT
    assert report.reason is not None and "deleted (truncated)" in report.reason


@pytest.mark.parametrize("checkpoint", [CHECKPOINTED[0], CHECKPOINTED[2], CHECKPOINTED[-1]])
def test_a_forged_checkpoint_is_reported_wherever_it_is(
    log_copy: Flask, counting_pool: type[CountingWorkers], checkpoint: int
) -> None:
    with log_copy.app_context():
        directory = CheckpointDirectory(audit_config(request_session()).checkpoint_dir)
    signed = next(cp for cp in directory.read_all() if cp.sequence == checkpoint)
    forged = replace(signed, link=bytes(32))  # another link under the old signature
    path = directory.file_for(checkpoint)
    path.chmod(0o644)
    path.write_bytes(checkpoint_to_json(forged))

    parallel = _parallel(log_copy)

    assert parallel == _one_pass(log_copy) == _reference(log_copy)
    assert parallel.first_bad_sequence == checkpoint
    assert parallel.reason == (
        f"checkpoint {checkpoint}: its signature does not verify (forged or altered)."
    )


def test_a_head_moved_without_the_audit_key_is_reported(
    log_copy: Flask, counting_pool: type[CountingWorkers]
) -> None:
    _tamper(log_copy, ("UPDATE audit_head SET head_mac = :mac", {"mac": bytes(32)}))
    report = _same_verdict(log_copy, counting_pool)
    assert report == _reference(log_copy)
    assert report.reason is not None and "does not carry a valid MAC" in report.reason


def test_a_head_naming_another_link_is_reported(
    log_copy: Flask, counting_pool: type[CountingWorkers]
) -> None:
    _tamper(log_copy, ("UPDATE audit_head SET link = :link", {"link": bytes(32)}))
    report = _same_verdict(log_copy, counting_pool)
    assert report == _reference(log_copy)
    assert report.first_bad_sequence == ENTRIES
    assert report.reason is not None and "head names another link" in report.reason


def test_an_entry_past_the_head_is_reported(
    log_copy: Flask, counting_pool: type[CountingWorkers]
) -> None:
    _tamper(
        log_copy,
        (
            "INSERT INTO audit_entries (sequence, id, occurred_at, action, outcome, "
            "entry_hash, link) VALUES (:s, 'forged-entry', '2026-01-01T00:00:00.000000Z', "
            "'child:read', 'allowed', :h, :l)",
            {"s": ENTRIES + 1, "h": b"\1" * 32, "l": b"\2" * 32},
        ),
    )
    report = _same_verdict(log_copy, counting_pool)
    assert report.first_bad_sequence == ENTRIES + 1
    assert report.reason is not None and "beyond the chain head" in report.reason


def test_a_short_log_is_verified_in_one_pass_without_workers(
    log_copy: Flask, counting_pool: type[CountingWorkers]
) -> None:
    with log_copy.app_context():
        report = audit_integrity.verify_log(request_session(), workers=2).report
    assert report.ok
    assert counting_pool.segments == 0


def test_a_worker_that_cannot_start_leaves_its_segments_to_this_process(
    log_copy: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        stored_log._WorkerProcess,
        "launch",
        classmethod(lambda cls: cls(None, "could not start: no interpreter")),
    )
    in_the_workers_share = 35  # in (30, 40], which the worker would have been free to take
    _tamper(
        log_copy, ("DELETE FROM audit_entries WHERE sequence = :s", {"s": in_the_workers_share})
    )

    report = _parallel(log_copy)

    assert report == _one_pass(log_copy)
    assert report.first_bad_sequence == in_the_workers_share
    assert "worker failed, verifying here: could not start" in caplog.text
