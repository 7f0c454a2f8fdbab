"""The access log's figures (audit issue), measured on a log of N entries (default 1 000 000):

1. appending an entry adds at most 2 ms to a request at the median;
2. `flask audit verify` checks at least 300 000 entries per second on the machine (two cores:
   segments between signed checkpoints in worker processes, one per core); the one-process
   rate is measured beside it;
3. searching the log by person (subject id) or by actor answers in under 200 ms.

The log is populated directly (SQLAlchemy Core, batches of 10 000) with entries whose hash
and link are computed exactly as audit.record.record() computes them, so the chain verifies,
and a checkpoint is signed every 1 000 entries as the service does by default. The figures are
reported, not asserted, except that verification must say the chain is intact. The machine
may be shared: the load average is recorded with each verification, and the CPU time it took
(this process and its workers), and on a local PostgreSQL server the CPU time of the server
process serving this process's own connection (a worker's connection is served by another).

Run: .venv/bin/python bench/audit_bench.py [--quick] [--entries N] [--database-url URL]
(writes bench/results/audit-<sqlite|postgresql>.json). A PostgreSQL URL names the server:
a fresh database `bench_audit_log` is created on it and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from audit.actions import Action, Outcome
from audit.canonical import entry_hash
from audit.chain import GENESIS_LINK, VerificationReport, head_mac, next_link
from audit.checkpoints import (
    CheckpointDirectory,
    generate_signing_key,
    load_private_key,
    private_pem,
    public_pem,
    sign_checkpoint,
)
from audit.record import AuditConfig, record, timestamp
from audit.stored_log import available_cores
from config.settings import Environment, Settings
from crypto import LocalKeyring
from referral import create_app
from referral.actors import Actor
from referral.db import migrate
from referral.db.audit_log import AUDIT_TABLES, HASHED_FIELDS, AuditEntry, AuditHead
from referral.db.uow import UnitOfWork
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import audit_integrity, audit_search

HERE = Path(__file__).resolve().parent
BENCH_DATABASE = "bench_audit"  # the purge's benchmark makes its database with this module
# This benchmark's own: it drops it (FORCE) first, so it must not be one another run uses.
LOG_BENCH_DATABASE = "bench_audit_log"
BATCH = 10_000
ACTORS = 200
SUBJECTS = 20_000
ORGANISATIONS = 30
APPEND_WARMUP = 100
APPEND_ITERATIONS = 2000
SEARCH_WARMUP = 5
SEARCH_REPETITIONS = 50
ABSENT_ACTOR_REPETITIONS = 10
SECONDS_BETWEEN_ENTRIES = 20
CHECKPOINT_EVERY = Settings.audit_checkpoint_every  # as the service signs them by default
ROUTINE_APPENDS = 1000  # written between a verification and the routine run after it
VERIFY_REPETITIONS = 3

TARGET_APPEND_MS = 2.0
TARGET_VERIFY_PER_SECOND = 300_000
TARGET_SEARCH_MS = 200.0

# Actions about a person (they carry a subject) and the rest.
SUBJECT_ACTIONS = (
    Action.CHILD_CREATE,
    Action.CHILD_SEARCH,
    Action.PLACEMENT_RECORD,
    Action.GUARDIAN_CREATE,
    Action.CONSENT_RECORD,
    Action.CONSENT_WITHDRAW,
)
OTHER_ACTIONS = (
    Action.LOGIN,
    Action.MFA_VERIFIED,
    Action.LOGOUT,
    Action.USER_LIST,
    Action.AUDIT_SEARCH,
)
OBJECT_TYPES = {
    Action.CHILD_CREATE: "child",
    Action.CHILD_SEARCH: "child",
    Action.PLACEMENT_RECORD: "placement",
    Action.GUARDIAN_CREATE: "guardian",
    Action.CONSENT_RECORD: "consent",
    Action.CONSENT_WITHDRAW: "consent",
    Action.LOGIN: "session",
    Action.MFA_VERIFIED: "session",
    Action.LOGOUT: "session",
    Action.USER_LIST: "user",
    Action.AUDIT_SEARCH: "audit_log",
}
LEGAL_BASES = ("SoL 11 kap. 1 §", "SoL 6 kap. 6 §", "OSL 26 kap. 1 §")


@dataclass(frozen=True)
class BenchActor:
    user_id: str
    username: str
    organisation_id: str
    roles: str


@dataclass(frozen=True)
class Population:
    entries: int
    actors: list[BenchActor]
    subjects: list[str]  # those with at least one entry
    seconds: float
    compute_seconds: float
    insert_seconds: float


def new_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------------------------
# Database and application


def database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise SystemExit(f"unsupported database: {backend}")
    return backend


def fresh_postgres_database(server_url: str, name: str = BENCH_DATABASE) -> str:
    """Create an empty database `name` on the server of `server_url` and return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, name: str = BENCH_DATABASE) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


def build_settings(workdir: Path, database_url: str) -> Settings:
    keyring = workdir / "keyring.json"
    LocalKeyring.create(keyring)
    signing_key = workdir / "audit-signing-key.pem"
    private = generate_signing_key()
    signing_key.write_bytes(private_pem(private))
    signing_key.chmod(0o600)
    checkpoints = workdir / "audit-checkpoints"
    checkpoints.mkdir()
    (checkpoints / "public-key.pem").write_bytes(public_pem(private))
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=secrets.token_urlsafe(48),
        mfa_key=secrets.token_urlsafe(48),
        blind_index_key=secrets.token_urlsafe(48),
        audit_key=secrets.token_urlsafe(48),
        keyring_path=str(keyring),
        audit_checkpoint_dir=str(checkpoints),
        audit_signing_key_path=str(signing_key),
        audit_checkpoint_every=0,
    )


@contextmanager
def request_scope(app: Flask) -> Iterator[UnitOfWork]:
    """One 'request': an app context with its own session, as the web layer has."""
    with app.app_context(), UnitOfWork(request_session()) as uow:
        yield uow


# ---------------------------------------------------------------------------------------------
# Populating the log


def make_actors(rng: random.Random) -> list[BenchActor]:
    organisations = [new_id() for _ in range(ORGANISATIONS)]
    role_sets = [
        Role.SOCIAL_WORKER.value,
        Role.SOCIAL_WORKER.value,
        Role.SOCIAL_WORKER.value,
        Role.GROUP_LEADER.value,
        Role.LINK_WORKER.value,
        ",".join(sorted((Role.ADMIN.value, Role.SOCIAL_WORKER.value))),
        Role.DPO.value,
    ]
    return [
        BenchActor(
            user_id=new_id(),
            username=f"handlaggare-{number:03d}-{secrets.token_hex(2)}",
            organisation_id=rng.choice(organisations),
            roles=rng.choice(role_sets),
        )
        for number in range(ACTORS)
    ]


def populate(app: Flask, entries: int, rng: random.Random) -> Population:
    """Append `entries` entries from sequence 1 with a valid chain, then move the head."""
    database = get_database(app)
    audit = database.audit
    assert audit is not None
    audit_key = audit.audit_key
    actors = make_actors(rng)
    subjects = [new_id() for _ in range(SUBJECTS)]
    districts = [new_id() for _ in range(ORGANISATIONS)]
    holder_of = {subject: f"district:{rng.choice(districts)}" for subject in subjects}
    table = AUDIT_TABLES.entries
    first_moment = datetime.now(UTC) - timedelta(seconds=entries * SECONDS_BETWEEN_ENTRIES + 3600)
    used_subjects: set[str] = set()
    checkpoint_links: dict[int, bytes] = {}
    previous = GENESIS_LINK
    compute_seconds = insert_seconds = 0.0
    started = time.perf_counter()
    for batch_start in range(1, entries + 1, BATCH):
        computing = time.perf_counter()
        rows: list[dict[str, object]] = []
        for sequence in range(batch_start, min(batch_start + BATCH, entries + 1)):
            moment = first_moment + timedelta(
                seconds=sequence * SECONDS_BETWEEN_ENTRIES,
                microseconds=rng.randrange(1_000_000),
            )
            fields = entry_fields(sequence, timestamp(moment), rng, actors, subjects, holder_of)
            if fields["subject_id"] is not None:
                used_subjects.add(str(fields["subject_id"]))
            digest = entry_hash(fields)
            link = next_link(audit_key, previous, digest)
            previous = link
            if sequence % CHECKPOINT_EVERY == 0:
                checkpoint_links[sequence] = link
            rows.append(
                {**fields, "id": new_id(), "entry_hash": digest, "link": link, "data_key_id": None}
            )
        inserting = time.perf_counter()
        compute_seconds += inserting - computing
        with database.engine.begin() as connection:
            connection.execute(insert(table), rows)
        insert_seconds += time.perf_counter() - inserting
    with database.engine.begin() as connection:
        connection.execute(
            update(AuditHead)
            .where(AuditHead.id == 1)
            .values(
                sequence=entries,
                link=previous,
                head_mac=head_mac(audit_key, entries, previous),
            )
        )
    sign_checkpoints(audit, checkpoint_links, first_moment)
    seconds = time.perf_counter() - started
    return Population(
        entries, actors, sorted(used_subjects), seconds, compute_seconds, insert_seconds
    )


def sign_checkpoints(audit: AuditConfig, links: dict[int, bytes], moment: datetime) -> None:
    """The signed checkpoints the service would have written while the log grew."""
    private = load_private_key(audit.signing_key_path.read_bytes())
    directory = CheckpointDirectory(audit.checkpoint_dir)
    for sequence, link in sorted(links.items()):
        signed_at = (moment + timedelta(seconds=sequence * SECONDS_BETWEEN_ENTRIES)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        directory.write(sign_checkpoint(private, sequence, link, signed_at))


def entry_fields(
    sequence: int,
    occurred_at: str,
    rng: random.Random,
    actors: list[BenchActor],
    subjects: list[str],
    holder_of: dict[str, str],
) -> dict[str, object]:
    """The hashed fields of one entry, as record() would fill them (no details)."""
    draw = rng.random()
    actor: BenchActor | None = rng.choice(actors)
    subject: str | None = None
    legal_basis: str | None = None
    outcome = Outcome.ALLOWED
    if draw < 0.70:
        action = rng.choice(SUBJECT_ACTIONS)
        subject = rng.choice(subjects)
        legal_basis = rng.choice(LEGAL_BASES)
        if draw < 0.005:
            action, outcome = Action.ACCESS_DENIED, Outcome.DENIED
    elif draw < 0.96:
        action = rng.choice(OTHER_ACTIONS)
    else:
        # A failed login: no actor, only where the request came from.
        action, outcome, actor = Action.LOGIN_FAILED, Outcome.DENIED, None
    object_type = OBJECT_TYPES.get(action, "permission" if subject else "session")
    fields: dict[str, object] = {
        "sequence": sequence,
        "occurred_at": occurred_at,
        "actor_id": actor.user_id if actor else None,
        "actor_name": actor.username if actor else None,
        "actor_organisation_id": actor.organisation_id if actor else None,
        "actor_roles": actor.roles if actor else None,
        "action": action.value,
        "outcome": outcome.value,
        "object_type": object_type,
        "object_id": subject,
        "subject_id": subject,
        "subject_holder": holder_of[subject] if subject else None,
        "legal_basis": legal_basis,
        "request_id": new_id(),
        "client_address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        "details": None,
    }
    assert tuple(fields) == HASHED_FIELDS
    return fields


def analyse_postgres(app: Flask) -> None:
    """What autovacuum does to a table this size soon after a bulk load."""
    engine = get_database(app).engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE audit_entries"))
        connection.execute(text("VACUUM ANALYZE audit_head"))


# ---------------------------------------------------------------------------------------------
# Measurements


def summary_ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1e3, 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1e3, 3),
        "max_ms": round(ordered[-1] * 1e3, 3),
        "samples": len(ordered),
    }


@dataclass(frozen=True)
class AppendFigures:
    transaction_with_trivial_query: dict[str, float]
    same_plus_one_audit_record: dict[str, float]
    median_delta_ms: float
    median_of_paired_deltas_ms: float
    iterations: int = APPEND_ITERATIONS
    warmup: int = APPEND_WARMUP


def measure_append(app: Flask) -> AppendFigures:
    """A transaction with a trivial query, with and without one record() before commit.

    The two kinds alternate so that drift (caches, autovacuum, disk) hits both alike."""
    actor = Actor.system_actor("bench")
    plain: list[float] = []
    audited: list[float] = []
    with app.app_context():
        session = request_session()
        for number in range(APPEND_WARMUP + APPEND_ITERATIONS):
            for with_entry in (False, True):
                started = time.perf_counter()
                with UnitOfWork(session) as uow:
                    uow.session.execute(text("SELECT 1")).one()
                    if with_entry:
                        record(uow.session, actor, Action.AUDIT_SEARCH, object_type="bench")
                    uow.commit()
                elapsed = time.perf_counter() - started
                if number >= APPEND_WARMUP:
                    (audited if with_entry else plain).append(elapsed)
    base, with_log = summary_ms(plain), summary_ms(audited)
    deltas = [a - p for a, p in zip(audited, plain, strict=True)]
    return AppendFigures(
        transaction_with_trivial_query=base,
        same_plus_one_audit_record=with_log,
        median_delta_ms=round(with_log["median_ms"] - base["median_ms"], 3),
        median_of_paired_deltas_ms=round(statistics.median(deltas) * 1e3, 3),
    )


@dataclass(frozen=True)
class VerifyRun:
    ok: bool
    entries_checked: int
    checkpoints_checked: int
    workers: int
    seconds: float
    entries_per_second: int
    cpu_seconds: float  # this process and its worker processes (not a database server)
    cpu_microseconds_per_entry: float
    # The PostgreSQL server process that serves this process's own connection (a local
    # server whose /proc entry is readable; a worker's connection is served by another).
    server_cpu_seconds_own_connection: float | None
    load_average_before: float
    load_average_after: float


def best_verify(app: Flask, workers: int) -> tuple[VerifyRun, list[int]]:
    """The fastest of VERIFY_REPETITIONS runs (the machine may be shared: the others are
    slowed by someone else's work, not by the verifier), and every run's rate."""
    runs = [measure_verify(app, workers) for _ in range(VERIFY_REPETITIONS)]
    return max(runs, key=lambda run: run.entries_per_second), [
        run.entries_per_second for run in runs
    ]


def measure_verify(app: Flask, workers: int) -> VerifyRun:
    """`flask audit verify`'s work (audit_integrity.verify_log), with `workers` processes
    (1: everything in this process)."""
    load_before = os.getloadavg()[0]
    with app.app_context():
        session = request_session()
        server_cpu = _server_cpu_reader(session)
        server_started = server_cpu()
        cpu_started = _cpu_seconds()
        started = time.perf_counter()
        report: VerificationReport = audit_integrity.verify_log(session, workers=workers).report
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_started
        server_ended = server_cpu()
        session.rollback()
    if not report.ok:
        raise SystemExit(
            f"verification FAILED at entry {report.first_bad_sequence}: {report.reason}"
        )
    return VerifyRun(
        ok=report.ok,
        entries_checked=report.entries_checked,
        checkpoints_checked=report.checkpoints_checked,
        workers=workers,
        seconds=round(seconds, 3),
        entries_per_second=round(report.entries_checked / seconds),
        cpu_seconds=round(cpu, 3),
        cpu_microseconds_per_entry=round(cpu * 1e6 / report.entries_checked, 2),
        server_cpu_seconds_own_connection=(
            round(server_ended - server_started, 3)
            if server_started is not None and server_ended is not None
            else None
        ),
        load_average_before=round(load_before, 2),
        load_average_after=round(os.getloadavg()[0], 2),
    )


@dataclass(frozen=True)
class RoutineRun:
    """`flask audit verify --since-last-verified` after a recorded verification and
    `appended` new entries."""

    appended: int
    first_checked: int
    entries_checked: int
    seconds: float


def measure_routine_verify(app: Flask, appended: int) -> RoutineRun:
    actor = Actor.system_actor("bench")
    with request_scope(app) as uow:
        full = audit_integrity.verify_and_record_log(uow, actor)
    if not full.report.ok:
        raise SystemExit(f"verification FAILED: {full.report.reason}")
    with request_scope(app) as uow:
        for _ in range(appended):
            record(uow.session, actor, Action.AUDIT_SEARCH, object_type="bench")
        uow.commit()
    with request_scope(app) as uow:
        started = time.perf_counter()
        routine = audit_integrity.verify_log(uow.session, since_last_verified=True)
        seconds = time.perf_counter() - started
    if not routine.report.ok:
        raise SystemExit(f"routine verification FAILED: {routine.report.reason}")
    return RoutineRun(
        appended=appended,
        first_checked=routine.first_checked,
        entries_checked=routine.report.entries_checked,
        seconds=round(seconds, 3),
    )


def _server_cpu_reader(session: Session) -> Callable[[], float | None]:
    """User and system time of the PostgreSQL process serving `session`'s connection, read
    from /proc (None on SQLite, or when the server is not local or not readable)."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: None
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    stat = Path(f"/proc/{pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            # After the command in parentheses: state is field 3, utime and stime 14 and 15.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def _cpu_seconds() -> float:
    """User and system time of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def search_series(
    app: Flask,
    actor: Actor,
    make: Callable[[int], audit_search.AuditFilter],
    warmup: int,
    repetitions: int,
    expect_rows: bool,
) -> dict[str, float]:
    samples: list[float] = []
    for number in range(warmup + repetitions):
        criteria = make(number)
        with request_scope(app) as uow:
            started = time.perf_counter()
            page = audit_search.search(uow, actor, criteria)
            elapsed = time.perf_counter() - started
        if expect_rows and not page.entries:
            raise SystemExit(f"search found nothing for {criteria}: the population is wrong")
        if number >= warmup:
            samples.append(elapsed)
    return summary_ms(samples)


def query_plan(app: Flask, criteria: audit_search.AuditFilter, kind: str) -> list[str]:
    """How the database answers search()'s query (for explaining the figures)."""
    query = (
        criteria.apply(select(AuditEntry))
        .order_by(AuditEntry.sequence.desc())
        .limit(audit_search.PAGE_SIZE + 1)
    )
    with app.app_context():
        session = request_session()
        dialect = session.get_bind().dialect
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        rows = session.execute(text(prefix + sql)).all()
        session.rollback()
    if kind == "sqlite":
        return [str(row[-1]) for row in rows]
    return [str(row[0]) for row in rows]


def measure_search(
    app: Flask, population: Population, rng: random.Random
) -> tuple[dict[str, dict[str, float]], dict[str, audit_search.AuditFilter]]:
    """Search latencies, and one filter of each kind for showing the query plans."""
    dpo = Actor.system_actor("bench")
    total = SEARCH_WARMUP + SEARCH_REPETITIONS
    subjects = rng.sample(population.subjects, total)
    actors = rng.sample(population.actors, min(total, len(population.actors)))

    def by_subject(number: int) -> audit_search.AuditFilter:
        return audit_search.AuditFilter(subjects=(subjects[number],))

    def by_actor(number: int) -> audit_search.AuditFilter:
        return audit_search.AuditFilter(actor=actors[number % len(actors)].username)

    def by_absent_actor(_number: int) -> audit_search.AuditFilter:
        return audit_search.AuditFilter(actor=f"nobody-{secrets.token_hex(4)}")

    figures = {
        "by_person": search_series(
            app, dpo, by_subject, SEARCH_WARMUP, SEARCH_REPETITIONS, expect_rows=True
        ),
        "by_actor_name": search_series(
            app, dpo, by_actor, SEARCH_WARMUP, SEARCH_REPETITIONS, expect_rows=True
        ),
        # Not one of the figures: an actor with no entries (a name mistyped, or a
        # user who never touched anything) is the worst case of the same query.
        "by_actor_without_entries": search_series(
            app, dpo, by_absent_actor, 1, ABSENT_ACTOR_REPETITIONS, expect_rows=False
        ),
    }
    examples = {
        "by_person": by_subject(0),
        "by_actor_name": by_actor(0),
        "by_actor_without_entries": by_absent_actor(0),
    }
    return figures, examples


# ---------------------------------------------------------------------------------------------


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default: SQLite in a temporary directory); for PostgreSQL, the "
        f"server on which a fresh database {LOG_BENCH_DATABASE!r} is made",
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100 000 entries (a smoke run)")
    return parser.parse_args()


def run(workdir: Path, database_url: str, kind: str, entries: int) -> dict[str, object]:
    migrate.upgrade(database_url)
    settings = build_settings(workdir, database_url)
    app = create_app(settings)
    rng = random.Random(20261123)  # noqa: S311 - test data, not secrets
    try:
        population = populate(app, entries, rng)
        print(f"populated {entries} entries in {population.seconds:.1f} s", flush=True)
        if kind == "postgresql":
            analyse_postgres(app)
        cores = available_cores()
        verify_first, first_rates = best_verify(app, cores)
        print(f"verified: {verify_first}", flush=True)
        verify_one_process, one_process_rates = best_verify(app, 1)
        print(f"verified in one process: {verify_one_process}", flush=True)
        append = measure_append(app)
        print(f"append: median delta {append.median_delta_ms} ms", flush=True)
        search, examples = measure_search(app, population, rng)
        plans = {name: query_plan(app, criteria, kind) for name, criteria in examples.items()}
        print(f"search: {search}", flush=True)
        # Again after record() has appended to the populated chain: the chain must still hold.
        verify_again, again_rates = best_verify(app, cores)
        print(f"verified again: {verify_again}", flush=True)
        routine = measure_routine_verify(app, ROUTINE_APPENDS)
        print(f"routine run: {routine}", flush=True)
    finally:
        get_database(app).engine.dispose()

    verify_rate = max(verify_first.entries_per_second, verify_again.entries_per_second)
    search_figures = {name: search[name] for name in ("by_person", "by_actor_name")}
    append_delta = append.median_delta_ms
    return {
        "population": {
            "seconds": round(population.seconds, 1),
            "compute_hash_and_link_seconds": round(population.compute_seconds, 1),
            "insert_seconds": round(population.insert_seconds, 1),
            "entries_per_second": round(entries / population.seconds),
            "distinct_actors": len(population.actors),
            "distinct_subjects": len(population.subjects),
            "share_with_subject": 0.70,
            "batch": BATCH,
        },
        "append": asdict(append),
        "verify": {
            "after_populate": asdict(verify_first),
            "one_process": asdict(verify_one_process),
            "after_appends_and_searches": asdict(verify_again),
            "entries_per_second_of_each_run": {
                "after_populate": first_rates,
                "one_process": one_process_rates,
                "after_appends_and_searches": again_rates,
            },
            "since_last_verified": asdict(routine),
            "checkpoint_every": CHECKPOINT_EVERY,
            "note": "audit_integrity.verify_log(session): segments between signed checkpoints "
            "shared between this process and one new interpreter per further core (each with "
            "its own connection), the last segment in this process; one_process is the same "
            "code with workers=1. The "
            "database server, if any, runs on the same cores. Each figure is the fastest of "
            f"{VERIFY_REPETITIONS} runs (all rates listed); cpu_microseconds_per_entry = "
            "cpu_seconds / entries_checked (the verifier's processes); "
            "server_cpu_seconds_own_connection: the PostgreSQL server process serving this "
            "process's connection only (with workers=1, all of the server's share).",
        },
        "search": {**search, "plans": plans},
        "targets": {
            "append_median_ms": {
                "target": f"<= {TARGET_APPEND_MS}",
                "measured": append_delta,
                "met": append_delta <= TARGET_APPEND_MS,
            },
            "verify_entries_per_second": {
                "target": f">= {TARGET_VERIFY_PER_SECOND} on {available_cores()} cores",
                "measured": verify_rate,
                "met": verify_rate >= TARGET_VERIFY_PER_SECOND,
            },
            **{
                f"search_{name}_ms": {
                    "target": f"< {TARGET_SEARCH_MS} (judged on p95; median also shown)",
                    "measured_median": figures["median_ms"],
                    "measured_p95": figures["p95_ms"],
                    "met": figures["p95_ms"] < TARGET_SEARCH_MS,
                    "median_met": figures["median_ms"] < TARGET_SEARCH_MS,
                }
                for name, figures in search_figures.items()
            },
        },
    }


def main() -> None:
    arguments = parse_arguments()
    entries = 100_000 if arguments.quick else arguments.entries
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        server_url = arguments.database_url or f"sqlite:///{workdir / 'audit-bench.sqlite3'}"
        kind = database_kind(server_url)
        database_url = (
            fresh_postgres_database(server_url, LOG_BENCH_DATABASE)
            if kind == "postgresql"
            else server_url
        )
        try:
            figures = run(workdir, database_url, kind, entries)
        finally:
            if kind == "postgresql":
                drop_postgres_database(server_url, LOG_BENCH_DATABASE)
    result = {
        "benchmark": "audit-log",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "entries": entries,
        "quick": arguments.quick,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        **figures,
    }
    out = HERE / "results" / f"audit-{kind}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
