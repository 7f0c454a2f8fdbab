"""Key rotation, re-encryption, retirement and shredding, as an operator runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from audit.actions import Action
from audit.record import record
from config.settings import Settings
from crypto import DecryptionError, LocalKeyring, decrypt_field
from crypto.hazmat import unwrap_dek
from crypto.keys import WrappedKey
from referral import clock, create_app
from referral.db import migrate
from referral.db.audit_log import AuditEntry
from referral.db.data_keys import DataKey
from referral.db.people import Child, PartnerFile
from referral.db.uow import UnitOfWork
from referral.demo import demo_actor
from referral.request_scope import get_database, request_session
from referral.services import children, keys, referrals
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import (
    SYSTEM,
    Factory,
    child_row,
    command_environment,
    invented_personnummer,
    social_worker_actor,
)


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """A keyring of this test's own: rotation changes it."""
    path = tmp_path / "keyring.json"
    LocalKeyring.create(path)
    return replace(base_settings, keyring_path=str(path))


def _register(app: Flask, factory: Factory, names: list[str]) -> list[str]:
    actor = social_worker_actor(factory)
    ids = []
    with app.app_context(), UnitOfWork(request_session()) as uow:
        for number, name in enumerate(names):
            new = children.NewChild(invented_personnummer(2012, 1, 1 + number % 28), name)
            ids.append(children.register_child(uow, actor, new).id)
    return ids


def _names(app: Flask, ids: list[str]) -> list[str]:
    with app.app_context():
        db = request_session()
        return [db.get(Child, i).name for i in ids]  # type: ignore[union-attr]


@pytest.mark.asvs("V11.2.2")
def test_rotation_rewraps_every_key_under_the_new_kek_and_the_old_one_can_retire(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    ids = _register(app, factory, ["Ett", "Två", "Tre"])
    old = get_database(app).cipher.keys.provider.primary()  # type: ignore[union-attr]
    result = runner.invoke(args=["crypto", "rotate"])
    assert result.exit_code == 0, result.output
    assert "3 data keys rewrapped" in result.output or "data keys rewrapped" in result.output
    status_result = runner.invoke(args=["crypto", "status"])
    assert status_result.exception is None, repr(status_result.exception)
    status = status_result.output
    assert f"v{old.version} " in status and "0 live data keys" in status
    retired = runner.invoke(
        args=["crypto", "retire", "--kek-id", old.kek_id, "--version", str(old.version)]
    )
    assert retired.exit_code == 0, retired.output
    assert _names(app, ids) == ["Ett", "Två", "Tre"]


def test_a_kek_version_still_in_use_cannot_be_retired(
    app: Flask, factory: Factory, runner: FlaskCliRunner
) -> None:
    _register(app, factory, ["Fyra"])
    primary = get_database(app).cipher.keys.provider.primary()  # type: ignore[union-attr]
    result = runner.invoke(
        args=["crypto", "retire", "--kek-id", primary.kek_id, "--version", str(primary.version)]
    )
    assert result.exit_code != 0
    assert "rotate" in result.output


@pytest.mark.asvs("V11.2.2")
def test_reencryption_moves_fields_to_a_new_key_and_shreds_the_old(
    app: Flask, factory: Factory
) -> None:
    ids = _register(app, factory, ["Fem", "Sex"])
    with app.app_context():
        db = request_session()
        old_keys = {db.get(Child, i).data_key_id for i in ids}  # type: ignore[union-attr]
        with UnitOfWork(db) as uow:
            assert keys.reencrypt(uow, SYSTEM, datetime.now(UTC)).replaced >= 2
        db.expire_all()
        new_keys = {db.get(Child, i).data_key_id for i in ids}  # type: ignore[union-attr]
        assert old_keys.isdisjoint(new_keys)
        assert all(db.get(DataKey, k).wrapped is None for k in old_keys)  # type: ignore[union-attr]
    assert _names(app, ids) == ["Fem", "Sex"]


@pytest.mark.asvs("V14.2.7")
def test_after_shredding_no_key_in_the_keyring_opens_the_partner_file(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    partner = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, actor, children.NewChild(invented_personnummer(2011, 6, 6), "Sju")
        )
        partner_file = PartnerFile(child_id=child.id, partner_id=partner.id, notes="Anteckning")
        uow.session.add(partner_file)
        uow.commit()
        sealed = partner_file._notes.blob  # type: ignore[attr-defined]
        context = get_database(app).cipher.context(  # type: ignore[union-attr]
            partner_file, PartnerFile.__personal_fields__["notes"], child.id
        )
        keys.shred_partner_file_key(uow, SYSTEM, partner_file)
        store = get_database(app).cipher.keys  # type: ignore[union-attr]
        store.cache.clear()
        live = uow.session.scalars(select(DataKey).where(DataKey.wrapped.is_not(None))).all()
        assert live, "other keys are still there"
        for row in live:
            dek = unwrap_dek(
                store.provider, WrappedKey(row.kek_id, row.kek_version, row.wrapped), row.id
            )  # type: ignore[arg-type]
            with pytest.raises(DecryptionError):
                decrypt_field(sealed, dek, context)
        uow.session.expire_all()
        assert uow.session.get(Child, child.id).name == "Sju"  # type: ignore[union-attr]


KEYS_FOR_KILL_TEST = 1500


@pytest.mark.asvs("V2.3.3")
def test_a_rotation_killed_half_way_loses_nothing_and_resumes(
    base_settings: Settings, tmp_path: Path
) -> None:
    # A database and keyring of its own (SQLite): the killed process commits for real, and
    # its keys must not mix with the other tests' keys.
    keyring = tmp_path / "keyring.json"
    LocalKeyring.create(keyring)
    database_url = f"sqlite:///{tmp_path / 'kill.sqlite3'}"
    migrate.upgrade(database_url)
    settings = replace(base_settings, keyring_path=str(keyring), database_url=database_url)
    app = create_app(settings)  # commits for real: the killed process must see the rows
    district = Factory(app, settings).organisation("district")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        rows = [
            Child(
                district_id=district.id,
                personnummer=invented_personnummer(2012, 1, 1 + n % 28),
                name=f"Barn {n}",
            )
            for n in range(KEYS_FOR_KILL_TEST)
        ]
        uow.session.add_all(rows)
        uow.commit()
        ids = [row.id for row in rows]
    environment = command_environment(settings)
    flask = [sys.executable, "-m", "flask"]
    with subprocess.Popen(
        [*flask, "crypto", "rotate"], env=environment, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("rewrapped: 300/"):
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    provider = LocalKeyring(keyring)
    primary = provider.primary()
    with app.app_context():
        rows = request_session().scalars(select(DataKey).where(DataKey.person_id.in_(ids))).all()
    moved = sum((r.kek_id, r.kek_version) == (primary.kek_id, primary.version) for r in rows)
    assert 300 <= moved < KEYS_FOR_KILL_TEST, "the run was interrupted half way"
    assert _names(app, ids[:5] + ids[-5:]) == [
        f"Barn {n}" for n in [*range(5), *range(KEYS_FOR_KILL_TEST - 5, KEYS_FOR_KILL_TEST)]
    ]

    resumed = subprocess.run(
        [*flask, "crypto", "rewrap"], env=environment, capture_output=True, text=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    with app.app_context():
        rows = request_session().scalars(select(DataKey).where(DataKey.person_id.in_(ids))).all()
        assert {(r.kek_id, r.kek_version) for r in rows} == {(primary.kek_id, primary.version)}
    get_database(app).cipher.keys.cache.clear()  # type: ignore[union-attr]
    assert _names(app, ids) == [f"Barn {n}" for n in range(KEYS_FOR_KILL_TEST)]
    get_database(app).engine.dispose()


def test_reencryption_after_demo_and_reads_leaves_the_log_intact_and_every_record_readable(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo loader writes its credentials under instance/
    with app_in_rolled_back_transaction(replace(settings, demo_mode=True)) as app:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
        with app.app_context(), UnitOfWork(request_session()) as uow:
            referrals.partner_inbox(uow, demo_actor("gruppledare"), clock.today())
            sealed_entries = uow.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.data_key_id.is_not(None))
            )
            before = datetime.now(UTC) + timedelta(seconds=1)
            old_record_keys = set(
                uow.session.scalars(
                    select(DataKey.id).where(
                        DataKey.wrapped.is_not(None), DataKey.holder.not_like("audit:%")
                    )
                )
            )
        assert sealed_entries, "the demo's shares seal their basis in the log"

        result = runner.invoke(
            args=["crypto", "reencrypt", "--before", before.strftime("%Y-%m-%dT%H:%M:%S")]
        )

        assert result.exit_code == 0, result.output
        assert f"{len(old_record_keys)} data keys replaced" in result.output
        verified = runner.invoke(args=["audit", "verify"])
        assert verified.exit_code == 0 and "Intact" in verified.output, verified.output
        with app.app_context():
            db = request_session()
            get_database(app).cipher.keys.cache.clear()  # type: ignore[union-attr]
            assert all(db.get(DataKey, k).wrapped is None for k in old_record_keys)  # type: ignore[union-attr]
            for model in keys.encrypted_models():
                for row in db.scalars(select(model).where(model.data_key_id.is_not(None))):
                    for field in model.__personal_fields__:
                        getattr(row, field)  # raises DecryptionError if anything was lost


def test_purging_a_partner_file_also_shreds_what_the_log_sealed_about_it(
    app: Flask, factory: Factory
) -> None:
    actor = social_worker_actor(factory)
    partner = factory.organisation("partner")
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child = child_row(
            uow,
            children.register_child(
                uow, actor, children.NewChild(invented_personnummer(2011, 7, 7), "Åtta")
            ),
        )
        partner_file = PartnerFile(child_id=child.id, partner_id=partner.id, notes="Anteckning")
        uow.session.add(partner_file)
        uow.session.flush()
        about_the_file = record(
            uow.session,
            actor,
            Action.CHILD_SEARCH,
            subject=partner_file.key_scope(),
            details={"purpose": "Uppföljning"},
        )
        about_the_child = record(
            uow.session,
            actor,
            Action.CHILD_SEARCH,
            subject=child.key_scope(),
            details={"purpose": "Distriktets uppföljning"},
        )
        uow.commit()

        keys.shred_partner_file_key(uow, SYSTEM, partner_file)

        get_database(app).cipher.keys.cache.clear()  # type: ignore[union-attr]
        uow.session.expire_all()
        with pytest.raises(DecryptionError):
            _ = uow.session.get(AuditEntry, about_the_file.sequence).details  # type: ignore[union-attr]
        assert "Distriktets" in uow.session.get(AuditEntry, about_the_child.sequence).details  # type: ignore[union-attr,operator]
        assert uow.session.get(Child, child.id).name == "Åtta"  # type: ignore[union-attr]
