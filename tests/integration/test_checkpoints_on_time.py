"""Checkpoints on time as well as on count, and a second place for them (mirror, syslog)."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from audit.checkpoints import (
    checkpoint_from_json,
    generate_signing_key,
    private_pem,
    public_pem,
    sign_checkpoint,
    verify_checkpoint,
)
from audit.sinks import SyslogSink
from config.settings import Settings
from referral.checkpoint_timer import CheckpointTimer
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import children
from tests.factories import Factory, invented_personnummer, social_worker_actor

FIVE_MINUTES = 300


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    key = tmp_path / "signing-key.pem"
    key.write_bytes(private_pem(generate_signing_key()))
    return replace(
        base_settings,
        audit_checkpoint_dir=str(tmp_path / "checkpoints"),
        audit_signing_key_path=str(key),
        audit_checkpoint_seconds=FIVE_MINUTES,
        audit_checkpoint_mirror=str(tmp_path / "mirror"),
    )


def _write_something(app: Flask, factory: Factory, day: int = 1) -> None:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2013, 4, day), f"Tid {day}")
        )


def _head(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(text("SELECT sequence FROM audit_head")))


def test_a_checkpoint_is_signed_on_time_only_when_entries_were_written_since_the_last(
    app: Flask, factory: Factory, settings: Settings
) -> None:
    timer = CheckpointTimer(app, FIVE_MINUTES)
    now = datetime.now(UTC)
    _write_something(app, factory, day=1)

    first = timer.tick(now)
    assert first is not None and first.sequence == _head(app)

    _write_something(app, factory, day=2)
    assert timer.tick(now + timedelta(seconds=60)) is None, "not yet five minutes"
    second = timer.tick(now + timedelta(minutes=6))
    assert second is not None and second.sequence == _head(app) > first.sequence

    assert timer.tick(now + timedelta(hours=1)) is None, "nothing written since"
    for directory in (settings.audit_checkpoint_dir, settings.audit_checkpoint_mirror):
        names = sorted(p.name for p in Path(directory).glob("*.json"))
        assert names == [f"{first.sequence:020d}.json", f"{second.sequence:020d}.json"]
        assert (Path(directory) / "public-key.pem").exists()


def test_no_checkpoint_is_signed_over_entries_tampered_with_since_the_last(
    app: Flask, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    timer = CheckpointTimer(app, FIVE_MINUTES)
    now = datetime.now(UTC)
    _write_something(app, factory, day=3)
    assert timer.tick(now) is not None
    _write_something(app, factory, day=4)
    with app.app_context():
        db = request_session()
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            db.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.execute(
            text("UPDATE audit_entries SET actor_name = 'someone-else' WHERE sequence = :s"),
            {"s": _head(app)},
        )
        db.commit()

    assert timer.tick(now + timedelta(minutes=10)) is None
    assert "does not verify" in caplog.text


def test_the_timer_runs_in_the_background_and_stops() -> None:
    ticks: list[datetime | None] = []

    class Counting(CheckpointTimer):
        def tick(self, now: datetime | None = None) -> None:  # type: ignore[override]
            ticks.append(now)

    timer = Counting(Flask(__name__), interval_seconds=5)
    timer.start()
    try:
        for _ in range(50):
            if ticks:
                break
            timer._stop.wait(0.1)
    finally:
        timer.stop()
    assert ticks, "the timer asked whether a checkpoint was due"


def test_a_checkpoint_sent_to_syslog_arrives_whole_and_verifies() -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    private = generate_signing_key()
    checkpoint = sign_checkpoint(private, 42, b"\7" * 32, "2026-12-02T10:00:00.000000Z")
    try:
        SyslogSink(receiver.getsockname()).write(checkpoint, public_pem(private))
        message = receiver.recv(65536).decode()
    finally:
        receiver.close()
    assert "referral-audit-checkpoint: " in message
    document = message.split("referral-audit-checkpoint: ", 1)[1].strip().rstrip("\0")
    received = checkpoint_from_json(json.dumps(json.loads(document)).encode())
    assert received == checkpoint
    assert verify_checkpoint(received, private.public_key())
