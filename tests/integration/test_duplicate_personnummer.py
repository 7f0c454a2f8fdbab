"""Two social workers registering the same child at the same moment leave one record: the
district's registrations are serialised (a row lock on the district's organisation row), so
the second sees the first and is told which record it is.

The blind index has 16 bits, so no unique index can refuse the duplicate; the lock is what
holds. SQLite has one writer at a time, so this race exists on PostgreSQL only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from referral.db.people import Child
from referral.db.uow import UnitOfWork
from referral.errors import Conflict
from referral.request_scope import get_database, request_session
from referral.services import children
from tests.factories import Factory, invented_personnummer, social_worker_actor
from tests.own_database import ROW_LOCKS, only_on_postgres, own_postgres_app


def _late(check: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    """The duplicate check, answered late: without the lock both would find nothing."""

    def answer(*args: Any) -> Any:
        found = check(*args)
        threading.Event().wait(seconds)
        return found

    return answer


@only_on_postgres(ROW_LOCKS)
def test_two_social_workers_registering_the_same_child_at_once_leave_one_record(
    base_settings: Settings,
) -> None:
    app = own_postgres_app(base_settings, "duplicates")
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
        patch.setattr(children, "_records_of", _late(children._records_of, 0.5))
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
