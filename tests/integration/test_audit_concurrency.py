"""Several requests appending at once: the sequence stays gapless and the chain linear, and
automatic checkpoints are signed only for committed entries."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from audit.actions import Action
from audit.checkpoints import CheckpointDirectory
from audit.record import record
from config.settings import Settings
from referral import create_app
from referral.actors import Actor
from referral.db import migrate
from referral.db.audit_log import AuditEntry
from referral.request_scope import get_database, request_session
from referral.services import audit_integrity
from tests.own_database import empty_postgres_database

WRITERS = 4
ENTRIES_EACH = 25


def _own_database(base_settings: Settings, tmp_path: Path) -> Settings:
    url = base_settings.database_url
    if url.startswith("postgresql"):
        url = empty_postgres_database(url, "test_audit_concurrency")
    else:
        url = f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
    migrate.upgrade(url)
    return replace(
        base_settings,
        database_url=url,
        audit_checkpoint_dir=str(tmp_path / "checkpoints"),
        audit_checkpoint_every=10,
    )


def test_concurrent_appends_leave_no_gap_and_verify(
    base_settings: Settings, tmp_path: Path
) -> None:
    settings = _own_database(base_settings, tmp_path)
    app = create_app(settings)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        actor = Actor.system_actor(f"writer-{number}")
        try:
            for _ in range(ENTRIES_EACH):
                with app.app_context():
                    session = request_session()
                    record(session, actor, Action.AUDIT_SEARCH, object_type="test")
                    session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        session = request_session()
        sequences = list(session.scalars(select(AuditEntry.sequence).order_by(AuditEntry.sequence)))
        assert sequences == list(range(1, WRITERS * ENTRIES_EACH + 1))
        report = audit_integrity.verify(session)
    assert report.ok, report.reason
    checkpoints = CheckpointDirectory(settings.audit_checkpoint_dir).read_all()
    assert [c.sequence for c in checkpoints] == list(range(10, WRITERS * ENTRIES_EACH + 1, 10))
    assert report.checkpoints_checked == len(checkpoints)
    get_database(app).engine.dispose()
