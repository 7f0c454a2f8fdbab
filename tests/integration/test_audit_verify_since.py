"""`flask audit verify --since-last-verified`: a routine run checks what came after the last
successful verification, from a signed checkpoint, and says where it began."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text

from audit.actions import Action
from audit.checkpoints import CheckpointDirectory
from audit.record import current_head
from config.settings import Settings
from referral.db.audit_log import AuditEntry
from referral.request_scope import request_session
from referral.services import audit_integrity
from tests.factories import Factory
from tests.integration.test_audit_log import (
    _allow_tampering,
    _some_history,
    with_own_checkpoints,
)

ROUTINE = ["audit", "verify", "--since-last-verified"]


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """Checkpoints of this test's own: its entries are rolled back afterwards."""
    return with_own_checkpoints(base_settings, tmp_path)


def _checkpoint(runner: FlaskCliRunner, settings: Settings) -> int:
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    latest = CheckpointDirectory(settings.audit_checkpoint_dir).latest()
    assert latest is not None
    return latest.sequence


def _head(app: Flask) -> int:
    with app.app_context():
        return current_head(request_session()).sequence


def _edit(app: Flask, sequence: int) -> None:
    with app.app_context():
        db = request_session()
        db.execute(
            text("UPDATE audit_entries SET actor_name = 'someone-else' WHERE sequence = :s"),
            {"s": sequence},
        )
        db.commit()


def _checked_from(output: str) -> int:
    found = re.search(r"Checked from entry (\d+)", output)
    assert found, output
    return int(found.group(1))


def test_without_an_earlier_verification_the_whole_log_is_checked(
    app: Flask, factory: Factory, runner: FlaskCliRunner, settings: Settings
) -> None:
    _some_history(app, factory, count=3)
    _checkpoint(runner, settings)

    result = runner.invoke(args=ROUTINE)

    assert result.exit_code == 0, result.output
    assert "No earlier successful verification: checked the whole log from entry 1." in (
        result.output
    )
    assert f"Intact: {_head(app) - 1} entries" in result.output  # its own entry came after


def test_a_routine_run_starts_after_the_checkpoint_the_last_verification_reached(
    app: Flask, factory: Factory, runner: FlaskCliRunner, settings: Settings
) -> None:
    _some_history(app, factory, count=3)
    signed = _checkpoint(runner, settings)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    _some_history(app, factory, count=3)
    _checkpoint(runner, settings)
    head = _head(app)

    result = runner.invoke(args=ROUTINE)

    assert result.exit_code == 0, result.output
    assert _checked_from(result.output) == signed + 1
    assert f"Intact: {head - signed} entries" in result.output


def test_a_change_after_the_last_verification_is_caught_by_a_routine_run(
    app: Flask, factory: Factory, runner: FlaskCliRunner, settings: Settings
) -> None:
    _some_history(app, factory, count=3)
    signed = _checkpoint(runner, settings)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    newer = _some_history(app, factory, count=3)
    _checkpoint(runner, settings)
    _allow_tampering(app)
    _edit(app, newer[1])

    result = runner.invoke(args=ROUTINE)

    assert result.exit_code == 1
    assert _checked_from(result.output) == signed + 1
    assert f"First bad entry: {newer[1]}" in result.output


def test_a_change_before_the_starting_checkpoint_is_left_to_a_full_run(
    app: Flask, factory: Factory, runner: FlaskCliRunner, settings: Settings
) -> None:
    older = _some_history(app, factory, count=3)
    _checkpoint(runner, settings)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    _allow_tampering(app)
    _edit(app, older[0])

    routine = runner.invoke(args=ROUTINE)
    full = runner.invoke(args=["audit", "verify"])

    assert routine.exit_code == 0, "a routine run checks only what came after"
    assert _checked_from(routine.output) > older[0]
    assert full.exit_code == 1
    assert f"First bad entry: {older[0]}" in full.output


def test_an_entry_forged_into_a_verification_to_skip_an_edit_is_itself_caught(
    app: Flask, factory: Factory, runner: FlaskCliRunner, settings: Settings
) -> None:
    _some_history(app, factory, count=3)
    _checkpoint(runner, settings)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    edited = _some_history(app, factory, count=3)[0]
    later_checkpoint = _checkpoint(runner, settings)
    forged = _some_history(app, factory, count=2)[-1]
    _allow_tampering(app)
    _edit(app, edited)
    # To hide the edit, a later entry is made to say a verification reached just before it.
    with app.app_context():
        db = request_session()
        db.execute(
            text(
                "UPDATE audit_entries SET action = :action, outcome = 'allowed', "
                "object_type = 'audit_log', object_id = :claim WHERE sequence = :s"
            ),
            {"action": Action.AUDIT_VERIFY.value, "claim": f"1-{forged - 1}", "s": forged},
        )
        db.commit()

    result = runner.invoke(args=ROUTINE)

    assert _checked_from(result.output) == later_checkpoint + 1  # past the edit...
    assert result.exit_code == 1
    assert f"First bad entry: {forged}" in result.output  # ...but not past the forgery


def test_a_verification_is_kept_in_the_log_with_the_range_it_found_intact(
    app: Flask, factory: Factory, runner: FlaskCliRunner, settings: Settings
) -> None:
    _some_history(app, factory, count=2)
    head = _head(app)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        session = request_session()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == Action.AUDIT_VERIFY.value)
        ).one()
        assert entry.object_id == f"1-{head}"
        assert audit_integrity.last_verified_sequence(session, head + 1) == head
