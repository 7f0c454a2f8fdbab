"""Sustained mixed load on the real server (gunicorn, two workers, PostgreSQL), from outside.

32 connections on loopback for SOAK_SECONDS (60 by default; `SOAK_SECONDS=300` for the full
five minutes): a group leader reading the partner's referrals and a social worker reading
children and the list of referrals (wrk, bench/wrk/requests.lua, every status counted), while
eight clients record consents (POST /api/v1/children/<id>/consents) one after another, each
answer counted by the client that waited for it. Afterwards: no answer was a 5xx (nor any
other error); every consent the server acknowledged is in the database, and the consents
that appeared are exactly those; the access log verifies; and each worker is the same
process at the end as at the start, its resident memory grown by less than a generous bound.
The figures (requests, writes, each worker's resident memory at boot, after the warm-up, every
ten seconds and at the end) are printed and kept as the test's `soak` property.

Writes are counted in Python rather than by wrk because wrk stops with requests in flight:
the server may commit one whose answer wrk never reads, and the count would not be exact.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bench.http_load import LoadFigures, Session, Workload, run_wrk, wrk_available
from bench.http_server import Server
from config.settings import Settings
from referral.db.people import ConsentRecord
from referral.request_scope import request_session
from tests.factories import consent_body
from tests.live.deployment import (
    Deployment,
    children_in_care,
    deployment,
    resident_mb,
)
from tests.own_database import ON_POSTGRES

SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
CHILDREN = 20
DESCRIPTION = "A-2026:soak"
# 32 connections in all: wrk's two workloads and the Python clients that write.
LEADER_CONNECTIONS = 8
WORKER_CONNECTIONS = 16
WRITERS = 8
# Memory is sampled after the first requests have loaded what a worker keeps for good
# (templates, the statements it builds once, the data keys it caches), and at the end.
WARM_UP_SECONDS = min(10, SECONDS // 6)
SAMPLE_SECONDS = 10
# Generous, so that a leak fails and a busy machine does not: the larger of 50 MB and 30 %.
GROWTH_MB = 50.0
GROWTH_SHARE = 0.30
WRITE_TIMEOUT_SECONDS = 120  # a write whose answer never came could not be counted
ACCESS_LOG_STATUS = re.compile(r'" (\d{3}) ')
INTACT = re.compile(r"Intact: (\d+) entries and (\d+) checkpoints verified")
CHECKPOINT_EVERY = 1000  # as production signs them, so that `verify` checks some too

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="the soak is a PostgreSQL test (production's database, 60 s of the suite's "
        "time); SQLite's single writer is covered by test_concurrent_writers",
    ),
    pytest.mark.skipif(
        not wrk_available(), reason="wrk is not installed (`make wrk` installs Debian's)"
    ),
]


@dataclass
class Writes:
    """What the writing clients saw: every status, and the id of each acknowledged consent."""

    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # no answer at all
    lock: threading.Lock = field(default_factory=threading.Lock)


def _write_until(
    deadline: float, session: Session, url: str, targets: list[tuple[str, str]]
) -> Callable[[int, Writes], None]:
    def write(number: int, writes: Writes) -> None:
        # A connection of its own on the same login: a requests.Session is not for threads.
        client = requests.Session()
        client.cookies.update(session.http.cookies)
        client.headers["X-CSRFToken"] = session.csrf_token
        position = number
        while time.monotonic() < deadline:
            child, guardian = targets[position % len(targets)]
            position += WRITERS
            try:
                answer = client.post(
                    f"{url}/api/v1/children/{child}/consents",
                    json=consent_body(guardian, DESCRIPTION),
                    timeout=WRITE_TIMEOUT_SECONDS,
                )
            except requests.RequestException as error:
                with writes.lock:
                    writes.failures.append(f"{type(error).__name__}: {error}")
                continue
            with writes.lock:
                writes.statuses[answer.status_code] += 1
                if answer.status_code == 201:
                    writes.acknowledged.append(answer.json()["id"])

    return write


def _memory(server: Server) -> dict[int, float]:
    return {pid: resident_mb(pid) for pid in server.worker_pids()}


def _consents(deployment: Deployment) -> set[str]:
    with deployment.factory.app.app_context():
        return set(request_session().scalars(select(ConsentRecord.id)))


def _server_statuses(log: Path) -> Counter[str]:
    """The statuses in gunicorn's own access log: the server's count beside the clients'."""
    return Counter(
        found.group(1)
        for line in log.read_text(errors="replace").splitlines()
        if (found := ACCESS_LOG_STATUS.search(line))
    )


@pytest.fixture(scope="module")
def soak(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(
        base_settings, tmp_path_factory, "soak", checkpoint_every=CHECKPOINT_EVERY
    ) as d:
        yield d


def test_mixed_load_at_32_connections_loses_no_write_and_fails_no_request(
    soak: Deployment, record_property: Callable[[str, object], None]
) -> None:
    data = children_in_care(soak.factory, CHILDREN, DESCRIPTION)
    with soak.serve("soak") as server:
        leader = soak.log_in(server, data.leader)
        worker = soak.log_in(server, data.worker)
        reads = [
            Workload(
                "partner-referrals",
                "the group leader reads the partner's referrals",
                leader,
                [("/api/v1/partner/referrals", None)],
                expect="referral_id",
            ),
            Workload(
                "child-and-list",
                "the social worker reads a child, or the list of referrals",
                worker,
                [(f"/api/v1/children/{child}", None) for child, _ in data.children]
                + [("/api/v1/referrals", None)],
                expect="guardians",
            ),
        ]
        for workload in reads:
            workload.check(server.url)
        assert len(leader.http.get(f"{server.url}/api/v1/partner/referrals").json()) == CHILDREN
        consents_before = _consents(soak)
        memory_at_boot = _memory(server)
        peak_at_boot = server.peak_rss_mb()
        writes = Writes()
        started = time.monotonic()
        write = _write_until(started + SECONDS, worker, server.url, data.children)
        with ThreadPoolExecutor(max_workers=WRITERS + len(reads)) as pool:
            loads = [
                pool.submit(run_wrk, server.url, workload, soak.folder, connections, SECONDS, 1)
                for workload, connections in zip(
                    reads, (LEADER_CONNECTIONS, WORKER_CONNECTIONS), strict=True
                )
            ]
            writers = [pool.submit(write, number, writes) for number in range(WRITERS)]
            time.sleep(WARM_UP_SECONDS)
            memory_at_start = _memory(server)
            # The course in between, so that a report shows a plateau from a steady climb.
            course = [(round(time.monotonic() - started), memory_at_start)]
            while wait([*loads, *writers], timeout=SAMPLE_SECONDS).not_done:
                course.append((round(time.monotonic() - started), _memory(server)))
            figures: list[LoadFigures] = [load.result() for load in loads]
            for writer in writers:
                writer.result()
        memory_at_end = _memory(server)
        peak = server.peak_rss_mb()
        seconds = round(time.monotonic() - started, 1)
        server_statuses = _server_statuses(server.log)
    consents_after = _consents(soak)
    verify = soak.flask("audit", "verify")

    report = {
        "seconds": seconds,
        "requests": sum(f.requests for f in figures) + sum(writes.statuses.values()),
        "connections": LEADER_CONNECTIONS + WORKER_CONNECTIONS + WRITERS,
        "reads": {w.name: asdict(f) for w, f in zip(reads, figures, strict=True)},
        "writes": {str(k): v for k, v in writes.statuses.items()},
        "writes_acknowledged": len(writes.acknowledged),
        "consents_appeared": len(consents_after - consents_before),
        "server_access_log": dict(server_statuses),
        "rss_mb": {
            str(pid): {
                "boot": memory_at_boot.get(pid),
                "start": memory_at_start.get(pid),
                "end": memory_at_end.get(pid),
            }
            for pid in memory_at_end
        },
        "rss_mb_course": [(at, list(by_pid.values())) for at, by_pid in course],
        "peak_rss_mb": {"boot": peak_at_boot, "end": peak},
        "log_entries": soak.log_head()[0],
    }
    record_property("soak", json.dumps(report))
    print(f"\nsoak: {json.dumps(report, indent=1)}")

    # Nothing failed: every answer 2xx, on both sides of the connection.
    assert writes.failures == []
    assert set(writes.statuses) == {201}, writes.statuses
    for workload, load in zip(reads, figures, strict=True):
        assert load.statuses.keys() == {"200"}, (workload.name, load.statuses)
        # wrk's own 10 s timeout is a client's patience, not an error of the server's (a
        # worker that hung would be replaced, which the check of the workers below catches).
        assert {k: v for k, v in load.socket_errors.items() if k != "timeout" and v} == {}
    # The server's own log: no error either (its 302s are the two logins' steps).
    assert [status for status in server_statuses if status >= "400"] == []
    assert all(load.requests > 0 for load in figures) and writes.acknowledged
    # Every acknowledged write is there, and nothing else appeared.
    assert consents_after - consents_before == set(writes.acknowledged)
    assert len(writes.acknowledged) == len(set(writes.acknowledged))
    # The access log of all of it verifies, with the checkpoints signed on the way.
    assert verify.returncode == 0, verify.stdout + verify.stderr
    intact = INTACT.search(verify.stdout)
    assert intact is not None, verify.stdout
    assert int(intact.group(2)) >= int(intact.group(1)) // CHECKPOINT_EVERY
    # The same workers served throughout (none died or was replaced), and none kept growing.
    assert memory_at_end.keys() == memory_at_start.keys() == memory_at_boot.keys()
    for pid, start in memory_at_start.items():
        bound = max(GROWTH_MB, GROWTH_SHARE * start)
        assert memory_at_end[pid] - start <= bound, (pid, start, memory_at_end[pid])
