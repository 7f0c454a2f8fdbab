"""Programme C's whole allocation run (issue 14): `run_allocation` end to end on a morning
of 2 000 registrations for 300 places in three shelters, against the pure `allocate` on the
same inputs (the floor: what bench/nights_fairness.py measures, 32-59 ms there).

The run loads the morning's registrations joined with the people (each person's gender is
sealed under that person's own data key), their nights of the last 30 days, their exclusions
and the shelters' places; calls `allocate`; stores the run (inputs and result sealed) and one
night_places row per placement per night; and writes the access log (an entry for the run and
one per registrant). The seeded database, all through the models: 2 000 people, each gender
sealed by the field cipher under the person's own key (a quarter women, a tenth "other"), one
in twenty excluded from one shelter; the 30 days before (22 registration days, each with its
registrations from the three quarters of the people who have come before, an allocation run,
and that run's 300 places for each night it covers, one in twenty a no-show); and the morning
measured, a Wednesday, with all 2 000 registered (one in 200 with an override).

Measured in the same run, on the same database:
  whole run       `run_allocation` with a cold data-key cache, as `flask nights allocate`
                  runs it from the timer in a fresh process (registering reads no sealed
                  field, so a web worker's cache is cold for these keys too);
  phases          the functions it calls, timed by wrappers for that run (no profiler): the
                  gender reads (and the data-key fetches within them), histories, exclusions,
                  places, `allocate`, the JSON stored, the access log, flushes, commit; the
                  rest (the join loaded, the values built) is what remains;
  allocate        the pure function inside that run, and again on the same inputs, repeated
                  (the median is the floor);
  profile         a second morning (the Thursday after, the same 2 000 registering) run under
                  cProfile: the top 10 functions by cumulative time, what run_allocation and
                  the access log's record_many call directly, and the SQL statements sent;
  gender reads    the evidence for the largest phase, outside the run: every registrant's
                  gender read with the key cache cold (one SELECT of a data key per person, as
                  in the run), warm, and cold after the key store's `load_many` (4 queries).
Reported, not asserted, except that the run must register all 2 000, place 300, and verify
(`verify_run`: the stored inputs rerun to the stored result).

What it showed (6 runs on SQLite, 4 on PostgreSQL; a shared 2-CPU machine, load 3-5): the whole
run takes 1.6-2.4 s on SQLite and 2.7-3.3 s on PostgreSQL, 25-65 times the pure allocation
(35-105 ms, itself noisy here). Over half of it is reading the genders, and nearly all of that
is fetching the data keys one at a time: 2 000 SELECTs of data_keys (`KeyStore.by_id` through
`Session.get`, 47-59 % of the run), not the unwraps (0.15-0.21 s for 2 000 under the profiler)
nor the decryption. Warm, the reads take 0.08-0.19 s; with the keys fetched in four queries
first, 0.17-0.46 s. Next come the join loaded as ORM rows (0.3-0.6 s with the rest) and the
access log's 2 001 entries (0.16-0.46 s in three statements: on PostgreSQL the insert is most
of it, the hashing under 0.1 s). The service is not changed here.

Run: .venv/bin/python bench/nights_run_bench.py [--people N] [--database-url URL]
(writes bench/results/nights-run-<sqlite|postgresql>.json). A PostgreSQL URL names the
server: a fresh database `bench_nights_run` is made on it and dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import audit_bench
from audit_bench import (  # the same database set-up as the access log's benchmark
    build_settings,
    database_kind,
    drop_postgres_database,
    fresh_postgres_database,
    request_scope,
)
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from config import Settings
from referral import card_numbers, create_app
from referral.actors import Actor
from referral.db import migrate
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.nights import (
    AllocationRun,
    Exclusion,
    NightPerson,
    NightPlace,
    NightRegistration,
    OverrideKind,
    PlaceStatus,
    RegistrationDay,
    Shelter,
)
from referral.db.uow import UnitOfWork
from referral.night_allocation import (
    ALGORITHM_VERSION,
    AllocationInputs,
    AllocationResult,
    allocate,
    inputs_digest,
    inputs_from_json,
)
from referral.night_calendar import is_registration_day, nights_covered
from referral.request_scope import get_database
from referral.roles import Role
from referral.services.nights import allocation, capacity
from referral.services.nights.registration import day_record, window_of

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Not audit_bench's `bench_audit`: the purge's and the log's benchmarks drop that one (FORCE)
# when they start, and another engineer may be running one of them on the same server.
BENCH_DATABASE = "bench_nights_run"

DAY = date(2027, 2, 17)  # a Wednesday in winter: one night, the busiest season
PROFILED_DAY = date(2027, 2, 18)  # the Thursday after: the profiled run
HISTORY_DAYS = 30
HISTORY_SHARE = 0.75  # who has come before; the rest are new this month
HISTORY_REGISTRANTS = 1500  # registrations on each earlier morning
NO_SHOW_SHARE = 0.05
EXCLUDED_SHARE = 0.05
OVERRIDE_CHANCE = 0.005
GENDERS = (("woman", 0.25), ("man", 0.65), ("other", 0.10))
# (name, places, reserved for women, reserved for men): 300 places, 50 for women, 10 for men.
SHELTERS = (
    ("Bänkhärbärget Norr", 120, 30, 0),
    ("Bänkhärbärget Söder", 100, 20, 10),
    ("Bänkhärbärget Väst", 80, 0, 0),
)
PLACES = sum(places for _name, places, _women, _men in SHELTERS)
SHELTERS_OPEN = date(2026, 11, 1)
BATCH = 500
ALLOCATE_REPEATS = 21
KEY_READ_REPEATS = 3
TOP_LINES = 10


class _Cards:
    """card_numbers' random source, drawn from a seeded generator (a repeatable population)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.issued: set[str] = set()

    def randbelow(self, exclusive_upper_bound: int, /) -> int:
        return self.rng.randrange(exclusive_upper_bound)

    def new(self) -> str:
        while (number := card_numbers.new_card_number(self)) in self.issued:
            pass
        self.issued.add(number)
        return number


@dataclass(frozen=True)
class Population:
    person_ids: list[str]
    gender_of: dict[str, str]
    shelter_ids: list[str]
    coordinator: Actor
    history_runs: int
    history_places: int
    history_registrations: int
    excluded: int
    seconds: float


# ---------------------------------------------------------------------------------------------
# Seeding, through the models


def _genders(rng: random.Random, people: int) -> list[str]:
    names = [name for name, _share in GENDERS]
    weights = [share for _name, share in GENDERS]
    return rng.choices(names, weights, k=people)


def _seed_people(
    app: Flask, people: int, rng: random.Random, shelter_ids: list[str]
) -> tuple[list[str], dict[str, str], int]:
    """The people, each with a card and a gender sealed under their own key; one in twenty
    excluded from one shelter over the measured mornings (the reason sealed likewise)."""
    cards = _Cards(rng)
    genders = _genders(rng, people)
    person_ids: list[str] = []
    gender_of: dict[str, str] = {}
    excluded = 0
    for first in range(0, people, BATCH):
        with request_scope(app) as uow:
            batch = []
            for n in range(first, min(first + BATCH, people)):
                person = NightPerson(card_number=cards.new(), issued_by="bench")
                person.gender = genders[n]
                batch.append(person)
            uow.session.add_all(batch)
            uow.session.flush()
            for person in batch:
                if rng.random() < EXCLUDED_SHARE:
                    exclusion = Exclusion(
                        shelter_id=rng.choice(shelter_ids),
                        person_id=person.id,
                        starts_on=DAY - timedelta(days=10),
                        expires_on=DAY + timedelta(days=20),
                        set_by="bench",
                    )
                    exclusion.reason = "Bänk: hot mot personalen"
                    uow.session.add(exclusion)
                    excluded += 1
            uow.commit()
            for person, gender in zip(batch, genders[first:], strict=False):
                person_ids.append(person.id)
                gender_of[person.id] = gender
        print(f"seeded {min(first + BATCH, people)}/{people} people", flush=True)
    return person_ids, gender_of, excluded


def _fill(
    registrants: list[str], gender_of: dict[str, str], shelter_ids: list[str]
) -> list[tuple[str, str, str]]:
    """An earlier morning's places: (person, shelter, kind) for the first registrants that
    fit, a reserved place for their gender first, as the allocation gives them."""
    free = {
        (shelter_id, kind): count
        for shelter_id, (_name, places, women, men) in zip(shelter_ids, SHELTERS, strict=True)
        for kind, count in (("women", women), ("men", men), ("unreserved", places - women - men))
    }
    given = []
    for person_id in registrants:
        reserved = {"woman": "women", "man": "men"}.get(gender_of[person_id])
        for kind in (reserved, "unreserved") if reserved else ("unreserved",):
            slot = next((key for key in free if key[1] == kind and free[key] > 0), None)
            if slot is not None:
                free[slot] -= 1
                given.append((person_id, slot[0], kind))
                break
        if len(given) == PLACES:
            break
    return given


def _seed_history(
    app: Flask,
    person_ids: list[str],
    gender_of: dict[str, str],
    shelter_ids: list[str],
    rng: random.Random,
) -> tuple[int, int, int]:
    """The 30 days before the measured morning: each registration day with its registrations
    and an allocation run, and the run's places for every night it covers (in the order of a
    random draw, without the ranking: enough for the histories the ranking reads)."""
    regulars = person_ids[: int(len(person_ids) * HISTORY_SHARE)]
    mornings = [
        DAY - timedelta(days=back)
        for back in range(HISTORY_DAYS, 0, -1)
        if is_registration_day(DAY - timedelta(days=back))
    ]
    runs = places = registrations = 0
    for morning in mornings:
        nights = nights_covered(morning)
        registrants = rng.sample(regulars, min(HISTORY_REGISTRANTS, len(regulars)))
        given = _fill(registrants, gender_of, shelter_ids)
        with request_scope(app) as uow:
            day = day_record(uow, morning)
            day.revealed_seed = day.seed
            day.allocated_at = datetime.combine(morning, datetime.min.time(), UTC) + timedelta(
                hours=10
            )
            uow.session.add_all(
                NightRegistration(day_id=day.id, person_id=person_id, registered_by="bench")
                for person_id in registrants
            )
            assert day.seed is not None
            the_run = AllocationRun(
                day_id=day.id,
                day=morning,
                algorithm_version=ALGORITHM_VERSION,
                inputs_digest="0" * 64,  # the history's runs: their places, not their inputs
                seed=day.seed,
                seed_commitment=day.commitment,
                registered=len(registrants),
                placed=len(given),
                turned_away=len(registrants) - len(given),
                ran_by="bench",
            )
            uow.session.add(the_run)
            uow.session.flush()
            uow.session.add_all(
                NightPlace(
                    run_id=the_run.id,
                    person_id=person_id,
                    shelter_id=shelter_id,
                    night=night,
                    place_kind=kind,
                    status=(
                        PlaceStatus.NO_SHOW.value
                        if rng.random() < NO_SHOW_SHARE
                        else PlaceStatus.CHECKED_IN.value
                    ),
                )
                for person_id, shelter_id, kind in given
                for night in nights
            )
            uow.commit()
        runs += 1
        places += len(given) * len(nights)
        registrations += len(registrants)
    print(f"seeded {runs} earlier mornings: {places} places", flush=True)
    return runs, places, registrations


def _register(app: Flask, day: date, person_ids: list[str], rng: random.Random) -> None:
    """Everyone registers on `day`, in a random order; one in 200 with an override."""
    order = list(person_ids)
    rng.shuffle(order)
    with request_scope(app) as uow:
        registration_day = day_record(uow, day)
        for person_id in order:
            registration = NightRegistration(
                day_id=registration_day.id, person_id=person_id, registered_by="bench"
            )
            if rng.random() < OVERRIDE_CHANCE:
                registration.override_kind = OverrideKind.DANGER_TO_LIFE.value
                registration.override_reason = "Bänk: sover ute i minus 15 grader"
                registration.override_by = "bench"
            uow.session.add(registration)
        uow.commit()


def seed(app: Flask, people: int, rng: random.Random) -> Population:
    started = time.perf_counter()
    with request_scope(app) as uow:
        partner = Organisation(name="Bänkpartnerskapet natt", kind="partner")
        city = Organisation(name="Bänkstaden socialförvaltning", kind="city")
        uow.session.add_all([partner, city])
        uow.session.flush()
        shelters = [
            Shelter(
                organisation_id=partner.id,
                name=name,
                places=places,
                reserved_for_women=women,
                reserved_for_men=men,
                opens_on=SHELTERS_OPEN,
                created_by="bench",
            )
            for name, places, women, men in SHELTERS
        ]
        uow.session.add_all(shelters)
        uow.commit()
        shelter_ids = [s.id for s in shelters]
        coordinator = Actor(
            user_id="bench-coordinator",
            username="bench-koordinator",
            organisation_id=city.id,
            roles=frozenset({Role.NIGHT_COORDINATOR}),
        )
    person_ids, gender_of, excluded = _seed_people(app, people, rng, shelter_ids)
    runs, places, registrations = _seed_history(app, person_ids, gender_of, shelter_ids, rng)
    _register(app, DAY, person_ids, rng)
    print(f"registered {people} for {DAY.isoformat()}", flush=True)
    return Population(
        person_ids,
        gender_of,
        shelter_ids,
        coordinator,
        runs,
        places,
        registrations,
        excluded,
        time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------
# Measurement


@contextmanager
def allocate_timed() -> Iterator[list[tuple[AllocationInputs, bytes, float]]]:
    """Time the pure allocation inside the run: the service's `allocate`, wrapped for the
    call (the service is not changed; the wrapper costs a function call)."""
    calls: list[tuple[AllocationInputs, bytes, float]] = []
    original = allocate  # the function the service module imported

    def timed(inputs: AllocationInputs, seed_bytes: bytes) -> AllocationResult:
        started = time.perf_counter()
        result = original(inputs, seed_bytes)
        calls.append((inputs, seed_bytes, time.perf_counter() - started))
        return result

    assert getattr(allocation, "allocate") is original  # noqa: B009 - not exported
    setattr(allocation, "allocate", timed)  # noqa: B010
    try:
        yield calls
    finally:
        setattr(allocation, "allocate", original)  # noqa: B010


@contextmanager
def statements_counted(engine: Engine) -> Iterator[Counter[str]]:
    """The SQL statements sent while inside, by verb and first table (an executemany is one)."""
    counts: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counts[_statement_kind(statement)] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statement_kind(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper() if words else "?"
    table = ""
    if verb == "SELECT":
        found = re.search(r"\bFROM\s+([\w.\"]+)", statement, re.IGNORECASE)
        table = found.group(1) if found else ""
    elif verb in {"INSERT", "DELETE"} and len(words) > 2:
        table = words[2]
    elif verb == "UPDATE" and len(words) > 1:
        table = words[1]
    return f"{verb} {table}".strip()


@contextmanager
def phases_timed(app: Flask, uow: UnitOfWork) -> Iterator[dict[str, list[float]]]:
    """Time the run's phases without a profiler: the functions run_allocation calls, wrapped
    for the run (module attributes of the service, and the methods of this run's cipher,
    key store, session and unit of work). The service is not changed; a wrapper costs a
    function call (some 2 000 calls in all, under a millisecond). Each phase: [seconds,
    calls]. A name the service no longer has fails here rather than timing nothing."""
    cipher = get_database(app).cipher
    assert cipher is not None
    spent: dict[str, list[float]] = {}
    restore: list[tuple[object, str, object | None]] = []
    targets: list[tuple[object, str, str]] = [
        (allocation, "_holding", "already holding a place tonight (_holding)"),
        (allocation, "_histories", "histories of nights (_histories)"),
        (capacity, "exclusions_of", "exclusions (capacity.exclusions_of)"),
        (allocation, "_shelter_places", "shelters' free places (_shelter_places)"),
        (allocation, "canonical_json", "inputs as stored (canonical_json)"),
        (allocation, "result_json", "result as stored (result_json)"),
        (allocation, "record", "access log: the run's entry (record)"),
        (allocation, "record_many", "access log: an entry per registrant (record_many)"),
        (cipher, "open", "sealed fields read: each gender, and the seed (FieldCipher.open)"),
        (cipher.keys, "by_id", "  of which data keys fetched (KeyStore.by_id)"),
        (uow.session, "flush", "flushes: the run and its places sealed and inserted"),
        (uow, "commit", "commit"),
    ]
    for owner, name, label in targets:
        original = getattr(owner, name)  # AttributeError: the service has changed
        own = owner.__dict__.get(name) if isinstance(owner, ModuleType) else None
        restore.append((owner, name, own))
        setattr(owner, name, _timed(original, spent.setdefault(label, [0.0, 0])))
    try:
        yield spent
    finally:
        for owner, name, own in reversed(restore):
            if own is None:
                delattr(owner, name)  # the instance's method is its class's again
            else:
                setattr(owner, name, own)


def _timed(function: Any, into: list[float]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            into[0] += time.perf_counter() - started
            into[1] += 1

    return timed


def _phase_table(
    spent: dict[str, list[float]], allocate_seconds: float, run_seconds: float
) -> list[dict[str, object]]:
    rows = [
        ("the pure allocation (allocate)", allocate_seconds, 1),
        *((label, seconds, calls) for label, (seconds, calls) in spent.items()),
    ]
    top_level = sum(seconds for label, seconds, _calls in rows if not label.startswith(" "))
    rows.append(
        (
            "the rest: the day locked, registrations and people loaded (one join), the "
            "rankings' values built, the places' rows made",
            run_seconds - top_level,
            1,
        )
    )
    return [
        {
            "phase": label,
            "ms": round(seconds * 1e3, 1),
            "share": round(seconds / run_seconds, 3),
            "calls": int(calls),
        }
        for label, seconds, calls in sorted(rows, key=lambda row: row[1], reverse=True)
        if not label.startswith(" ")
    ] + [
        {
            "phase": label.strip(),
            "ms": round(seconds * 1e3, 1),
            "share": round(seconds / run_seconds, 3),
            "calls": int(calls),
        }
        for label, seconds, calls in rows
        if label.startswith(" ")
    ]


def key_reads(app: Flask, day: date) -> dict[str, object]:
    """The evidence for the run's largest phase, outside it: the morning's people loaded and
    each one's gender read, each time in a new session (an empty identity map), with the
    data-key cache cold (as in the run: `by_id` sends a SELECT of data_keys and unwraps, per
    person), warm (decryption only), and cold but with the keys fetched first by the key
    store's existing `load_many` (one query per 500 ids, then the unwraps)."""
    cipher = get_database(app).cipher
    assert cipher is not None

    def read(cold: bool, batched: bool, statements: Counter[str] | None = None) -> float:
        if cold:
            _cold_keys(app)
        with request_scope(app) as uow:
            day_id = uow.session.scalar(
                select(RegistrationDay.id).where(RegistrationDay.day == day)
            )
            people = list(
                uow.session.scalars(
                    select(NightPerson)
                    .join(NightRegistration, NightRegistration.person_id == NightPerson.id)
                    .where(NightRegistration.day_id == day_id)
                )
            )
            counter: AbstractContextManager[Counter[str]] = (
                nullcontext(Counter())
                if statements is None
                else statements_counted(get_database(app).engine)
            )
            with counter as counting:
                started = time.perf_counter()
                if batched:
                    cipher.keys.load_many(uow.session, [p.data_key_id for p in people])
                genders = [p.gender for p in people]
                seconds = time.perf_counter() - started
            if statements is not None:
                statements.update(counting)
            uow.rollback()
        assert len(genders) == len(people) and all(genders)
        return seconds

    def median_of(cold: bool, batched: bool) -> dict[str, object]:
        """Timed without counting the statements (the listener costs a little a statement),
        then once more, untimed, to count them."""
        times = [round(read(cold, batched) * 1e3, 1) for _ in range(KEY_READ_REPEATS)]
        statements: Counter[str] = Counter()
        read(cold, batched, statements)
        return {
            "ms": statistics.median(times),
            "ms_each": times,
            "sql_statements": dict(statements.most_common()),
        }

    return {
        "cold_one_key_at_a_time": median_of(cold=True, batched=False),
        "warm_cache": median_of(cold=False, batched=False),
        "cold_keys_loaded_together": median_of(cold=True, batched=True),
        "note": "reading every registrant's gender, as the run does; a new session each "
        f"time; the median of {KEY_READ_REPEATS}. cold - warm = fetching and unwrapping "
        "the keys; cold - loaded together = the one-key-at-a-time queries",
    }


def _cold_keys(app: Flask) -> None:
    """Forget every unwrapped data key, as a fresh `flask nights allocate` process starts."""
    cipher = get_database(app).cipher
    assert cipher is not None
    cipher.keys.cache.clear()


def _now(settings: Settings, day: date) -> datetime:
    """When the window closes (the timer's run): inside the day, after the window opened."""
    window = window_of(settings).window_on(day)
    assert window is not None, f"{day} is not a registration day"
    return window.closes_at


def _where(filename: str, line: int, name: str) -> str:
    if filename == "~":  # a built-in
        return name
    path = Path(filename)
    try:
        shown = str(path.resolve().relative_to(REPO))
    except ValueError:
        parts = path.parts
        shown = (
            "/".join(parts[parts.index("site-packages") + 1 :])
            if "site-packages" in parts
            else path.name
        )
    return f"{shown}:{line}({name})"


def _profile_summary(profiler: cProfile.Profile) -> dict[str, object]:
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, dict[Any, Any]]]
    raw = stats.stats  # type: ignore[attr-defined]
    rows = sorted(raw.items(), key=lambda item: item[1][3], reverse=True)
    top = [
        {
            "function": _where(*key),
            "calls": calls,
            "tottime_s": round(tottime, 3),
            "cumtime_s": round(cumtime, 3),
        }
        for key, (_primitive, calls, tottime, cumtime, _callers) in rows[:TOP_LINES]
    ]
    # The run's phases as the profiler sees them: what run_allocation calls directly, with
    # the time of each edge (a millisecond or more); and the same inside the access log's
    # record_many (hashing and linking each entry, or inserting them).
    run_key = next(key for key in raw if key[2] == "run_allocation")
    many_key = max(
        (key for key in raw if key[2] == "record_many" and key[0].endswith("record.py")),
        key=lambda key: raw[key][3],
    )
    # The suspects, wherever they are called from (the busiest function of that name).
    suspects = {
        "KeyStore.by_id (a data key: from the cache, else a SELECT and an unwrap)": (
            "referral/db/data_keys.py",
            "by_id",
        ),
        "Session.get (the SELECT of one data key)": ("sqlalchemy/orm/session.py", "get"),
        "unwrap_dek (a person's key unwrapped under the KEK)": ("crypto/dek.py", "unwrap_dek"),
        "decrypt_field (a sealed field opened)": ("crypto/", "decrypt_field"),
        "record_many (the access log, an entry per registrant)": ("audit/record.py", "record_many"),
        "canonical_json (the inputs, stored and digested)": (
            "referral/night_allocation.py",
            "canonical_json",
        ),
        "allocate (the pure allocation)": ("referral/night_allocation.py", "allocate"),
        "Session.commit": ("sqlalchemy/orm/session.py", "commit"),
    }
    named: dict[str, dict[str, object]] = {}
    for label, (path_part, name) in suspects.items():
        matches = [
            (cumtime, calls)
            for (filename, _line, function), (_p, calls, _t, cumtime, _c) in raw.items()
            if function == name and path_part in filename.replace(os.sep, "/")
        ]
        if matches:
            cumtime, calls = max(matches)
            named[label] = {"calls": calls, "cumtime_s": round(cumtime, 3)}
    return {
        "top_cumulative": top,
        "run_allocation_callees": _callees(raw, run_key),
        "record_many_callees": _callees(raw, many_key),
        "named": named,
    }


def _callees(raw: dict[Any, Any], caller: tuple[str, int, str]) -> list[dict[str, object]]:
    """What `caller` calls directly, with the time of each edge (a millisecond or more)."""
    edges = [
        {"function": _where(*key), "calls": edge[1], "cumtime_s": round(edge[3], 3)}
        for key, (*_numbers, callers) in raw.items()
        if (edge := callers.get(caller)) is not None and edge[3] >= 0.001
    ]
    return sorted(edges, key=lambda edge: float(edge["cumtime_s"]), reverse=True)


def run(workdir: Path, database_url: str, kind: str, people: int) -> dict[str, object]:
    migrate.upgrade(database_url)
    settings = build_settings(workdir, database_url)
    app = create_app(settings)
    rng = random.Random(20270217)  # noqa: S311 - test data, not secrets
    database = get_database(app)
    try:
        population = seed(app, people, rng)
        print(f"seeded in {population.seconds:.1f} s", flush=True)
        coordinator = population.coordinator

        # 1. The whole run, cold keys, its phases (and the pure allocation) timed inside it.
        _cold_keys(app)
        with allocate_timed() as calls, request_scope(app) as uow, phases_timed(app, uow) as spent:
            started = time.perf_counter()
            summary = allocation.run_allocation(uow, coordinator, settings, _now(settings, DAY))
            run_seconds = time.perf_counter() - started
        assert len(calls) == 1
        inputs, seed_bytes, allocate_inside = calls[0]
        phases = _phase_table(spent, allocate_inside, run_seconds)
        print(
            f"run: {summary.registered} registered, {summary.placed} placed in "
            f"{run_seconds:.2f} s (allocate inside: {allocate_inside * 1e3:.0f} ms)",
            flush=True,
        )

        # 2. The floor: the pure allocation on the same inputs, repeated.
        samples = []
        for _ in range(ALLOCATE_REPEATS):
            started = time.perf_counter()
            rerun = allocate(inputs, seed_bytes)
            samples.append(time.perf_counter() - started)
        allocate_median = statistics.median(samples)
        print(f"allocate alone: median {allocate_median * 1e3:.1f} ms", flush=True)

        with request_scope(app) as uow:
            verified = allocation.verify_run(uow, coordinator, DAY)
        with request_scope(app) as uow:
            stored = allocation.run_of(uow, DAY)
            assert stored.inputs is not None
            same_inputs = (
                inputs_digest(inputs)
                == stored.inputs_digest
                == inputs_digest(inputs_from_json(stored.inputs))
            )
            same_result = allocation.result_json(rerun) == stored.result
            night_rows = uow.session.scalar(
                select(func.count()).select_from(NightPlace).where(NightPlace.run_id == stored.id)
            )
            log_entries = uow.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.object_id == stored.id)
            )
            uow.rollback()
        evidence = key_reads(app, DAY)
        print(f"gender reads: {json.dumps(evidence)}", flush=True)

        # 3. The profile: the next morning, the same people, under cProfile.
        _register(app, PROFILED_DAY, population.person_ids, rng)
        _cold_keys(app)
        profiler = cProfile.Profile()
        with statements_counted(database.engine) as statements, request_scope(app) as uow:
            started = time.perf_counter()
            profiler.enable()
            profiled = allocation.run_allocation(
                uow, coordinator, settings, _now(settings, PROFILED_DAY)
            )
            profiler.disable()
            profiled_seconds = time.perf_counter() - started
        print(
            f"profiled run: {profiled.placed} placed in {profiled_seconds:.2f} s "
            f"(under cProfile), {sum(statements.values())} statements",
            flush=True,
        )
        with request_scope(app) as uow:
            profiled_verified = allocation.verify_run(uow, coordinator, PROFILED_DAY)
    finally:
        database.engine.dispose()

    assert summary.registered == people, "every registration must reach the run"
    assert summary.placed == PLACES, "every place must be given"
    assert verified.ok, "the stored run must rerun to its stored result"
    assert profiled.registered == people and profiled.placed == PLACES
    assert profiled_verified.ok
    return {
        "population": {
            "people": people,
            "genders": dict(Counter(population.gender_of.values())),
            "excluded_from_a_shelter": population.excluded,
            "shelters": [
                {"places": places, "reserved_for_women": women, "reserved_for_men": men}
                for _name, places, women, men in SHELTERS
            ],
            "history_days": HISTORY_DAYS,
            "history_mornings": population.history_runs,
            "history_registrations": population.history_registrations,
            "history_night_places": population.history_places,
            "seed_seconds": round(population.seconds, 1),
        },
        "day": DAY.isoformat(),
        "nights": [n.isoformat() for n in summary.nights],
        "registered": summary.registered,
        "placed": summary.placed,
        "turned_away": summary.turned_away,
        "night_places_written": night_rows,
        "access_log_entries_written": log_entries,
        "verify_run_ok": verified.ok,
        "floor_inputs_digest_is_the_stored_digest": same_inputs,
        "floor_result_is_the_stored_result": same_result,
        "run_seconds": round(run_seconds, 3),
        "allocate_inside_run_ms": round(allocate_inside * 1e3, 1),
        "allocate_alone_ms": {
            "median": round(allocate_median * 1e3, 1),
            "min": round(min(samples) * 1e3, 1),
            "max": round(max(samples) * 1e3, 1),
            "repeats": ALLOCATE_REPEATS,
        },
        "ratio_run_to_allocate": round(run_seconds / allocate_median, 1),
        "outside_allocate_seconds": round(run_seconds - allocate_inside, 3),
        "data_key_cache": "cold (cleared before each run, as a fresh process has it)",
        "phases": phases,
        "gender_reads": evidence,
        "profile": {
            "day": PROFILED_DAY.isoformat(),
            "seconds_under_cprofile": round(profiled_seconds, 3),
            "note": "the morning after, under cProfile (which slows Python-bound code more "
            "than waiting on the database): for where the time goes, not how much",
            "sql_statements": sum(statements.values()),
            "sql_by_kind": dict(statements.most_common()),
            **_profile_summary(profiler),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default: SQLite in a temporary directory); for PostgreSQL, the "
        f"server on which a fresh database {BENCH_DATABASE!r} is made",
    )
    arguments = parser.parse_args()
    if arguments.people < 2 * PLACES:
        parser.error(f"--people must be at least {2 * PLACES} (twice the places)")
    audit_bench.BENCH_DATABASE = BENCH_DATABASE  # the helpers below make and drop this one
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        server_url = arguments.database_url or f"sqlite:///{workdir / 'nights-run-bench.sqlite3'}"
        kind = database_kind(server_url)
        database_url = fresh_postgres_database(server_url) if kind == "postgresql" else server_url
        try:
            figures = run(workdir, database_url, kind, arguments.people)
        finally:
            if kind == "postgresql":
                drop_postgres_database(server_url)
    result = {
        "benchmark": "nights-run",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": kind,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            # Others' work on a shared machine shows here: the figures move with it.
            "load_average_1_5_15_min": [round(load, 2) for load in os.getloadavg()],
        },
        **figures,
    }
    out = HERE / "results" / f"nights-run-{kind}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
