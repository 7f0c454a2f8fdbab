"""Concurrency (issue 19, Reliability): twenty enrolments at once into a group with three places
left; two processes appending to the access log at once; a partner reading while the
district withdraws the consent its access rests on.

Each test has a database of its own (the threads and processes commit for real). The
enrolments need PostgreSQL's row locks and are skipped on SQLite, which lets one writer in at
a time; the access log and the withdrawal are claims of both databases and run on both.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from audit.actions import Action
from audit.checkpoints import CheckpointDirectory
from audit.record import record
from config.settings import Settings
from referral import clock, create_app
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.errors import Conflict
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import audit_integrity, children, groups
from referral.services.groups import enrolment as enrolment_service
from tests.factories import (
    ApiClient,
    Factory,
    api_client,
    invented_personnummer,
    placed_under_sol_with_consent,
    referred,
)
from tests.integration.test_groups import TODAY, _accepted, _fill, _group, _slow, _world
from tests.own_database import ROW_LOCKS, only_on_postgres, own_database


@pytest.fixture(scope="module")
def own_app(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database of this module's own (a SQLite file, or a PostgreSQL database)."""
    url = own_database(base_settings.database_url, tmp_path_factory, "concurrency")
    app = create_app(replace(base_settings, database_url=url))
    yield app
    get_database(app).engine.dispose()


# --- twenty enrolments, three places ------------------------------------------------------------

PLACES_LEFT = 3
CONTENDERS = 20


@only_on_postgres(ROW_LOCKS)
@pytest.mark.asvs("V2.3.4")
def test_twenty_enrolments_at_once_into_the_last_three_places_place_exactly_three(
    own_app: Flask, base_settings: Settings
) -> None:
    """OWASP ASVS 5.0 2.3.4: a limited resource (a group's eight places) cannot be
    double-booked, however many leaders press at the same moment."""
    world = _world(Factory(own_app, base_settings))
    with own_app.app_context(), UnitOfWork(request_session()) as uow:
        group = _group(uow, world)
        _fill(uow, world, group, 8 - PLACES_LEFT)
        group_id = group.group_id
        contenders = [_accepted(uow, world).id for _ in range(CONTENDERS)]
    start = threading.Barrier(CONTENDERS)
    refusals: dict[str, Exception] = {}
    placed: list[str] = []

    def enrol(referral_id: str) -> None:
        try:
            with own_app.app_context(), UnitOfWork(request_session()) as uow:
                start.wait()
                groups.enrol(uow, world.leader, group_id, referral_id, TODAY)
                placed.append(referral_id)
        except Exception as error:  # a refusal is the expected outcome for all but three
            refusals[referral_id] = error

    with pytest.MonkeyPatch.context() as patch:
        # The room check answers late, so that every enrolment is inside it at once unless
        # the group's row lock makes them wait their turn.
        patch.setattr(
            enrolment_service, "group_has_room", _slow(enrolment_service.group_has_room, 0.1)
        )
        threads = [threading.Thread(target=enrol, args=(r,)) for r in contenders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(placed) == PLACES_LEFT
    assert len(refusals) == CONTENDERS - PLACES_LEFT
    assert all(isinstance(e, Conflict) and "at most 8" in e.message for e in refusals.values())
    with own_app.app_context(), UnitOfWork(request_session()) as uow:
        roster = groups.group_roster(uow, world.leader, group_id, TODAY)
        statuses = {
            r.id: r.status
            for r in uow.session.scalars(select(Referral).where(Referral.id.in_(contenders)))
        }
    assert len(roster.children) == 8
    assert sorted(r for r, status in statuses.items() if status == "placed") == sorted(placed)


# --- two processes appending to the access log ---------------------------------------------------

ENTRIES_EACH = 100
CHECKPOINT_EVERY = 10
BETWEEN_REQUESTS_S = 0.005


def _append(settings: Settings, writer: str, start: Barrier) -> None:
    """In a process of its own: ENTRIES_EACH entries, one transaction each, as requests do.

    Requests arrive a moment apart; the pause between entries models that. Without it, on
    SQLite, whichever writer holds the lock takes it again at once and again, while the other
    sleeps in SQLite's busy handler (which keeps no queue), so the two can run one after the
    other and the test would not show them writing at once.
    """
    app = create_app(settings)
    actor = Actor.system_actor(writer)
    start.wait()
    for _ in range(ENTRIES_EACH):
        with app.app_context():
            session = request_session()
            record(session, actor, Action.AUDIT_SEARCH, object_type="test")
            session.commit()
        time.sleep(BETWEEN_REQUESTS_S)
    get_database(app).engine.dispose()


@pytest.mark.asvs("V16.4.2")
def test_two_processes_appending_at_once_leave_one_gapless_chain_that_verifies(
    own_app: Flask, tmp_path: Path
) -> None:
    """OWASP ASVS 5.0 16.4.2: entries appended by two server processes at the same moment form
    one chain, numbered without a gap, with a signed checkpoint every ten entries."""
    settings = replace(
        own_app.config["REFERRAL_SETTINGS"],
        audit_checkpoint_dir=str(tmp_path / "checkpoints"),
        audit_checkpoint_every=CHECKPOINT_EVERY,
    )
    with own_app.app_context():
        head = request_session().scalar(select(func.max(AuditEntry.sequence))) or 0
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as gunicorn's workers
    start = spawn.Barrier(2)
    writers = [
        spawn.Process(target=_append, args=(settings, f"writer-{n}", start)) for n in range(2)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0]

    app = create_app(settings)
    with app.app_context():
        session = request_session()
        rows = session.execute(
            select(AuditEntry.sequence, AuditEntry.actor_name)
            .where(AuditEntry.sequence > head)
            .order_by(AuditEntry.sequence)
        ).all()
        report = audit_integrity.verify(session)
    get_database(app).engine.dispose()
    names = [name for _sequence, name in rows]
    assert [sequence for sequence, _name in rows] == list(
        range(head + 1, head + 2 * ENTRIES_EACH + 1)
    )
    assert names.count("system:writer-0") == names.count("system:writer-1") == ENTRIES_EACH
    # The two really wrote at once: their entries alternate somewhere in the log.
    assert sum(a != b for a, b in itertools.pairwise(names)) > 1
    assert report.ok, report.reason
    checkpoints = CheckpointDirectory(settings.audit_checkpoint_dir).read_all()
    assert [c.sequence for c in checkpoints] == [
        s for s, _name in rows if s % CHECKPOINT_EVERY == 0
    ]
    assert report.checkpoints_checked == len(checkpoints)


# --- withdrawal while the partner reads ----------------------------------------------------------

READERS = 4
READS_BEFORE = 3  # per reader, showing the child, before the withdrawal is sent
READING_AFTER_SECONDS = 1.0
DESCRIPTION = "A-2026:19"


@dataclass(frozen=True)
class Read:
    started: float  # time.monotonic() when the request was sent
    ended: float
    status: int
    shows_the_child: bool


@pytest.mark.asvs("V8.2.2")
def test_no_partner_read_started_after_a_withdrawal_committed_shows_the_child(
    own_app: Flask, base_settings: Settings
) -> None:
    """OWASP ASVS 5.0 15.4.2 (the check of access and the read it allows are one operation)
    and 8.2.2: a group leader's inbox, read over and over by four connections at once, stops
    showing the child from the moment the guardian's withdrawal is committed."""
    factory = Factory(own_app, base_settings)
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker_account = factory.account("social_worker", district)
    worker = Actor(
        worker_account.user.id,
        worker_account.username,
        district.id,
        frozenset({Role.SOCIAL_WORKER}),
    )
    name = "Återkallad Qwylbergsdotter"
    today = clock.today()
    with own_app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(
            uow, worker, children.NewChild(invented_personnummer(2015, 4, 4), name)
        )
        guardian = placed_under_sol_with_consent(
            uow,
            worker,
            child.id,
            on=today,
            until=today + timedelta(days=365),
            description=DESCRIPTION,
        )
        referral_id = referred(uow, worker, child.id, partner.id, on=today)
    social_worker = api_client(own_app, worker_account)
    leaders = [
        api_client(own_app, factory.account("group_leader", partner)) for _ in range(READERS)
    ]
    reads: list[Read] = []
    stop = threading.Event()

    def keep_reading(leader: ApiClient) -> None:
        while not stop.is_set():
            started = time.monotonic()
            answer = leader.get("/api/v1/partner/referrals")
            body = answer.get_data(as_text=True)
            shows = name in body or referral_id in body
            reads.append(Read(started, time.monotonic(), answer.status_code, shows))

    threads = [threading.Thread(target=keep_reading, args=(leader,)) for leader in leaders]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while sum(r.shows_the_child for r in reads) < READERS * READS_BEFORE:
        assert time.monotonic() < deadline, reads
        time.sleep(0.01)
    sent = time.monotonic()
    withdrawn = social_worker.post(
        f"/api/v1/children/{child.id}/consents",
        {
            "party": guardian,
            "decision": "withdrawn",
            "categories": [],
            "decided_on": today.isoformat(),
            "valid_until": today.isoformat(),
            "method": "written",
            "description_version": DESCRIPTION,
        },
    )
    committed = time.monotonic()  # the answer comes after the commit
    time.sleep(READING_AFTER_SECONDS)
    stop.set()
    for thread in threads:
        thread.join()

    assert withdrawn.status_code == 201, withdrawn.get_data(as_text=True)
    assert {r.status for r in reads} == {200}
    before = [r for r in reads if r.ended < sent]
    after = [r for r in reads if r.started > committed]
    assert before and all(r.shows_the_child for r in before)
    assert len(after) >= READERS
    assert [r for r in after if r.shows_the_child] == []
