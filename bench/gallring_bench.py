"""The purge (gallring, issue 13): `flask gallring run` over N completed participations
(default 10 000), each with a partner's file holding a note, an enrolment in a completed
group of eight, eight attendance marks, and a file returned (signed) to the district.
Target: under 10 s for 10 000 on SQLite and on PostgreSQL; the rate is reported.

Measured as the nightly timer meets them: the run the night after the participations ended
returns their files to social services (timed and reported on its own: `return_seconds`),
and the run when their retention is over purges them (`run_seconds`), finding each file
delivered.

The floor, in the same run and on the same database: plain SQLAlchemy deleting N one-row
plaintext notes, one transaction each (no keys, no audit, no return file), so noise on a
shared machine shows in both and the ratio stays meaningful.

The data is seeded through the models (the sealed fields through the service's own field
cipher, a data key per child and per file), with the clock set 60 days back so that every
participation is due. On PostgreSQL the seed is checkpointed and analysed before the run
(settle_postgres), as a server left alone until a nightly run would have. Reported, not
asserted, except that every unit must be purged once and the access log must verify.

The run commits `--units-per-transaction` units at a time (REFERRAL_GALLRING_UNITS_PER_TRANSACTION,
default 100); `--units-per-transaction 1` measures a commit per unit.

Run: .venv/bin/python bench/gallring_bench.py [--people N] [--database-url URL]
[--units-per-transaction K] (writes bench/results/gallring-<sqlite|postgresql>.json).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from audit_bench import (  # the same database set-up as the access log's benchmark
    build_settings,
    database_kind,
    drop_postgres_database,
    fresh_postgres_database,
    request_scope,
)
from flask import Flask
from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    text,
)

from config import Settings
from referral import clock, create_app, return_signing
from referral.actors import Actor
from referral.db import migrate
from referral.db.groups import Attendance, Enrolment, Group, GroupSession
from referral.db.models import Organisation
from referral.db.people import Child, PartnerFile, PartnerNote
from referral.db.referrals import Referral, ReferralEvent
from referral.db.retention import PurgeRecord
from referral.request_scope import get_database
from referral.services import audit_integrity, gallring

HERE = Path(__file__).resolve().parent
TARGET_SECONDS = 10.0
GROUP_SIZE = 8
SESSIONS = 8
BATCH = 50 * GROUP_SIZE  # whole groups per transaction
SYSTEM = Actor.system_actor("bench-gallring")


def _personnummer(n: int) -> str:
    digits = f"15{(n // 28) % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return f"20{digits}{(10 - total % 10) % 10}"


def seed(app: Flask, people: int) -> float:
    """N completed participations, 60 days ago, through the models and the field cipher."""
    started = time.perf_counter()
    completed_at = clock.now() - timedelta(days=60)
    with request_scope(app) as uow:
        district = Organisation(name="Bänkdistrikt", kind="district")
        partner = Organisation(name="Bänkpartner", kind="partner")
        uow.session.add_all([district, partner])
        uow.commit()
        district_id, partner_id = district.id, partner.id
    for first in range(0, people, BATCH):
        with request_scope(app) as uow:
            db = uow.session
            group: Group | None = None
            sessions: list[GroupSession] = []
            for n in range(first, min(first + BATCH, people)):
                if n % GROUP_SIZE == 0:
                    group = Group(
                        partner_id=partner_id,
                        name=f"Grupp {n // GROUP_SIZE}",
                        format="weekly",
                        start_date=date(2026, 9, 7),
                        min_age=7,
                        max_age=12,
                        status="completed",
                        created_by="bench",
                        completed_at=completed_at,
                    )
                    db.add(group)
                    db.flush()
                    sessions = [
                        GroupSession(
                            group_id=group.id,
                            number=i + 1,
                            day=date(2026, 9, 7) + timedelta(weeks=i),
                            kind="meeting",
                        )
                        for i in range(SESSIONS)
                    ]
                    db.add_all(sessions)
                assert group is not None
                child = Child(district_id=district_id)
                child.personnummer = _personnummer(n)
                child.name = f"Bänkbarn {n}"
                child.gender = "girl" if n % 2 else "boy"
                child.placement_basis = "SoL"
                db.add(child)
                db.flush()
                referral = Referral(
                    child_id=child.id,
                    district_id=district_id,
                    partner_id=partner_id,
                    programme="A",
                    preferred_format="weekly",
                    referred_by="bench",
                    status="completed",
                    completed_at=completed_at,
                )
                db.add(referral)
                db.flush()
                db.add(
                    ReferralEvent(
                        referral_id=referral.id,
                        from_status="participating",
                        to_status="completed",
                        by="bench",
                        at=completed_at,
                    )
                )
                enrolment = Enrolment(
                    group_id=group.id,
                    referral_id=referral.id,
                    enrolled_by="bench",
                    completed_at=completed_at,
                )
                db.add(enrolment)
                db.flush()
                db.add_all(
                    Attendance(
                        session_id=s.id,
                        enrolment_id=enrolment.id,
                        present=(i + n) % 4 != 0,
                        recorded_by="bench",
                    )
                    for i, s in enumerate(sessions)
                )
                partner_file = PartnerFile(
                    child_id=child.id, partner_id=partner_id, referral_id=referral.id
                )
                db.add(partner_file)
                db.flush()
                note = PartnerNote(file_id=partner_file.id, child_id=child.id, written_by="bench")
                note.text = f"Anteckning om deltagandet, barn {n}"
                db.add(note)
            uow.commit()
        print(f"seeded {min(first + BATCH, people)}/{people}", flush=True)
    return time.perf_counter() - started


def settle_postgres(app: Flask) -> None:
    """What a server left alone between the seeding and a nightly run would have done: write
    the seed out (CHECKPOINT) and gather the planner's statistics (ANALYZE, autovacuum's job;
    it may be off on a test server, and a planner with no statistics on tables of thousands
    of rows picks plans for empty ones). Otherwise the run pays for the seed's writes."""
    engine = get_database(app).engine
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("CHECKPOINT"))
        connection.execute(text("ANALYZE"))


def floor(app: Flask, people: int) -> float:
    """Plain SQLAlchemy: N plaintext rows deleted one per transaction, on the same database."""
    url = get_database(app).engine.url
    engine = create_engine(url)
    metadata = MetaData()
    notes = Table(
        "bench_floor_notes",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("text", String(200)),
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(notes), [{"id": f"{n:036d}", "text": f"note {n}"} for n in range(people)]
        )
    started = time.perf_counter()
    for n in range(people):
        with engine.begin() as connection:
            connection.execute(delete(notes).where(notes.c.id == f"{n:036d}"))
    seconds = time.perf_counter() - started
    metadata.drop_all(engine)
    engine.dispose()
    return seconds


def run(
    workdir: Path, database_url: str, kind: str, people: int, units_per_transaction: int
) -> dict[str, object]:
    migrate.upgrade(database_url)
    settings = build_settings(workdir, database_url)
    settings = replace(settings, gallring_units_per_transaction=units_per_transaction)
    key_path = workdir / "return-signing-key.pem"
    return_signing.create_key(key_path)
    settings = replace(settings, return_signing_key_path=str(key_path))
    app = create_app(settings)
    try:
        seeded = seed(app, people)
        print(f"seeded {people} in {seeded:.1f} s", flush=True)
        if kind == "postgresql":
            settle_postgres(app)
        # `flask gallring run` starts in a process of its own: the run gets an application
        # of its own (its own pool and key cache, not the seeding's connections and the keys
        # it cached), and what the seeding left for the garbage collector is not the run's to
        # scan (each full collection during the run walked it: at 10 000, about a quarter of
        # the run).
        get_database(app).engine.dispose()
        app = create_app(settings)
        gc.collect()
        gc.freeze()
        with request_scope(app) as uow:
            started = time.perf_counter()
            plan = gallring.plan(uow, SYSTEM, settings, clock.today())
            plan_seconds = time.perf_counter() - started
        print(f"plan: {plan.due_count} due in {plan_seconds:.2f} s", flush=True)
        key = return_signing.load_key(key_path)
        # The night after the end: every file returned, nothing due yet.
        the_night_after = (clock.now() - timedelta(days=59)).date()
        with request_scope(app) as uow:
            started = time.perf_counter()
            returns = gallring.purge_due(uow, SYSTEM, settings, the_night_after, key)
            return_seconds = time.perf_counter() - started
        print(f"returns: {returns.returned} in {return_seconds:.1f} s", flush=True)
        load_before = os.getloadavg()
        with request_scope(app) as uow:
            started = time.perf_counter()
            result = gallring.purge_due(uow, SYSTEM, settings, clock.today(), key)
            run_seconds = time.perf_counter() - started
        load_after = os.getloadavg()
        print(f"run: {result.purged} purged in {run_seconds:.1f} s", flush=True)
        with request_scope(app) as uow:
            purged = uow.session.scalar(select(func.count()).select_from(PurgeRecord)) or 0
            notes_left = uow.session.scalar(select(func.count()).select_from(PartnerNote)) or 0
            verified = audit_integrity.verify(uow.session)
        floor_seconds = floor(app, people)
        print(f"floor: {people} plain deletes in {floor_seconds:.1f} s", flush=True)
    finally:
        get_database(app).engine.dispose()
    assert purged == people and notes_left == 0, "every unit must be purged once"
    assert returns.returned == people and returns.purged == 0, "returned first, purged later"
    assert result.returned == 0, "the purge finds every file delivered"
    assert verified.ok, "the access log must verify after the purge"
    return {
        "seed_seconds": round(seeded, 1),
        "plan_seconds": round(plan_seconds, 2),
        "units_per_transaction": units_per_transaction,
        "return_seconds": round(return_seconds, 2),
        "returned_per_second": round(people / return_seconds),
        "run_seconds": round(run_seconds, 2),
        "purged_per_second": round(people / run_seconds),
        "floor_seconds": round(floor_seconds, 2),
        "floor_deletes_per_second": round(people / floor_seconds),
        "ratio_to_floor": round(run_seconds / floor_seconds, 1),
        "audit_entries_verified": verified.entries_checked,
        # The machine's 1-minute load average as the run began and ended (other jobs show).
        "load_average": [round(load_before[0], 2), round(load_after[0], 2)],
        "target": {
            "run_seconds": f"< {TARGET_SECONDS}",
            "met": run_seconds < TARGET_SECONDS,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--units-per-transaction", type=int, default=Settings.gallring_units_per_transaction
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        server_url = arguments.database_url or f"sqlite:///{workdir / 'gallring-bench.sqlite3'}"
        kind = database_kind(server_url)
        database_url = fresh_postgres_database(server_url) if kind == "postgresql" else server_url
        try:
            figures = run(
                workdir, database_url, kind, arguments.people, arguments.units_per_transaction
            )
        finally:
            if kind == "postgresql":
                drop_postgres_database(server_url)
    result = {
        "benchmark": "gallring",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "people": arguments.people,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        **figures,
    }
    out = HERE / "results" / f"gallring-{kind}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
