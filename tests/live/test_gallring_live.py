"""Retention and purge (gallring) against the real server (gunicorn, 2 workers) and the
operator's real command (`flask gallring run` in a process of its own), checked over HTTP.

Children are referred, placed and taken through a weekly group in-process with the service's
clock stopped months back, so that by the real clock their participations ended well over the
retention period ago (a subprocess cannot be frozen); the group leader's notes are written
over HTTP. Then two runs started at once while the server serves purge each file once, the
partner is answered 404 naming no one, the district reads its returned copy and the DPO sees
the run and nothing left due; and a run killed with SIGKILL half-way leaves every file wholly
purged or wholly there, and the next run finishes it."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import pytest
import requests
from sqlalchemy import create_engine, func, select

from config.settings import Settings
from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.data_keys import DataKey
from referral.db.people import PartnerFile, PartnerNote
from referral.db.retention import PurgeRecord
from referral.db.returned import ReturnedFile
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, groups, partner_files, referrals
from tests.factories import Account, invented_personnummer
from tests.live.conftest import FLASK, LiveServer, ServerStarter, csrf_token, same_login

DESCRIPTION = "A-2026:7"
NOTE = "Anteckning Wybbqlurft om gruppträffen"
GROUP_SIZE = 8  # rules.GROUP_MAX
RUN_TIMEOUT_SECONDS = 60
PURGED = re.compile(r"Purged (\d+) of (\d+) due; (\d+) held\.")
ANOTHER_RUN = "Another gallring run is in progress: this one did nothing."


@dataclass(frozen=True)
class Child:
    referral_id: str
    child_id: str
    name: str
    personnummer: str


@dataclass
class World:
    worker: Account  # the district's social worker
    leader: Account  # the partner's group leader
    leader_actor: Actor
    children: list[Child]
    group_ids: list[str]
    completed_at: datetime  # by the stopped clock, long before the real today


class StoppedClock:
    """The service's clock (referral.clock.now) stopped for the in-process seeding only; the
    server and the commands keep the real one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
        self.moment = moment
        self._monkeypatch = monkeypatch
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    def release(self) -> None:
        self._monkeypatch.undo()


@contextmanager
def _gallring_server(
    start_server: ServerStarter, base_settings: Settings, name: str, **environment: str
) -> Iterator[LiveServer]:
    """A server of its own, with the key that signs returned files (which the shared
    command environment does not pass on)."""
    with start_server(
        name, RETURN_SIGNING_KEY_PATH=base_settings.return_signing_key_path, **environment
    ) as s:
        yield s


def _first_monday_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _participating(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, count: int, label: str
) -> tuple[World, StoppedClock]:
    """`count` children of one district referred to one partner 120 days ago and
    participating in weekly groups of eight (the last meeting was two months ago)."""
    factory = server.factory
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(DESCRIPTION, partner)
    worker = factory.account("social_worker", district)
    leader = factory.account("group_leader", partner)
    worker_actor = Actor(
        worker.user.id, worker.username, district.id, frozenset({Role.SOCIAL_WORKER})
    )
    leader_actor = Actor(
        leader.user.id, leader.username, partner.id, frozenset({Role.GROUP_LEADER})
    )
    built_at = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    built_at -= timedelta(days=120)
    stopped = StoppedClock(monkeypatch, built_at)
    start = _first_monday_after(built_at.date() + timedelta(days=7))
    born = start.year - 10
    seeded: list[Child] = []
    group_ids: list[str] = []
    with factory.app.app_context(), UnitOfWork(request_session()) as uow:
        today = clock.today()
        for n in range(count):
            name = f"Gallringsbarn {label} {n} Qzxvörlund"
            personnummer = invented_personnummer(born, 1 + n % 12, 1 + n % 28, serial=500 + n)
            child = children.register_child(
                uow, worker_actor, children.NewChild(personnummer, name)
            )
            consent.record_placement(uow, worker_actor, child.id, "SoL", today=today)
            guardian = consent.add_guardian(
                uow, worker_actor, child.id, "Vårdnadshavare Påhittad", None, True, today=today
            )
            consent.record_consent(
                uow,
                worker_actor,
                child.id,
                consent.ConsentInput(
                    party=guardian.id,
                    decision="given",
                    categories=("name", "age", "participation"),
                    decided_on=today,
                    valid_until=today + timedelta(days=365),
                    method="written",
                    description_version=DESCRIPTION,
                ),
                today=today,
            )
            referral = referrals.create_referral(
                uow,
                worker_actor,
                referrals.NewReferral(child.id, partner.id, "weekly"),
                today=today,
            )
            referrals.submit_referral(uow, worker_actor, referral.id, today)
            referrals.respond(uow, leader_actor, referral.id, accept=True, today=today)
            seeded.append(Child(referral.id, child.id, name, personnummer))
        for first in range(0, count, GROUP_SIZE):
            group = groups.create_group(
                uow,
                leader_actor,
                groups.NewGroup(f"Grupp {first}", "weekly", start, 7, 12, [leader.user.id]),
                today,
            )
            for placed in seeded[first : first + GROUP_SIZE]:
                enrolment = groups.enrol(
                    uow, leader_actor, group.group_id, placed.referral_id, today
                )
                groups.record_visit(
                    uow,
                    leader_actor,
                    group.group_id,
                    groups.NewVisit(enrolment.enrolment_id, "home", today),
                    today,
                )
            groups.start_group(uow, leader_actor, group.group_id, start)
            group_ids.append(group.group_id)
    completed_at = datetime.combine(start + timedelta(days=50), clock_time(9), tzinfo=UTC)
    world = World(worker, leader, leader_actor, seeded, group_ids, completed_at)
    return world, stopped


def _notes_in_process(server: LiveServer, world: World) -> None:
    with server.factory.app.app_context(), UnitOfWork(request_session()) as uow:
        for child in world.children:
            partner_files.write_note(
                uow, world.leader_actor, child.referral_id, f"{NOTE} {child.name}", clock.today()
            )


def _complete(server: LiveServer, world: World, stopped: StoppedClock) -> None:
    """The groups complete the day after their eighth meeting, two months before the real
    today; then the clock runs again."""
    stopped.moment = world.completed_at
    with server.factory.app.app_context(), UnitOfWork(request_session()) as uow:
        for group_id in world.group_ids:
            groups.complete_group(uow, world.leader_actor, group_id, clock.today())
    stopped.release()
    assert (clock.today() - world.completed_at.date()).days > server.settings.partner_retention_days


@dataclass(frozen=True)
class UnitState:
    """One partner's file on one participation, as the database holds it."""

    purge_records: int
    purge_entries: int  # `gallring:purge` in the access log
    returned_files: int
    live_keys: int  # the file's keys not shredded
    files: int
    notes: int


WHOLLY_PURGED = UnitState(1, 1, 1, 0, 0, 0)
WHOLLY_THERE = UnitState(0, 0, 0, 1, 1, 1)
# Returned to social services (the run's first step, committed on its own), not purged yet.
RETURNED_ONLY = UnitState(0, 0, 1, 1, 1, 1)


def _states(server: LiveServer, world: World) -> dict[str, UnitState]:
    def count(query: object) -> int:
        return int(request_session().scalar(query) or 0)  # type: ignore[call-overload]

    found = {}
    with server.factory.app.app_context():
        for child in world.children:
            found[child.referral_id] = UnitState(
                purge_records=count(
                    select(func.count())
                    .select_from(PurgeRecord)
                    .where(
                        PurgeRecord.rule == "partner_file",
                        PurgeRecord.unit_id == child.referral_id,
                    )
                ),
                purge_entries=count(
                    select(func.count())
                    .select_from(AuditEntry)
                    .where(
                        AuditEntry.action == "gallring:purge",
                        AuditEntry.object_id == child.referral_id,
                    )
                ),
                returned_files=count(
                    select(func.count())
                    .select_from(ReturnedFile)
                    .where(ReturnedFile.referral_id == child.referral_id)
                ),
                live_keys=count(
                    select(func.count())
                    .select_from(DataKey)
                    .where(
                        DataKey.person_id == child.child_id,
                        DataKey.holder.like("partner-file:%"),
                        DataKey.wrapped.is_not(None),
                    )
                ),
                files=count(
                    select(func.count())
                    .select_from(PartnerFile)
                    .where(PartnerFile.referral_id == child.referral_id)
                ),
                notes=count(
                    select(func.count())
                    .select_from(PartnerNote)
                    .where(PartnerNote.child_id == child.child_id)
                ),
            )
        request_session().rollback()
    return found


@contextmanager
def _purge_records(server: LiveServer) -> Iterator[Callable[[], int]]:
    """How many units are purged, read as an onlooker: a plain connection, not the app's
    (whose every transaction on SQLite takes the write lock at once, so it would wait its
    turn behind the run's units instead of watching them)."""
    engine = create_engine(server.settings.database_url)
    query = select(func.count()).select_from(PurgeRecord)

    def count() -> int:
        with engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    try:
        yield count
    finally:
        engine.dispose()


def _start_run(server: LiveServer) -> subprocess.Popen[str]:
    """`flask gallring run` as the operator's timer starts it: the server's environment."""
    return subprocess.Popen(
        [str(FLASK), "gallring", "run"],
        env=server.environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(run: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = run.communicate(timeout=RUN_TIMEOUT_SECONDS)
    return run.returncode, out + err


def _section(page: str, anchor: str, following: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start : page.index(f'id="{following}"', start)]


def _rule_row(page: str, rule: str) -> tuple[int, int]:
    """Due and held of one rule in the DPO's table of rules."""
    row = page[page.index(f'data-rule="{rule}"') :]
    due = re.search(r'class="due">(\d+)<', row)
    held = re.search(r'class="held">(\d+)<', row)
    assert due and held
    return int(due.group(1)), int(held.group(1))


def _last_runs(page: str) -> list[list[str]]:
    """The cells of each row of "Last runs": started, finished, by, due, purged, held."""
    runs = page[page.index('id="runs"') :]
    body = runs[runs.index("<tbody>") : runs.index("</tbody>")] if "<tbody>" in runs else ""
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _server_errors(answers: list[requests.Response]) -> list[str]:
    return [f"{r.request.url} {r.status_code}" for r in answers if r.status_code >= 500]


def test_two_runs_at_once_while_serving_purge_each_file_once_and_return_it_to_the_district(
    start_server: ServerStarter, base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _gallring_server(start_server, base_settings, "gallring_twice") as server:
        url = server.url
        world, stopped = _participating(server, monkeypatch, 2 * GROUP_SIZE, "A")
        leader = server.log_in(world.leader)
        canary, *others = world.children
        # The group leader writes the canary's note on the page, the others' through the API.
        page = f"{url}/partner/referrals/{canary.referral_id}/notes"
        written = leader.post(
            page,
            data={"text": NOTE, "csrf_token": csrf_token(leader, page)},
            allow_redirects=False,
        )
        assert written.status_code == 302, written.text[:300]
        for child in others:
            api = f"{url}/api/v1/partner/referrals/{child.referral_id}/notes"
            assert leader.post(api, json={"text": f"{NOTE} {child.name}"}).status_code == 201
        kept = leader.get(f"{url}/api/v1/partner/referrals/{canary.referral_id}/notes")
        assert kept.status_code == 200 and [n["text"] for n in kept.json()["notes"]] == [NOTE]
        _complete(server, world, stopped)

        dpo = server.log_in(server.factory.account("dpo"))
        social_worker = server.log_in(world.worker)
        due = len(world.children)
        assert _rule_row(dpo.get(f"{url}/gallring").text, "partner_file") == (due, 0)
        assert social_worker.get(f"{url}/returned-files").text.count("data-file=") == 0

        # Two runs at once, while the DPO and the district keep reading.
        answers: list[requests.Response] = []
        reading = threading.Event()

        def keep_reading(http: requests.Session, path: str) -> None:
            while not reading.is_set():
                answers.append(http.get(f"{url}{path}"))
                time.sleep(0.05)  # a person at a page, not a benchmark

        readers = [
            threading.Thread(target=keep_reading, args=(same_login(dpo), "/gallring")),
            threading.Thread(
                target=keep_reading, args=(same_login(social_worker), "/returned-files")
            ),
        ]
        for reader in readers:
            reader.start()
        runs = [_start_run(server), _start_run(server)]
        results = [_finished(run) for run in runs]
        reading.set()
        for reader in readers:
            reader.join()

        assert [code for code, _output in results] == [0, 0], results
        assert _server_errors(answers) == [] and answers
        # Each run purged its share or (PostgreSQL's lock taken) did nothing: every file once.
        purged = 0
        for _code, output in results:
            said = PURGED.search(output)
            assert said or ANOTHER_RUN in output, output
            purged += int(said.group(1)) if said else 0
        assert purged == due
        states = _states(server, world)
        assert {r: s for r, s in states.items() if s != WHOLLY_PURGED} == {}

        # The partner's group leader: 404, naming no one.
        for path in (
            f"/partner/referrals/{canary.referral_id}/notes",
            f"/api/v1/partner/referrals/{canary.referral_id}/notes",
        ):
            gone = leader.get(f"{url}{path}")
            assert gone.status_code == 404, path
            number = canary.personnummer
            for secret in (canary.name, number, number[2:], f"{number[2:8]}-{number[8:]}", NOTE):
                assert secret not in gone.text

        # The district's social worker finds the returned file and opens it, signed.
        inbox = social_worker.get(f"{url}/returned-files")
        assert inbox.status_code == 200
        assert inbox.text.count("data-file=") == due
        assert canary.name in inbox.text
        row = inbox.text[: inbox.text.index(canary.name)]
        file_id = row[row.rindex('data-file="') + len('data-file="') :].split('"', 1)[0]
        opened = social_worker.get(f"{url}/returned-files/{file_id}")
        assert opened.status_code == 200
        assert canary.name in opened.text and 'data-signature="valid"' in opened.text

        # The DPO: the run in "last runs", nothing due any more.
        plan = dpo.get(f"{url}/gallring")
        assert plan.status_code == 200
        assert _rule_row(plan.text, "partner_file") == (0, 0)
        assert "data-unit=" not in _section(plan.text, "due", "held")
        last = _last_runs(plan.text)
        assert sum(int(cells[4]) for cells in last) == due
        assert all(cells[1] and cells[1][0].isdigit() for cells in last)  # finished, both

        verify = server.flask("audit", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_run_killed_half_way_loses_nothing_and_the_next_run_finishes_it(
    start_server: ServerStarter, base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of three units: the kill lands between two commits of one run.
    with _gallring_server(
        start_server, base_settings, "gallring_kill", GALLRING_UNITS_PER_TRANSACTION="3"
    ) as server:
        world, stopped = _participating(server, monkeypatch, 3 * GROUP_SIZE, "B")
        _notes_in_process(server, world)
        _complete(server, world, stopped)
        assert set(_states(server, world).values()) == {WHOLLY_THERE}

        run = _start_run(server)
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        with _purge_records(server) as purged:
            while purged() == 0:
                assert run.poll() is None, _finished(run)
                assert time.monotonic() < deadline, "no unit purged in time"
                time.sleep(0.005)
            run.send_signal(signal.SIGKILL)
        run.communicate(timeout=RUN_TIMEOUT_SECONDS)
        assert run.returncode == -signal.SIGKILL

        states = _states(server, world)
        whole = (WHOLLY_PURGED, RETURNED_ONLY, WHOLLY_THERE)
        halves = {r: s for r, s in states.items() if s not in whole}
        assert halves == {}
        left = sum(s != WHOLLY_PURGED for s in states.values())
        assert 0 < left < len(world.children), "the kill did not land half-way"

        again = server.flask("gallring", "run")
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"Purged {left} of {left} due; 0 held." in again.stdout
        assert set(_states(server, world).values()) == {WHOLLY_PURGED}
        verify = server.flask("audit", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr

        dpo = server.log_in(server.factory.account("dpo"))
        plan = dpo.get(f"{server.url}/gallring").text
        assert _rule_row(plan, "partner_file") == (0, 0)
        finished, killed = _last_runs(plan)  # newest first
        assert int(finished[4]) == left and finished[1][0].isdigit()
        assert int(killed[4]) == len(world.children) - left and not killed[1][0].isdigit()
