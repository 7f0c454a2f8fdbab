"""Crashes (issue 19, Reliability): the server killed with SIGKILL while social workers record
consents, and while the operator's key rotation and re-encryption are half-way. After a
restart nothing acknowledged is lost, nothing half-written is visible, every record still
decrypts, the interrupted command run again completes, and the access log's chain verifies.

Proves OWASP ASVS 5.0 2.3.3 (a business operation succeeds in its entirety or is rolled back),
16.4.2 (the access log cannot be modified: `flask audit verify` after each crash) and 11.2.2
(keys can be replaced and data re-encrypted: also when the run is cut off).

The server is gunicorn with two workers as `make run` starts it, in a process group of its own
so that one SIGKILL reaches the master and its workers at once, like a power cut. The data
and the checks go through the services and the API; the database is the run's (SQLite, or
PostgreSQL with TEST_DATABASE_URL), one of this module's own.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, create_engine, func, select

from audit.actions import Action
from config.settings import Settings
from crypto import LocalKeyring
from referral import clock, create_app
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.data_keys import DataKey
from referral.db.models import Organisation
from referral.db.people import Child, ConsentRecord, Guardian
from referral.db.uow import UnitOfWork
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import children, keys
from tests.factories import (
    Account,
    Factory,
    command_environment,
    invented_personnummer,
    placed_under_sol_with_consent,
    referred,
)
from tests.live.conftest import FLASK, GUNICORN, LiveServer, free_port, wait_until_serving
from tests.own_database import own_database

DESCRIPTION = "A-2026:19"
COMMAND_TIMEOUT_SECONDS = 120
# Enough keys that the commands take a moment (one key per transaction), few enough to stay
# within seconds: the kill lands after the first progress line, a hundred keys in.
BULK_CHILDREN = 400
KILLED_AFTER = 100
# After the progress line, so the kill lands at any point of a key's transaction or between two:
# within a few keys' time. A rewrap takes well under a millisecond a key on a quiet machine, so
# a longer wait let the rotation's last 300 keys finish before the kill (seen in CI).
KILL_WITHIN_SECONDS = 0.01
# The re-encryption is given the first half only (its --before lies between the halves).
REENCRYPTED = BULK_CHILDREN // 2
CONSENT_CLIENTS = 6
ACKNOWLEDGED_BEFORE_THE_KILL = 30


# --- the server, killable ----------------------------------------------------------------------


@dataclass
class Service:
    """What survives a crash: the database, the keyring, the signing key, the checkpoints."""

    settings: Settings
    environment: dict[str, str]
    factory: Factory
    logs: Path
    district: Organisation  # the district that holds the seeded children
    worker: Account  # one of its social workers, for the seeding
    seeded: dict[str, str] = field(default_factory=dict)  # child id -> name
    reencrypt_before: datetime | None = None  # between the two halves of the bulk children

    @property
    def district_id(self) -> str:
        return self.district.id

    def log_in(self, running: Running) -> requests.Session:
        """A social worker of the district, logged in over HTTP: a new one each time, since
        an authenticator code is accepted once."""
        return running.server.log_in(self.factory.account("social_worker", self.district))

    def flask(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FLASK), *arguments],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )


@dataclass
class Running:
    server: LiveServer
    process: subprocess.Popen[bytes]


@contextmanager
def serving(service: Service) -> Iterator[Running]:
    """gunicorn with two workers on the service's database, in a process group of its own."""
    port = free_port()
    log = service.logs / "gunicorn.log"
    command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    command += ["--error-logfile", str(log), "referral.wsgi:app"]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            env=service.environment,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log)
        live = LiveServer(url, service.settings, service.factory, service.environment, log)
        yield Running(live, process)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(process)


def kill_group(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGKILL to the whole process group (gunicorn's master and workers; a command), then
    wait until none of them runs any more."""
    group = process.pid
    os.killpg(group, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _living_members(group):
        assert time.monotonic() < deadline, f"still running after SIGKILL: {_living_members(group)}"
        time.sleep(0.05)


def _living_members(group: int) -> list[int]:
    """Processes of `group` that are not yet dead (a zombie waiting to be reaped is dead)."""
    living = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'.
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group and state != "Z":
            living.append(int(entry.name))
    return living


# --- the data ----------------------------------------------------------------------------------


def _worker_actor(account: Account, district_id: str) -> Actor:
    return Actor(account.user.id, account.username, district_id, frozenset({Role.SOCIAL_WORKER}))


def _seed_bulk(service: Service, first: int, count: int) -> None:
    """`count` children, each with a guardian, added as rows (a service call per child would
    take minutes): one data key per child, sealing both rows."""
    with service.factory.app.app_context(), UnitOfWork(request_session()) as uow:
        rows = []
        for n in range(first, first + count):
            name = f"Krascbarn {n} Vyxqörn"
            rows.append(
                Child(
                    district_id=service.district_id,
                    personnummer=invented_personnummer(2013, 1 + n % 12, 1 + n % 28, n % 1000),
                    name=name,
                )
            )
        uow.session.add_all(rows)
        uow.session.flush()
        uow.session.add_all(
            Guardian(
                child_id=row.id,
                district_id=service.district_id,
                name=f"Vårdnadshavare till {row.name}",
                contact="070-000 00 00",
                has_custody=True,
            )
            for row in rows
        )
        uow.commit()
        service.seeded.update({row.id: str(row.name) for row in rows})


@pytest.fixture(scope="module")
def service(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A database, keyring and checkpoint folder of this module's own (the rotation changes
    the keyring; the checkpoints are signed every 25 entries, so kills land near some),
    holding a district's children with a guardian each, in two halves a second apart."""
    folder = tmp_path_factory.mktemp("crashes")
    keyring = folder / "keyring.json"
    LocalKeyring.create(keyring)
    settings = replace(
        base_settings,
        database_url=own_database(base_settings.database_url, tmp_path_factory, "crashes"),
        keyring_path=str(keyring),
        audit_checkpoint_dir=str(folder / "checkpoints"),
        audit_checkpoint_every=25,
    )
    environment = command_environment(settings)
    environment["REFERRAL_LOGIN_RATE_LIMIT"] = "1000 per minute"
    app = create_app(settings)
    factory = Factory(app, settings)
    district = factory.organisation("district")
    worker = factory.account("social_worker", district)
    logs = folder / "logs"
    logs.mkdir()
    crashed = Service(settings, environment, factory, logs, district, worker)
    _seed_bulk(crashed, 0, REENCRYPTED)
    crashed.reencrypt_before = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    while datetime.now(UTC) <= crashed.reencrypt_before:
        time.sleep(0.05)
    _seed_bulk(crashed, REENCRYPTED, BULK_CHILDREN - REENCRYPTED)
    yield crashed
    get_database(app).engine.dispose()


@dataclass(frozen=True)
class ConsentWorld:
    partner_id: str
    children: list[tuple[str, str]]  # (child id, custodial guardian id)


def _consent_world(service: Service) -> ConsentWorld:
    """One child per client, each placed under SoL with one custodian's consent and referred
    to a partner, through the services: every consent recorded then changes what the
    partner may see (the referral is shared, or the partner is told to stop)."""
    factory = service.factory
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker = _worker_actor(service.worker, service.district_id)
    today = clock.today()
    placed = []
    with factory.app.app_context(), UnitOfWork(request_session()) as uow:
        for n in range(CONSENT_CLIENTS):
            child = children.register_child(
                uow,
                worker,
                children.NewChild(invented_personnummer(2015, 3, 1 + n, 900 + n), f"Samtycke {n}"),
            )
            guardian = placed_under_sol_with_consent(
                uow,
                worker,
                child.id,
                on=today,
                until=today + timedelta(days=365),
                description=DESCRIPTION,
            )
            referred(uow, worker, child.id, partner.id, on=today)
            placed.append((child.id, guardian))
    return ConsentWorld(partner.id, placed)


# --- what the database holds -----------------------------------------------------------------


@contextmanager
def onlooker(service: Service) -> Iterator[Engine]:
    """A plain connection to the database, not the app's: what is committed, nothing else."""
    engine = create_engine(service.settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _audit_sequences(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(select(AuditEntry.sequence).order_by(AuditEntry.sequence)))


def _verified(service: Service) -> None:
    verify = service.flask("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Intact" in verify.stdout


def _every_sealed_field_opens(service: Service) -> int:
    """Open every personal field of every row, the access log's included, with no key in
    memory; a lost key or a row left under a shredded one raises DecryptionError."""
    app = service.factory.app
    get_database(app).cipher.keys.cache.clear()  # type: ignore[union-attr]
    opened = 0
    with app.app_context():
        session = request_session()
        for model in keys.encrypted_models():
            for row in session.scalars(select(model).where(model.data_key_id.is_not(None))):
                for name in model.__personal_fields__:
                    getattr(row, name)
                    opened += 1
        session.rollback()
    return opened


def _names_over_the_api(http: requests.Session, url: str) -> dict[str, str]:
    listed = http.get(f"{url}/api/v1/children")
    assert listed.status_code == 200, listed.text[:300]
    return {child["id"]: child["name"] for child in listed.json()}


def _reads_everything(service: Service, url: str, http: requests.Session) -> None:
    """Every seeded child's name over the API, and a sample of whole records (guardians
    included), then every sealed field in the database."""
    names = _names_over_the_api(http, url)
    assert {i: names.get(i) for i in service.seeded} == service.seeded
    for child_id in list(service.seeded)[:: BULK_CHILDREN // 6]:
        record = http.get(f"{url}/api/v1/children/{child_id}")
        assert record.status_code == 200
        assert record.json()["guardians"][0]["name"].endswith(service.seeded[child_id])
    assert _every_sealed_field_opens(service) > 2 * BULK_CHILDREN


def _start(service: Service, *arguments: str) -> subprocess.Popen[str]:
    """`flask …` as the operator starts it, in a process group of its own."""
    return subprocess.Popen(
        [str(FLASK), *arguments],
        env=service.environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _kill_at_progress(
    command: subprocess.Popen[str], marker: str, server: subprocess.Popen[bytes]
) -> list[str]:
    """Read the command's progress lines; after the first that starts with `marker`, SIGKILL it
    and the server at once, at a random moment of the next few keys (a line is printed just
    after a commit, and a crash can land anywhere in a key's transaction, or between two).
    The lines read, for the record."""
    assert command.stdout is not None
    lines = []
    for line in command.stdout:
        lines.append(line)
        if line.startswith(marker):
            time.sleep(random.uniform(0, KILL_WITHIN_SECONDS))
            kill_group(command)
            kill_group(server)
            command.stdout.close()
            return lines
    command.wait(timeout=COMMAND_TIMEOUT_SECONDS)
    pytest.fail(f"the command ended before {marker!r}: {''.join(lines)}")


# --- consent writes ------------------------------------------------------------------------------


@dataclass
class Attempt:
    child_id: str
    decision: str
    status: int | None  # None: no answer (the server died with the request)
    consent_id: str | None


def _consent_body(guardian_id: str, decision: str) -> dict[str, Any]:
    today = clock.today()
    return {
        "party": guardian_id,
        "decision": decision,
        "categories": ["name", "age", "participation"] if decision == "given" else [],
        "decided_on": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "method": "written",
        "description_version": DESCRIPTION,
    }


def _keep_recording(
    http: requests.Session, url: str, child: tuple[str, str], attempts: list[Attempt]
) -> None:
    """Withdraw, give, withdraw… one consent after the other until the server dies."""
    child_id, guardian_id = child
    decisions = ("withdrawn", "given")
    for n in range(10_000):
        decision = decisions[n % 2]
        try:
            answer = http.post(
                f"{url}/api/v1/children/{child_id}/consents",
                json=_consent_body(guardian_id, decision),
                timeout=30,
            )
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            attempts.append(Attempt(child_id, decision, None, None))
            return
        consent_id = answer.json()["id"] if answer.status_code == 201 else None
        attempts.append(Attempt(child_id, decision, answer.status_code, consent_id))


def _consents_and_their_entries(engine: Engine) -> tuple[set[str], list[str | None]]:
    """Every consent stored, and the consents named by the log's consent entries."""
    actions = (Action.CONSENT_RECORD.value, Action.CONSENT_WITHDRAW.value)
    with engine.connect() as connection:
        stored = set(connection.scalars(select(ConsentRecord.id)))
        logged = list(
            connection.scalars(select(AuditEntry.object_id).where(AuditEntry.action.in_(actions)))
        )
    return stored, logged


@pytest.mark.asvs("V2.3.3", "V16.4.2")
def test_a_server_killed_while_consents_are_recorded_keeps_every_acknowledged_one_whole(
    service: Service,
) -> None:
    """Six social workers record consents without pause; the server is killed under them.
    Every consent they were answered 201 for is in the child's record after the restart, no
    consent is stored without its access-log entry (nor an entry without its consent), and
    the chain verifies (ASVS 5.0 2.3.3, 16.4.2)."""
    world = _consent_world(service)
    with onlooker(service) as engine:
        stored_before, _ = _consents_and_their_entries(engine)
    attempts: list[Attempt] = []
    with serving(service) as running:
        url = running.server.url
        login = service.log_in(running)
        clients = []
        for child in world.children:
            http = requests.Session()
            http.cookies.update(login.cookies)
            http.headers.update(login.headers)
            clients.append(
                threading.Thread(target=_keep_recording, args=(http, url, child, attempts))
            )
        for client in clients:
            client.start()
        deadline = time.monotonic() + 60
        while sum(a.status == 201 for a in attempts) < ACKNOWLEDGED_BEFORE_THE_KILL:
            assert time.monotonic() < deadline, [a.status for a in attempts]
            time.sleep(0.01)
        kill_group(running.process)
        for client in clients:
            client.join(timeout=60)

    acknowledged = {a.consent_id for a in attempts if a.status == 201}
    unanswered = [a for a in attempts if a.status is None]
    assert [a for a in attempts if a.status not in (201, None)] == []
    assert len(unanswered) == CONSENT_CLIENTS  # each client's last request died with the server
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_THE_KILL

    with serving(service) as running:
        url = running.server.url
        http = service.log_in(running)
        # Every acknowledged consent is in the child's record, read over the API.
        shown: set[str] = set()
        for child_id, _guardian in world.children:
            record = http.get(f"{url}/api/v1/children/{child_id}")
            assert record.status_code == 200
            shown |= {c["id"] for c in record.json()["consents"]}
        assert acknowledged - shown == set()
        with onlooker(service) as engine:
            stored, logged = _consents_and_their_entries(engine)
            sequences = _audit_sequences(engine)
        # Committed without an answer: at most the requests the kill cut off.
        new = stored - stored_before
        assert acknowledged <= new and len(new - acknowledged) <= len(unanswered)
        # No consent without its entry in the access log, and no entry without its consent.
        assert Counter(logged) == Counter(stored)
        assert sequences == list(range(1, len(sequences) + 1))
        _verified(service)
        # The restarted server writes on.
        child_id, guardian_id = world.children[0]
        again = http.post(
            f"{url}/api/v1/children/{child_id}/consents", json=_consent_body(guardian_id, "given")
        )
        assert again.status_code == 201, again.text[:300]


# --- key rotation ------------------------------------------------------------------------------


def _keks_of_live_keys(engine: Engine) -> dict[tuple[str, int], int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(DataKey.kek_id, DataKey.kek_version, func.count())
            .where(DataKey.wrapped.is_not(None))
            .group_by(DataKey.kek_id, DataKey.kek_version)
        )
        return {(kek_id, version): count for kek_id, version, count in rows}


@pytest.mark.asvs("V11.2.2", "V2.3.3", "V16.4.2")
def test_a_key_rotation_killed_half_way_with_the_server_loses_no_key_and_resumes(
    service: Service,
) -> None:
    """`flask crypto rotate` and the server killed together a hundred keys in: every key is
    under the old KEK or the new one, every record reads over the API after the restart,
    `flask crypto rewrap` finishes the rest, and the chain verifies (ASVS 5.0 11.2.2)."""
    with onlooker(service) as engine:
        live_before = sum(_keks_of_live_keys(engine).values())
    with serving(service) as running:
        rotation = _start(service, "crypto", "rotate")
        progress = _kill_at_progress(rotation, f"rewrapped: {KILLED_AFTER}/", running.process)
    primary = LocalKeyring(service.settings.keyring_path).primary()
    with onlooker(service) as engine:
        under = _keks_of_live_keys(engine)
        moved = under.get((primary.kek_id, primary.version), 0)
        # Every key still wrapped, under the old KEK or the new one: none lost, none twice.
        assert sum(under.values()) == live_before
        assert KILLED_AFTER <= moved < live_before, (under, progress)

    with serving(service) as running:
        url, http = running.server.url, service.log_in(running)
        _reads_everything(service, url, http)
        resumed = service.flask("crypto", "rewrap")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"{live_before - moved} data keys rewrapped." in resumed.stdout
        with onlooker(service) as engine:
            assert _keks_of_live_keys(engine) == {(primary.kek_id, primary.version): live_before}
        _reads_everything(service, url, http)
        _verified(service)


# --- re-encryption -------------------------------------------------------------------------------

RESUME = re.compile(r"flask crypto reencrypt --before (\S+)")


@dataclass(frozen=True)
class KeyState:
    """A data key of a seeded child, as the database holds it."""

    live: bool
    superseded: bool
    rows_under_it: int  # the child's and its guardian's rows sealed under this key
    reencrypt_entries: int  # `keys:reencrypt` in the access log naming this key


MOVED = KeyState(live=False, superseded=True, rows_under_it=0, reencrypt_entries=1)
UNMOVED = KeyState(live=True, superseded=False, rows_under_it=2, reencrypt_entries=0)


def _key_states(service: Service, engine: Engine) -> dict[str, KeyState]:
    """Every key ever made for the seeded children's records, by key id."""
    people = list(service.seeded)
    with engine.connect() as connection:
        key_rows = connection.execute(
            select(DataKey.id, DataKey.wrapped.is_not(None), DataKey.superseded_by).where(
                DataKey.person_id.in_(people), DataKey.holder.not_like("audit:%")
            )
        ).all()
        under = Counter(connection.scalars(select(Child.data_key_id).where(Child.id.in_(people))))
        under += Counter(
            connection.scalars(select(Guardian.data_key_id).where(Guardian.child_id.in_(people)))
        )
        entries = Counter(
            connection.scalars(
                select(AuditEntry.object_id).where(AuditEntry.action == Action.KEYS_REENCRYPT.value)
            )
        )
    return {
        key_id: KeyState(bool(live), superseded is not None, under[key_id], entries[key_id])
        for key_id, live, superseded in key_rows
    }


@pytest.mark.asvs("V11.2.2", "V2.3.3", "V16.4.2")
def test_a_reencryption_killed_half_way_with_the_server_moves_each_record_whole_and_resumes(
    service: Service,
) -> None:
    """`flask crypto reencrypt` and the server killed together a hundred keys in: each
    person's record is wholly under its new key (the old one shredded, the move logged) or
    wholly under the old one, every record reads, the printed `--before` resumes the run and
    leaves keys made after it alone, and the chain verifies (ASVS 5.0 11.2.2, 2.3.3)."""
    assert service.reencrypt_before is not None
    before = service.reencrypt_before.strftime("%Y-%m-%dT%H:%M:%S")
    with onlooker(service) as engine:
        at_start = _key_states(service, engine)
    assert list(at_start.values()) == [UNMOVED] * BULK_CHILDREN
    with serving(service) as running:
        reencryption = _start(service, "crypto", "reencrypt", "--before", before)
        progress = _kill_at_progress(
            reencryption, f"re-encrypted: {KILLED_AFTER}/", running.process
        )
    resume = RESUME.search("".join(progress))
    assert resume and resume.group(1) == before, progress
    assert f"/{REENCRYPTED}\n" in progress[-1]  # the first half only, by its --before

    with onlooker(service) as engine:
        states = _key_states(service, engine)
    # Each key wholly moved (shredded, its rows under the new key, the move in the log) or
    # wholly where it was; the new keys hold the moved rows.
    old = {k: s for k, s in states.items() if k in at_start}
    assert {k: s for k, s in old.items() if s not in (MOVED, UNMOVED)} == {}
    moved = sum(s == MOVED for s in old.values())
    assert KILLED_AFTER <= moved < REENCRYPTED, progress
    fresh = [s for k, s in states.items() if k not in at_start]
    assert fresh == [KeyState(True, False, 2, 0)] * moved

    with serving(service) as running:
        url, http = running.server.url, service.log_in(running)
        _reads_everything(service, url, http)
        resumed = service.flask("crypto", "reencrypt", "--before", before)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"{REENCRYPTED - moved} data keys replaced." in resumed.stdout
        with onlooker(service) as engine:
            states = _key_states(service, engine)
        # The first half moved, the second (made after --before) left where it was.
        outcome = Counter(s for k, s in states.items() if k in at_start)
        assert outcome == {MOVED: REENCRYPTED, UNMOVED: BULK_CHILDREN - REENCRYPTED}
        _reads_everything(service, url, http)
        _verified(service)
