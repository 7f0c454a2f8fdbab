"""Two gunicorn workers on one database: overlapping requests cost time, never an error.

On SQLite every request that writes (and each read writes its access-log entry) must wait its
turn for the write lock; before `BEGIN IMMEDIATE` a worker whose snapshot went stale failed at
once with 500 "database is locked".
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.factories import invented_personnummer
from tests.live.conftest import LiveServer, run_at_once, same_login

_serials = itertools.count(100)


def _new_child(http: requests.Session, url: str) -> requests.Response:
    serial = next(_serials)
    personnummer = invented_personnummer(2014, 1 + serial % 12, 1 + serial % 28, serial)
    return http.post(f"{url}/api/v1/children", json={"personnummer": personnummer, "name": "Alva"})


def _server_errors(responses: list[requests.Response]) -> list[str]:
    return [
        f"{r.request.method} {r.status_code}: {r.text[:120]}"
        for r in responses
        if r.status_code >= 500
    ]


def test_twenty_social_workers_registering_children_at_the_same_moment_all_succeed(
    live_server: LiveServer,
) -> None:
    district = live_server.factory.organisation("district")
    account = live_server.factory.account("social_worker", district)
    http = live_server.log_in(account)

    responses = run_at_once(20, lambda _: _new_child(same_login(http), live_server.url))

    assert _server_errors(responses) == []
    assert [r.status_code for r in responses] == [201] * 20
    listed = http.get(f"{live_server.url}/api/v1/children")
    assert listed.status_code == 200
    assert len(listed.json()) == 20


def test_sixteen_connections_reading_at_once_are_all_answered(live_server: LiveServer) -> None:
    district = live_server.factory.organisation("district")
    http = live_server.log_in(live_server.factory.account("social_worker", district))
    for _ in range(3):
        assert _new_child(http, live_server.url).status_code == 201

    def read_many(_: int) -> list[requests.Response]:
        connection = same_login(http)
        return [connection.get(f"{live_server.url}/api/v1/children") for _ in range(15)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(itertools.chain.from_iterable(pool.map(read_many, range(16))))

    assert _server_errors(responses) == []
    assert {r.status_code for r in responses} == {200}
    assert all(len(r.json()) == 3 for r in responses)


def test_a_key_rotation_during_two_hundred_requests_fails_none_of_them(
    live_server: LiveServer,
) -> None:
    district = live_server.factory.organisation("district")
    http = live_server.log_in(live_server.factory.account("social_worker", district))
    rotation: dict[str, object] = {}

    def rotate_midway() -> None:
        result = live_server.flask("crypto", "rotate")
        rotation.update(code=result.returncode, output=result.stdout + result.stderr)

    def mixed(index: int) -> requests.Response:
        connection = same_login(http)
        if index == 40:
            threading.Thread(target=rotate_midway).start()
        if index % 3 == 0:
            return _new_child(connection, live_server.url)
        return connection.get(f"{live_server.url}/api/v1/children")

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(mixed, range(200)))
    while "code" not in rotation:
        threading.Event().wait(0.1)

    assert rotation["code"] == 0, rotation["output"]
    assert [r for r in responses if r.status_code not in (200, 201)] == []
    # Everything written under the old key and the new one reads back, and the log holds.
    assert len(http.get(f"{live_server.url}/api/v1/children").json()) == 67
    verify = live_server.flask("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
