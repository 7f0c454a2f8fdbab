"""Load from outside, as a client: log in through the forms (password, then the TOTP code),
check each workload with one plain request, then hand the session to wrk.

A workload's first request must answer 2xx or the run stops: a benchmark of error pages
measures nothing. Under load every status is counted (bench/wrk/requests.lua) and shown.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import requests
from sqlalchemy import create_engine, select

from referral.auth import totp
from referral.db.models import User

LUA = Path(__file__).resolve().parent / "wrk" / "requests.lua"
CSRF_MARKER = 'name="csrf-token" content="'
WRK_TIMEOUT = "10s"


@dataclass
class Session:
    """A logged-in client: its cookies and the CSRF token API writes send."""

    username: str
    http: requests.Session
    csrf_token: str

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)


def _csrf_token(http: requests.Session, url: str) -> str:
    page = http.get(url, timeout=30)
    if page.status_code != 200 or CSRF_MARKER not in page.text:
        raise SystemExit(f"login FAILED: {url} answered {page.status_code} without a form")
    start = page.text.index(CSRF_MARKER) + len(CSRF_MARKER)
    return page.text[start : page.text.index('"', start)]


def next_code(database_url: str, username: str, seed: str) -> str:
    """A code the server has not accepted yet and will still take: this step's, or, when it
    was used (a code is never accepted twice) or ends within a few seconds, the next step's,
    after waiting for it (the server takes only the current step's code)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            last_step = connection.scalar(
                select(User.totp_last_step).where(User.username == username)
            )
    finally:
        engine.dispose()
    if last_step is None:
        raise SystemExit(f"login FAILED: no account {username!r} in the data set")
    while True:
        now = time.time()
        step = int(now // totp.STEP_SECONDS)
        ends_in = (step + 1) * totp.STEP_SECONDS - now
        if step > last_step and ends_in > 3:
            return pyotp.TOTP(seed).at(step * totp.STEP_SECONDS)
        time.sleep(ends_in + 0.01)


def log_in(base: str, database_url: str, username: str, password: str, seed: str) -> Session:
    """The login form, then the second-factor form, each with its CSRF token; then the
    token API writes carry, from GET /api/v1/me. Any other answer stops the run."""
    http = requests.Session()
    answer = http.post(
        f"{base}/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": _csrf_token(http, f"{base}/login"),
        },
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise SystemExit(
            f"login FAILED for {username}: password step answered {answer.status_code}"
        )
    answer = http.post(
        f"{base}/mfa",
        data={
            "code": next_code(database_url, username, seed),
            "csrf_token": _csrf_token(http, f"{base}/mfa"),
        },
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise SystemExit(f"login FAILED for {username}: code step answered {answer.status_code}")
    me = http.get(f"{base}/api/v1/me", timeout=30)
    if me.status_code != 200 or "X-CSRFToken" not in me.headers:
        raise SystemExit(f"login FAILED for {username}: /api/v1/me answered {me.status_code}")
    return Session(username, http, me.headers["X-CSRFToken"])


@dataclass(frozen=True)
class Workload:
    """One kind of request under load: `targets` are sent in turn (path, body)."""

    name: str
    description: str
    session: Session | None  # None: no login (the floor)
    targets: list[tuple[str, str | None]]
    method: str = "GET"
    json_body: bool = False
    expect: str | None = None  # text the first answer must contain

    def spec(self) -> str:
        lines = [f"method {self.method}"]
        if self.session is not None:
            lines.append(f"header Cookie: {self.session.cookie_header}")
            if self.method != "GET":
                lines.append(f"header X-CSRFToken: {self.session.csrf_token}")
        if self.json_body:
            lines.append("header Content-Type: application/json")
        for path, body in self.targets:
            if "\t" in path or (body and ("\n" in body or "\t" in body)):
                raise ValueError("a target must fit on one line")
            lines.append(f"request {path}\t{body or ''}")
        return "\n".join(lines) + "\n"

    def check(self, base: str) -> None:
        """One plain request, the first target's: it must be 2xx (and show `expect`)."""
        path, body = self.targets[0]
        http = self.session.http if self.session else requests.Session()
        headers = {}
        if self.session is not None and self.method != "GET":
            headers["X-CSRFToken"] = self.session.csrf_token
        if self.json_body:
            headers["Content-Type"] = "application/json"
        answer = http.request(
            self.method, base + path, data=body, headers=headers, allow_redirects=False, timeout=60
        )
        if not 200 <= answer.status_code < 300:
            raise SystemExit(
                f"workload {self.name!r} FAILED its first request: {self.method} {path} "
                f"answered {answer.status_code}\n{answer.text[:2000]}"
            )
        if self.expect is not None and self.expect not in answer.text:
            raise SystemExit(
                f"workload {self.name!r}: the first answer lacks {self.expect!r}:\n"
                f"{answer.text[:2000]}"
            )


@dataclass
class LoadFigures:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    non_2xx: int
    server_errors: int  # 5xx
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    base: str, workload: Workload, work: Path, connections: int, seconds: int, threads: int
) -> LoadFigures:
    spec = work / f"{workload.name}.spec"
    spec.write_text(workload.spec(), encoding="utf-8")
    spec.chmod(0o600)  # it holds a live session cookie
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    command += ["--timeout", WRK_TIMEOUT, "-s", str(LUA), base, "--", str(spec)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    spec.unlink()
    if done.returncode != 0:
        raise SystemExit(f"wrk failed for {workload.name}:\n{done.stdout}\n{done.stderr}")
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures for {workload.name}:\n{done.stdout}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    statuses = {str(k): int(v) for k, v in raw["statuses"].items()}
    duration = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    return LoadFigures(
        requests=raw["requests"],
        seconds=round(duration, 2),
        requests_per_second=round(raw["requests"] / duration, 1),
        p50_ms=round(latency["p50"] / 1e3, 2),
        p90_ms=round(latency["p90"] / 1e3, 2),
        p99_ms=round(latency["p99"] / 1e3, 2),
        max_ms=round(latency["max"] / 1e3, 2),
        statuses=statuses,
        non_2xx=sum(count for status, count in statuses.items() if not status.startswith("2")),
        server_errors=sum(count for status, count in statuses.items() if status.startswith("5")),
        socket_errors={k: int(v) for k, v in raw["socket_errors"].items()},
    )
