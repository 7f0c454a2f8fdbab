"""Two social workers registering the same child at the same moment leave one record: the
district's registrations are serialised (a row lock on the district's organisation row), so
the second sees the first and is told which record it is.

The blind index has 16 bits, so no unique index can refuse the duplicate; the lock is what
holds. SQLite has one writer at a time, so this race exists on PostgreSQL only."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from config.settings import Settings
from referral import create_app
from referral.db import migrate
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.errors import Conflict
from referral.request_scope import get_database, request_session
from referral.services import children
from tests.factories import Factory, invented_personnummer, social_worker_actor


def _own_postgres_app(base_settings: Settings) -> Flask:
    """An app on a database of its own: two threads need two real, committing connections,
    which the rolled-back transaction of the other tests cannot give."""
    from tests.integration.test_canary_scan import _fresh_postgres_database

    url = _fresh_postgres_database(base_settings.database_url, "test_c_duplicates")
    migrate.upgrade(url)
    return create_app(replace(base_settings, database_url=url))


def _late(check: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """The duplicate check, answered late: without the lock both would find nothing."""

    def answer(*args: Any) -> Any:
        found = check(*args)
        threading.Event().wait(seconds)
        return found

    return answer


@pytest.mark.postgres_only
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite serialises all writers",
)
def test_two_social_workers_registering_the_same_child_at_once_leave_one_record(
    base_settings: Settings,
) -> None:
    app = _own_postgres_app(base_settings)
    factory = Factory(app, base_settings)
    district = factory.organisation("district")
    workers = [social_worker_actor(factory, district), social_worker_actor(factory, district)]
    personnummer = invented_personnummer(2014, 5, 6)
    start = threading.Barrier(2)
    outcomes: list[Child | Exception] = []

    def register(worker: Any, typed: str) -> None:
        try:
            with app.app_context(), UnitOfWork(request_session()) as uow:
                start.wait()
                child = children.register_child(uow, worker, children.NewChild(typed, "Barn"))
                outcomes.append(child)
        except Exception as error:  # the loser's refusal is the expected outcome
            outcomes.append(error)

    typings = [personnummer, f"{personnummer[2:8]}-{personnummer[8:]}"]  # one person, two ways
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(children, "_existing_record", _late(children._existing_record, 0.5))
        threads = [
            threading.Thread(target=register, args=pair)
            for pair in zip(workers, typings, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with app.app_context():
        ids = list(
            request_session().scalars(select(Child.id).where(Child.district_id == district.id))
        )
        total = request_session().scalar(select(func.count()).select_from(Child))
    get_database(app).engine.dispose()
    refusals = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert isinstance(refusals[0], Conflict) and refusals[0].field == "personnummer"
    assert ids[0] in refusals[0].message and personnummer[2:8] not in refusals[0].message
    assert len(ids) == 1 and total == 1
