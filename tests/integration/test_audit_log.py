"""The access log: every access recorded with the change, tamper-evident, append-only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from audit.actions import Action
from audit.checkpoints import generate_signing_key, private_pem, public_pem
from audit.record import Entry, record_many
from config.settings import Settings
from referral.db.audit_log import AuditEntry
from referral.db.uow import UnitOfWork
from referral.errors import NotPermitted
from referral.policy import Permission
from referral.request_scope import request_session
from referral.services import children, users
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import Factory, invented_personnummer, social_worker_actor


def with_own_checkpoints(base_settings: Settings, folder: Path) -> Settings:
    """The settings with a signing key and a checkpoint folder of their own under `folder`."""
    key = folder / "signing-key.pem"
    private = generate_signing_key()
    key.write_bytes(private_pem(private))
    checkpoints = folder / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / "public-key.pem").write_bytes(public_pem(private))
    return replace(
        base_settings, audit_checkpoint_dir=str(checkpoints), audit_signing_key_path=str(key)
    )


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """Checkpoints of this test's own: its entries are rolled back afterwards."""
    return with_own_checkpoints(base_settings, tmp_path)


def _entries(app: Flask, **where: str) -> list[AuditEntry]:
    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.sequence)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return list(request_session().scalars(query))


def _allow_tampering(app: Flask) -> None:
    """What an attacker with the database owner's rights could do: switch the triggers off
    (inside the test's transaction, which is rolled back)."""
    with app.app_context():
        db = request_session()
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            db.execute(text("DROP TRIGGER audit_entries_no_update"))
            db.execute(text("DROP TRIGGER audit_entries_no_delete"))
        db.commit()


def _some_history(app: Flask, factory: Factory, count: int = 6) -> list[int]:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        for number in range(count):
            children.register_child(
                uow,
                actor,
                children.NewChild(invented_personnummer(2012, 3, 1 + number), f"B{number}"),
            )
    return [e.sequence for e in _entries(app, action="child:create")][-count:]


def test_an_intact_log_verifies_and_the_command_says_so(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    _some_history(app, factory)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Intact" in result.output and "1 checkpoints" in result.output


@pytest.mark.parametrize("tampering", ["edit", "delete", "reorder"])
@pytest.mark.asvs("V16.4.2")
def test_tampering_is_detected_and_the_first_bad_entry_named(
    app: Flask, factory: Factory, runner: FlaskCliRunner, tampering: str
) -> None:
    sequences = _some_history(app, factory)
    victim, neighbour = sequences[2], sequences[3]
    _allow_tampering(app)
    with app.app_context():
        db = request_session()
        if tampering == "edit":
            db.execute(
                text("UPDATE audit_entries SET actor_name = 'someone-else' WHERE sequence = :s"),
                {"s": victim},
            )
        elif tampering == "delete":
            db.execute(text("DELETE FROM audit_entries WHERE sequence = :s"), {"s": victim})
        else:  # swap two entries' contents, keeping the sequence numbers in order
            for sequence, temporary in ((victim, -1), (neighbour, victim), (-1, neighbour)):
                db.execute(
                    text("UPDATE audit_entries SET sequence = :t WHERE sequence = :s"),
                    {"s": sequence, "t": temporary},
                )
        db.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"First bad entry: {victim}" in result.output


@pytest.mark.asvs("V16.4.2")
def test_truncating_the_tail_past_a_checkpoint_is_detected(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    sequences = _some_history(app, factory)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _allow_tampering(app)
    with app.app_context():
        db = request_session()
        db.execute(text("DELETE FROM audit_entries WHERE sequence >= :s"), {"s": sequences[-2]})
        db.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "TAMPERED" in result.output


def test_checkpoints_verify_with_the_public_key_alone(
    app: Flask, factory: Factory, runner: FlaskCliRunner, settings: Settings
) -> None:
    _some_history(app, factory, count=2)
    runner.invoke(args=["audit", "checkpoint"])
    public_key = Path(settings.audit_checkpoint_dir) / "public-key.pem"
    result = runner.invoke(args=["audit", "verify", "--public-key", str(public_key)])
    assert result.exit_code == 0, result.output


@pytest.mark.asvs("V16.4.2")
def test_the_database_refuses_to_change_or_delete_an_entry(app: Flask, factory: Factory) -> None:
    _some_history(app, factory, count=1)
    with app.app_context():
        db = request_session()
        for statement in ("UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"):
            with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
                db.execute(text(statement))


def test_sequence_numbers_have_no_gaps_and_each_entry_links_to_the_last(
    app: Flask, factory: Factory
) -> None:
    _some_history(app, factory)
    entries = _entries(app)
    assert [e.sequence for e in entries] == list(
        range(entries[0].sequence, entries[-1].sequence + 1)
    )


@pytest.mark.asvs("V16.3.2")
def test_a_refusal_is_recorded_even_though_the_request_is_rolled_back(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    with app.app_context():
        before = request_session().scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(NotPermitted), UnitOfWork(request_session()) as uow:
            users.find_user(uow, actor, "anyone", Permission.USER_DISABLE)
        denied = _entries(app, action="access:denied")
    assert denied and denied[-1].actor_id == actor.user_id
    assert denied[-1].outcome == "denied" and denied[-1].object_id == "user:disable"
    with app.app_context():
        assert request_session().scalar(select(func.count()).select_from(AuditEntry)) == before + 1


@pytest.mark.asvs("V16.5.3")
def test_a_read_whose_entry_cannot_be_written_is_refused(app: Flask, factory: Factory) -> None:
    from tests.factories import log_in

    client = app.test_client()
    admin = factory.account("admin")
    log_in(client, admin)
    with app.app_context():
        db = request_session()
        db.execute(text("DELETE FROM audit_head"))  # the log can no longer be appended to
        db.commit()
    response = client.get("/api/v1/users")
    assert response.status_code == 500
    assert admin.username not in response.get_data(as_text=True)


@pytest.mark.asvs("V16.2.5")
def test_details_are_sealed_and_become_unreadable_when_the_persons_key_is_shredded(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    from audit.actions import Action
    from audit.record import record
    from crypto import DecryptionError
    from referral.db.data_keys import DataKey
    from referral.db.people import Child

    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        registered = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2010, 10, 10), "Detaljsson")
        )
        child = uow.session.get(Child, registered.id)
        assert child is not None
        entry = record(
            uow.session,
            actor,
            Action.CHILD_SEARCH,
            subject=child.key_scope(),
            details={"purpose": "Uppföljning av Detaljsson"},
        )
        uow.commit()
        raw = uow.session.execute(
            text("SELECT details FROM audit_entries WHERE sequence = :s"), {"s": entry.sequence}
        ).scalar_one()
        assert b"Detaljsson" not in bytes(raw)
        cipher = uow.session.info["field_cipher"]
        for key in uow.session.scalars(select(DataKey).where(DataKey.person_id == child.id)):
            cipher.keys.shred(key)
        uow.commit()
        uow.session.expire_all()
        with pytest.raises(DecryptionError):
            _ = uow.session.get(AuditEntry, entry.sequence).details  # type: ignore[union-attr]
        assert uow.session.get(Child, child.id) is not None
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def _delete_entries_from(app: Flask, sequence: int) -> None:
    with app.app_context():
        db = request_session()
        db.execute(text("DELETE FROM audit_entries WHERE sequence >= :s"), {"s": sequence})
        db.commit()


def _head_row(app: Flask) -> dict[str, object]:
    with app.app_context():
        row = request_session().execute(text("SELECT sequence, link, head_mac FROM audit_head"))
        return dict(row.one()._mapping)


def _set_head(app: Flask, head: dict[str, object]) -> None:
    with app.app_context():
        db = request_session()
        db.execute(
            text("UPDATE audit_head SET sequence = :sequence, link = :link, head_mac = :head_mac"),
            head,
        )
        db.commit()


def test_deleting_the_newest_entries_after_the_last_checkpoint_is_detected(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    _some_history(app, factory, count=2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    newest = _some_history(app, factory, count=3)
    _allow_tampering(app)
    _delete_entries_from(app, newest[1])

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert "deleted (truncated)" in result.output
    assert f"First bad entry: {newest[1]}" in result.output


def test_moving_the_head_back_to_hide_a_deletion_needs_the_audit_key(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    newest = _some_history(app, factory, count=4)
    _allow_tampering(app)
    _delete_entries_from(app, newest[2])
    with app.app_context():
        last = request_session().execute(
            text("SELECT sequence, link FROM audit_entries ORDER BY sequence DESC LIMIT 1")
        )
        sequence, link = last.one()
    _set_head(app, {"sequence": sequence, "link": link, "head_mac": b"\0" * 32})

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert "does not carry a valid MAC" in result.output


def test_a_forged_entry_beyond_the_head_is_reported_as_tampering_not_a_crash(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    _some_history(app, factory, count=2)
    head = _head_row(app)
    forged = int(head["sequence"]) + 1  # type: ignore[call-overload]
    with app.app_context():
        db = request_session()
        db.execute(
            text(
                "INSERT INTO audit_entries (sequence, id, occurred_at, action, outcome, "
                "entry_hash, link) VALUES (:s, :id, '2026-01-01T00:00:00.000000Z', "
                "'child:read', 'allowed', :h, :l)"
            ),
            {"s": forged, "id": "forged-entry", "h": b"\1" * 32, "l": b"\2" * 32},
        )
        db.commit()

    result = runner.invoke(args=["audit", "verify"])

    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert "beyond the chain head" in result.output
    assert f"First bad entry: {forged}" in result.output


def test_a_rollback_to_an_old_head_with_its_checkpoint_file_deleted_is_caught_by_the_mirror(
    settings: Settings, tmp_path: Path
) -> None:
    # Someone who holds the database and instance/ restores an old copy of the head (a
    # genuine MAC), deletes what came after, and deletes the checkpoint file that covered it.
    mirror = tmp_path / "mirror"
    for with_mirror in (False, True):
        changed = replace(settings, audit_checkpoint_mirror=str(mirror) if with_mirror else "")
        with app_in_rolled_back_transaction(changed) as app:
            runner = app.test_cli_runner()
            local = Factory(app, changed)
            kept = _some_history(app, local, count=2)
            old_head = _head_row(app)
            _some_history(app, local, count=3)
            assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
            _allow_tampering(app)
            _delete_entries_from(app, kept[-1] + 1)
            _set_head(app, old_head)
            for signed in Path(changed.audit_checkpoint_dir).glob("*.json"):
                signed.unlink()

            result = runner.invoke(args=["audit", "verify", "--public-key", str(_public(changed))])

            if with_mirror:
                assert result.exit_code == 1, result.output
                assert "deleted (truncated)" in result.output
            else:
                assert result.exit_code == 0, "without a mirror this is the documented limit"
    assert list(mirror.glob("*.json")), "the mirror kept its copy"


def _public(settings: Settings) -> Path:
    return Path(settings.audit_checkpoint_dir) / "public-key.pem"


def test_entries_appended_together_are_numbered_in_order_chained_and_verify(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    _some_history(app, factory, count=1)
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        before = uow.session.scalar(select(func.max(AuditEntry.sequence))) or 0
        recorded = record_many(
            uow.session,
            actor,
            [Entry(Action.GALLRING_PURGE, object_type="batch", object_id=str(n)) for n in range(5)],
        )
        uow.commit()
    assert [r.sequence for r in recorded] == list(range(before + 1, before + 6))
    stored = _entries(app, object_type="batch")
    assert [e.object_id for e in stored] == ["0", "1", "2", "3", "4"]
    assert [e.link for e in stored] == [r.link for r in recorded]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert record_many(request_session(), actor, []) == []  # nothing to append: no change
