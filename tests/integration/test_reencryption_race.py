"""Re-encryption while a record is being written under the key it replaces (PostgreSQL).

`flask crypto reencrypt` moves every row under an old data key to a new one and then shreds
the old key. A request sealing a new row under that key at the same moment must not lose it:
the re-encryption waits for the writer's commit and moves the row too, or the writer waits
for the re-encryption and seals under the new key. Before the key was locked, the row
committed under the shredded key and could never be read again, with no error anywhere.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config.settings import Settings
from referral.db.data_keys import DataKey
from referral.db.people import Child, Guardian
from referral.db.uow import UnitOfWork
from referral.request_scope import get_database, request_session
from referral.services import children, keys
from tests.factories import SYSTEM, Factory, invented_personnummer, social_worker_actor
from tests.own_database import ROW_LOCKS, only_on_postgres, own_postgres_app

GUARDIAN = "Sen Vårdnadshavare"


@only_on_postgres(ROW_LOCKS)
@pytest.mark.asvs("V11.2.2")
def test_a_guardian_written_while_the_childs_key_is_replaced_is_moved_to_the_new_key(
    base_settings: Settings,
) -> None:
    app = own_postgres_app(base_settings, "reencryption_race")
    factory = Factory(app, base_settings)
    worker = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        child_id = children.register_child(
            uow, worker, children.NewChild(invented_personnummer(2012, 2, 2), "Raceson")
        ).id
    sealed, replaced = threading.Event(), threading.Event()
    written: dict[str, str] = {}

    def write_a_guardian() -> None:
        with app.app_context():
            db = request_session()
            child = db.get(Child, child_id)
            assert child is not None
            guardian = Guardian(
                child_id=child_id,
                district_id=child.district_id,
                name=GUARDIAN,
                contact=None,
                has_custody=True,
            )
            db.add(guardian)
            db.flush()  # sealed under the child's current key, not yet committed
            written["id"] = guardian.id
            sealed.set()
            # The re-encryption starts now; it must not finish before this commit.
            finished_early = replaced.wait(timeout=2)
            written["finished_early"] = str(finished_early)
            db.commit()

    def reencrypt() -> None:
        sealed.wait()
        with app.app_context(), UnitOfWork(request_session()) as uow:
            keys.reencrypt(uow, SYSTEM, datetime.now(UTC) + timedelta(seconds=1))
        replaced.set()

    threads = [threading.Thread(target=write_a_guardian), threading.Thread(target=reencrypt)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a lock was never released"
    assert written["finished_early"] == "False", "the re-encryption did not wait for the writer"
    assert time.monotonic() - started < 60

    get_database(app).cipher.keys.cache.clear()  # read as a fresh worker would
    with app.app_context():
        db = request_session()
        guardian = db.get(Guardian, written["id"])
        assert guardian is not None
        key = db.get(DataKey, guardian.data_key_id)
        assert key is not None and key.live and key.superseded_by is None
        assert guardian.name == GUARDIAN
        live_keys = db.scalars(
            select(DataKey).where(DataKey.person_id == child_id, DataKey.wrapped.is_not(None))
        ).all()
        assert [k.id for k in live_keys] == [key.id], "one live key for the child's record"
    get_database(app).engine.dispose()
