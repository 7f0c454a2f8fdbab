"""The login rate limit holds for the server as a whole, not per gunicorn worker: with the
in-memory counters each of the two workers let the configured number through on its own."""

from __future__ import annotations

import pytest
import requests

from tests.live.conftest import ServerStarter, csrf_token

LIMIT = 6


def _wrong_password(url: str) -> int:
    # A new connection each time, so gunicorn hands the attempts to both workers.
    http = requests.Session()
    data = {"username": "nobody", "password": "not it", "csrf_token": csrf_token(http, url)}
    return http.post(url, data=data, allow_redirects=False).status_code


@pytest.mark.asvs("V6.3.1")
def test_the_attempt_after_the_limit_is_refused_whichever_worker_answers(
    start_server: ServerStarter,
) -> None:
    with start_server("limits", LOGIN_RATE_LIMIT=f"{LIMIT} per minute") as server:
        statuses = [_wrong_password(f"{server.url}/login") for _ in range(LIMIT + 2)]

        assert statuses[:LIMIT] == [401] * LIMIT
        assert statuses[LIMIT:] == [429, 429]
