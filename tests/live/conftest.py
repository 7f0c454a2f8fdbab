"""The real server, as `make run` starts it: gunicorn with two worker processes, driven over
HTTP by clients that know nothing of the code.

Each server gets a database of its own (it commits for real), the test run's keyring and
signing key, and the environment an operator would give it. Accounts and data are made
in-process against the same database, then used over HTTP only.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
from flask import Flask

from config.settings import Settings
from referral import create_app
from referral.request_scope import get_database
from tests.factories import TOTP_TIME, Account, Factory, command_environment
from tests.own_database import own_database

GUNICORN = Path(sys.executable).with_name("gunicorn")
# The flask command of the same environment, for the commands an operator runs beside it.
FLASK = GUNICORN.with_name("flask")
START_TIMEOUT_SECONDS = 30.0
CSRF_MARKER = 'name="csrf-token" content="'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    settings: Settings
    factory: Factory
    environment: dict[str, str]
    log: Path

    def log_in(self, account: Account) -> requests.Session:
        """Password, then a fresh code, over HTTP; the session sends the CSRF header after."""
        http = requests.Session()
        response = http.post(
            f"{self.url}/login",
            data={
                "username": account.username,
                "password": account.password,
                "csrf_token": csrf_token(http, f"{self.url}/login"),
            },
            allow_redirects=False,
        )
        assert response.status_code == 302, response.status_code
        # gunicorn reads real time, not the suite's moved TOTP clock (tests/factories.py): a
        # second login of one account waits for the next step for real.
        with TOTP_TIME.in_real_time():
            code = account.next_code()
        response = http.post(
            f"{self.url}/mfa",
            data={"code": code, "csrf_token": csrf_token(http, f"{self.url}/mfa")},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.status_code
        me = http.get(f"{self.url}/api/v1/me")
        assert me.status_code == 200, me.status_code
        http.headers["X-CSRFToken"] = me.headers["X-CSRFToken"]
        return http

    def flask(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """An operator's `flask …` command against this server's database, keys and log."""
        return subprocess.run(
            [str(GUNICORN.with_name("flask")), *arguments],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
        )


def csrf_token(http: requests.Session, url: str) -> str:
    page = http.get(url).text
    start = page.index(CSRF_MARKER) + len(CSRF_MARKER)
    return page[start : page.index('"', start)]


def same_login(http: requests.Session) -> requests.Session:
    """Another connection on the same logged-in session: one per thread, since a
    requests.Session is not meant to be shared between threads."""
    twin = requests.Session()
    twin.cookies.update(http.cookies)
    twin.headers.update(http.headers)
    return twin


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s:\n{log.read_text()}")


@dataclass
class ServerStarter:
    base_settings: Settings
    tmp_path_factory: pytest.TempPathFactory

    @contextmanager
    def __call__(self, name: str, **environment: str) -> Iterator[LiveServer]:
        """Serve a fresh database named `name` with gunicorn (2 workers) until closed.
        `environment` adds REFERRAL_* settings, e.g. LOGIN_RATE_LIMIT="5 per minute"."""
        settings = replace(
            self.base_settings,
            database_url=own_database(self.base_settings.database_url, self.tmp_path_factory, name),
            # The server's own default, as `make run` has it (the suite's in-process apps
            # count in memory, each their own).
            rate_limit_storage_uri="",
        )
        env = command_environment(settings)
        env["REFERRAL_LOGIN_RATE_LIMIT"] = "1000 per minute"
        # No timed checkpoints: the checkpoint folder is the whole session's, and a server
        # that outlived the interval would sign its own database's head into it.
        env["REFERRAL_AUDIT_CHECKPOINT_SECONDS"] = "0"
        env.update({f"REFERRAL_{key}": value for key, value in environment.items()})
        port = free_port()
        log = self.tmp_path_factory.mktemp(f"{name}-log") / "gunicorn.log"
        command = [str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        command += ["--error-logfile", str(log), "referral.wsgi:app"]
        app: Flask = create_app(settings)
        with log.open("wb") as output:
            process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(url, process, log)
            yield LiveServer(url, settings, Factory(app, settings), env, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            get_database(app).engine.dispose()


@pytest.fixture(scope="session")
def start_server(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> ServerStarter:
    return ServerStarter(base_settings, tmp_path_factory)


@pytest.fixture(scope="module")
def live_server(start_server: ServerStarter) -> Iterator[LiveServer]:
    with start_server("live") as server:
        yield server


def run_at_once(count: int, work: Callable[[int], requests.Response]) -> list[requests.Response]:
    """`count` threads that wait for each other, then call `work(i)` all at the same moment."""
    barrier = threading.Barrier(count)

    def start_together(index: int) -> requests.Response:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start_together, range(count)))
