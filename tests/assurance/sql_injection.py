"""SQL injection: sqlmap, the attackers' own tool, against every query parameter and every JSON
body parameter of the API, on the real server, as the roles that may call each operation.

Slow, so not in `make test`: pytest collects this file only when it is named (`make
assurance` runs `pytest tests/assurance/sql_injection.py`). The server is started as `make
run` starts it (gunicorn, two workers) on a database of its own, seeded with the scene of
every main page as tests/assurance/api_fuzz.py widens it: children, custodians, consents,
referrals, groups, youths met by outreach, concern reports and a shelter's nights. The targets
come from /api/v1/openapi.json, so a new operation is scanned without a change here: each
operation with a query or a JSON body is scanned once, as the first role the access-control
matrix (tests/access_matrix.py) lets call it, its path ids naming a real record that role can
see (not 404) and its body filled with values the operation accepts where the document and
the scene allow, so that sqlmap's payloads reach the queries behind it.

sqlmap runs offline on loopback (it never updates itself; its output and home go into a
temporary folder), with bounded techniques, level, risk and time, and its JSON report says
which parameters it found injectable: none may be, and no payload may make the server
answer 5xx (a query broken by one, even where sqlmap cannot exploit it). A throwaway Flask
app in this file, one query built by string formatting and one bound, is the negative
control: the same invocation and the same reading must find the first and only the first,
or the scan of the service proves nothing. SQL_INJECTION_ONLY="POST /api/v1/children"
narrows a run to the operations whose label contains it.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.engine import make_url

from config.settings import Settings
from referral import clock
from referral.db.groups import Enrolment
from referral.db.nights import NightPerson
from referral.db.outreach import Youth
from referral.request_scope import request_session
from referral.roles import Role
from tests.access_matrix import MATRIX
from tests.assurance.api_fuzz import bearer_token, known_ids, widen
from tests.factories import invented_personnummer
from tests.integration.statement_scene import SMALLEST, Scene, build_scene
from tests.live.conftest import LiveServer, ServerStarter
from tests.oidc_provider import serve

SQLMAP = Path(sys.executable).with_name("sqlmap")
# sqlmap's first level and risk, for the server's database (--dbms, below): boolean-based
# blind, inline and UNION payloads on SQLite, and error-based, stacked and time-based ones
# as well on PostgreSQL; no OR payloads (risk 3), which could touch every row. The second
# level (more boundaries, and the cookies) took three times as long; this stays within a
# few minutes on two cores.
SQLMAP_OPTIONS = (
    "--batch",
    "--level=1",
    "--risk=1",
    "--technique=BEUST",
    "--time-sec=2",
    # At most 20 columns: where a refusal reads like ORDER BY working, sqlmap would otherwise
    # widen its UNION search to hundreds of columns, minutes on one parameter.
    "--union-cols=1-20",
    "--threads=1",
    "--timeout=20",
    "--retries=1",
    # Offline and quiet: no colour codes to parse, no WAF probe, no system proxy.
    "--disable-coloring",
    "--skip-waf",
    "--ignore-proxy",
    # The session cookie stays the one signed in; the server's refreshed cookie is ignored.
    "--drop-set-cookie",
)
# Two sqlmap processes at once, one for each of gunicorn's two workers.
PARALLEL_SCANS = 2
SCAN_TIMEOUT_SECONDS = 180

# Each role signs in as api_fuzz's do: the city's systems with an API client's bearer token,
# people with a session cookie and the CSRF token. The first role in this order that the
# access-control matrix lets call an operation is the one that scans it.
WAYS_IN: dict[Role, str] = {
    Role.SOCIAL_WORKER: "bearer",
    Role.GROUP_LEADER: "session",
    Role.LINK_WORKER: "bearer",
    Role.NIGHT_STAFF: "session",
    Role.NIGHT_COORDINATOR: "bearer",
    Role.SOCIAL_EMERGENCY: "session",
    Role.DPO: "session",
    Role.ADMIN: "session",
}

NOT_INJECTABLE = "all tested parameters do not appear to be injectable"
TESTED = re.compile(r"testing for SQL injection on (?:\(custom\) )?(\w+) parameter '([^']+)'")
FUTURE_DATES = frozenset({"expires_on", "valid_until", "next_due_on", "closes_on"})
# A field whose keys are ids (the document cannot say which): the record its keys name.
FREE_KEYS = {"present": "enrolment_id"}
# sqlmap's closing summary of the error statuses it was answered, e.g. "500 (Internal Server
# Error) - 4 times": a payload that breaks a query shows as one even where sqlmap cannot
# exploit it (a length limit that cuts its longer payloads, say).
SERVER_ERRORS = re.compile(r"\b5\d\d \([^)]*\) - (\d+) times?")
FLASK_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Credentials:
    headers: dict[str, str]
    cookie: str = ""


@dataclass(frozen=True)
class Target:
    """One request for sqlmap to take apart: its query and JSON body are the parameters."""

    label: str
    method: str
    url: str
    body: dict[str, Any] | None = None
    parameters: tuple[str, ...] = ()
    # Keys of the body that are themselves values (ids), marked for sqlmap to inject into.
    marked_keys: tuple[str, ...] = ()

    def data(self) -> str:
        data = json.dumps(self.body)
        for key in self.marked_keys:
            data = data.replace(json.dumps(key) + ":", json.dumps(key + "*") + ":")
        return data


@dataclass
class Scan:
    target: Target
    tested: set[str] = field(default_factory=set)  # "GET name", "JSON name" …
    injectable: list[str] = field(default_factory=list)
    problem: str = ""  # sqlmap could not finish: the target is not proven either way
    server_errors: int = 0  # payloads the server answered with a 5xx
    output: str = ""
    seconds: float = 0.0


# --- sqlmap ------------------------------------------------------------------------------


def sqlmap(target: Target, credentials: Credentials, dbms: str, folder: Path) -> Scan:
    """Run sqlmap once on `target`; which parameters it tested and found injectable."""
    folder.mkdir(parents=True)
    report = folder / "report.json"
    command = [str(SQLMAP), *SQLMAP_OPTIONS, f"--dbms={dbms}", "-u", target.url]
    command += ["--method", target.method, f"--output-dir={folder / 'output'}"]
    command += [f"--report-json={report}"]
    if target.body is not None:
        command += ["--data", target.data()]
    for name, value in credentials.headers.items():
        command += ["-H", f"{name}: {value}"]
    if credentials.cookie:
        command += [f"--cookie={credentials.cookie}"]
    # HOME too: sqlmap keeps its history and data under the user's home, never the repo's.
    environment = {**os.environ, "HOME": str(folder)}
    scan = Scan(target)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,  # sqlmap asks some questions even in batch mode
            capture_output=True,
            text=True,
            timeout=SCAN_TIMEOUT_SECONDS,
            env=environment,
            cwd=folder,
            check=False,
        )
    except subprocess.TimeoutExpired as stopped:
        scan.problem = f"sqlmap did not finish within {SCAN_TIMEOUT_SECONDS} s"
        partial = stopped.output or b""
        scan.output = partial.decode() if isinstance(partial, bytes) else partial
        return scan
    scan.output = completed.stdout + completed.stderr
    scan.seconds = time.monotonic() - started
    scan.tested = {f"{place} {name}" for place, name in TESTED.findall(scan.output)}
    scan.server_errors = sum(int(count) for count in SERVER_ERRORS.findall(scan.output))
    if not report.exists():
        scan.problem = f"sqlmap exited with {completed.returncode} and wrote no report"
        return scan
    for item in json.loads(report.read_text(encoding="utf-8")).get("data", []):
        if item.get("type_name") == "TECHNIQUES":
            for point in item["value"]:
                scan.injectable.append(f"{point['place']} {point['parameter']}")
    # sqlmap ends with a verdict: the injection points it found, or that none of the
    # parameters it tested appears injectable. Anything else (a 404, no parameter found, a
    # connection lost) leaves the target unproven.
    if not scan.injectable and NOT_INJECTABLE not in scan.output:
        critical = [line for line in scan.output.splitlines() if "[CRITICAL]" in line]
        scan.problem = "; ".join(critical) or f"sqlmap exited with {completed.returncode}"
    return scan


def scan_all(targets: list[tuple[Target, Credentials]], dbms: str, folder: Path) -> list[Scan]:
    with ThreadPoolExecutor(max_workers=PARALLEL_SCANS) as pool:
        jobs = [
            pool.submit(sqlmap, target, credentials, dbms, folder / f"scan-{n}")
            for n, (target, credentials) in enumerate(targets)
        ]
        return [job.result() for job in jobs]


# --- The negative control ----------------------------------------------------------------


def control_app() -> Flask:
    """A throwaway app over SQLite: one lookup formats the value into its SQL (injectable),
    the same lookup beside it binds it, as the service does."""
    app = Flask("sql-injection-control")
    database = sqlite3.connect(":memory:", check_same_thread=False)
    database.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, name TEXT)")
    database.executemany("INSERT INTO child (name) VALUES (?)", [("Anna",), ("Bo",), ("Cia",)])
    lock = threading.Lock()

    def answer(sql: str, *bound: str) -> ResponseReturnValue:
        with lock:
            try:
                rows = database.execute(sql, bound).fetchall()
            except sqlite3.Error:
                return jsonify(title="Bad request"), 400
        return jsonify([{"id": row[0], "name": row[1]} for row in rows])

    @app.get("/formatted")
    def formatted() -> ResponseReturnValue:
        name = request.args.get("name", "")
        # The flaw, on purpose: the value becomes part of the SQL.
        return answer(f"SELECT id, name FROM child WHERE name = '{name}'")

    @app.post("/formatted")
    def formatted_body() -> ResponseReturnValue:
        name = str((request.get_json(silent=True) or {}).get("name", ""))
        return answer(f"SELECT id, name FROM child WHERE name = '{name}'")

    @app.get("/bound")
    def bound() -> ResponseReturnValue:
        return answer("SELECT id, name FROM child WHERE name = ?", request.args.get("name", ""))

    @app.post("/bound")
    def bound_body() -> ResponseReturnValue:
        name = str((request.get_json(silent=True) or {}).get("name", ""))
        return answer("SELECT id, name FROM child WHERE name = ?", name)

    return app


# --- The targets, from the OpenAPI document ----------------------------------------------


@dataclass(frozen=True)
class Records:
    """The seeded records a request may name, by the name of the parameter or field."""

    ids: dict[str, str]
    lists: dict[str, list[str]]
    paths: dict[str, list[str]]  # a few candidates per path parameter, the scene's own first


def records(app: Flask, scene: Scene) -> Records:
    paths = known_ids(app, scene)
    ids = {name: values[0] for name, values in paths.items()}
    accounts = scene.accounts
    with app.app_context():
        session = request_session()
        youths = list(session.scalars(select(Youth.id).order_by(Youth.id)))
        enrolment = session.scalars(
            select(Enrolment.id).where(Enrolment.group_id == scene.group_id).limit(1)
        ).first()
        card = session.scalars(
            select(NightPerson.card_number).where(NightPerson.card_number.is_not(None)).limit(1)
        ).first()
    today = clock.today()
    ids |= {
        "partner_id": accounts[Role.GROUP_LEADER].user.organisation_id or "",
        "district_id": accounts[Role.SOCIAL_WORKER].user.organisation_id or "",
        "organisation_id": accounts[Role.NIGHT_STAFF].user.organisation_id or "",
        "other_id": next(y for y in youths if y != scene.youth_id),
        "enrolment_id": enrolment or "",
        "card_number": card or "",
        "personnummer": invented_personnummer(clock.today().year - 9, 4, 4),
        "day": scene.night.isoformat(),
        "night": today.isoformat(),  # a night not yet over, whose capacity may change
        "birth_year": str(today.year - 17),  # within every programme's ages
        "identifier": "19900101",  # a look-up takes digits only
        "org_number": with_check_digit("556000000"),
        "reference": ids.get("report_id", "")[:8],  # a concern report's, as the DPO types it
    }
    lists = {
        "leader_ids": [accounts[Role.GROUP_LEADER].user.id],
        "card_numbers": [card or ""],
    }
    return Records(ids, lists, paths)


def with_check_digit(digits: str) -> str:
    """An invented Swedish organisation number: nine digits and their Luhn check digit."""
    total = sum(sum(divmod(int(d) * (2 - n % 2), 10)) for n, d in enumerate(digits))
    return digits + str(-total % 10)


def resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged |= resolved(document, part)
        return merged
    return schema


def example(document: dict[str, Any], name: str, schema: dict[str, Any], known: Records) -> Any:
    """A value the operation should accept: a seeded record's id where the name says so, the
    document's example, its first allowed value, or one within its bounds."""
    schema = resolved(document, schema)
    if name in known.lists:
        return known.lists[name]
    if name in known.ids and schema.get("type", "string") == "string":
        return known.ids[name]
    if name in known.ids and schema.get("type") == "integer":
        return int(known.ids[name])
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "string")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):  # the least allowed (places reserved within the total)
        return schema.get("minimum", 1)
    if kind == "array":
        return [example(document, name, schema.get("items", {}), known)]
    if kind == "object" and "properties" in schema:
        properties = schema["properties"]
        return {key: example(document, key, value, known) for key, value in properties.items()}
    if kind == "object":  # free keys (attendance: present or not per enrolment id)
        values = schema.get("additionalProperties", {})
        key = known.ids.get(FREE_KEYS.get(name, ""), "Exempeltext")
        return {key: example(document, "", values if isinstance(values, dict) else {}, known)}
    if schema.get("format") == "date":  # today, or a week ahead for an end or a deadline
        ahead = name in FUTURE_DATES
        return (clock.today() + timedelta(days=7 if ahead else 0)).isoformat()
    if schema.get("format") == "date-time":
        return datetime.now().astimezone().isoformat(timespec="seconds")
    text = "Exempeltext"
    return text[: schema.get("maxLength", len(text))]


def targets_of(document: dict[str, Any], base: str, known: Records) -> list[list[Target]]:
    """Every operation with a query or a JSON body, as valid-looking requests: a few, on
    different records where its path names one (the first the caller may see is used)."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            parameters = [resolved_parameter(document, p) for p in parameters]
            in_path = [p["name"] for p in parameters if p["in"] == "path"]
            choices = max([1, *(len(known.paths.get(name, [])) for name in in_path)])
            urls = []
            for choice in range(choices):
                url = path
                for name in in_path:
                    candidates = known.paths.get(name, ["0"])
                    url = url.replace(
                        "{" + name + "}", candidates[min(choice, len(candidates) - 1)]
                    )
                urls.append(url)
            query = {
                p["name"]: example(document, p["name"], p.get("schema", {}), known)
                for p in parameters
                if p["in"] == "query"
            }
            content = operation.get("requestBody", {}).get("content", {})
            body_schema = content.get("application/json", {}).get("schema")
            body = example(document, "", body_schema, known) if body_schema else None
            names = [f"query {n}" for n in query] + [f"body {n}" for n in body or {}]
            if not names:
                continue
            query_string = f"?{urlencode(query, doseq=True)}" if query else ""
            label = f"{method.upper()} {path}"
            marked = [key for name in FREE_KEYS for key in (body or {}).get(name, {})]
            found.append(
                [
                    Target(
                        label,
                        method.upper(),
                        f"{base}{url}{query_string}",
                        body,
                        tuple(names),
                        tuple(marked),
                    )
                    for url in dict.fromkeys(urls)
                ]
            )
    return found


def resolved_parameter(document: dict[str, Any], parameter: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in parameter:
        parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
    return parameter


def first_role(app: Flask, document: dict[str, Any]) -> dict[str, Role]:
    """Per operation label, the first role (WAYS_IN's order) the access matrix lets call it."""
    chosen = {}
    for rule in app.url_map.iter_rules():
        path = FLASK_PARAMETER.sub(r"{\1}", rule.rule)
        if path not in document["paths"]:
            continue
        for method in rule.methods or ():
            row = MATRIX.get(f"{method} {rule.endpoint}")
            if row is None:
                continue
            allowed = [role for role in WAYS_IN if role in row.roles]
            if allowed:
                chosen[f"{method} {path}"] = allowed[0]
    return chosen


# --- The server and its callers ----------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    server: LiveServer
    scene: Scene
    app: Flask


@pytest.fixture(scope="module")
def deployment(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """gunicorn as `make run` starts it, on a seeded database of its own. sqlmap sends
    thousands of requests: the API clients' limit of 120 a minute would refuse most."""
    starter = ServerStarter(base_settings, tmp_path_factory)
    with starter("sqlmap", API_CLIENT_RATE_LIMIT="1000000 per minute") as server:
        app = server.factory.app
        scene = widen(app, server.factory, build_scene(app, server.factory, SMALLEST))
        yield Deployment(server, scene, app)


def credentials_of(deployment: Deployment, role: Role) -> Credentials:
    account = deployment.scene.accounts[role]
    if WAYS_IN[role] == "bearer":
        token = bearer_token(deployment.app, account, role, f"sqlmap {role.value}")
        return Credentials({"Authorization": f"Bearer {token}"})
    http = deployment.server.log_in(account)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    return Credentials({"X-CSRFToken": str(http.headers["X-CSRFToken"])}, cookie)


def database_kind(url: str) -> str:
    return "PostgreSQL" if make_url(url).get_backend_name() == "postgresql" else "SQLite"


def as_requests(credentials: Credentials) -> requests.Session:
    http = requests.Session()
    http.headers.update(credentials.headers)
    for pair in filter(None, credentials.cookie.split("; ")):
        name, value = pair.split("=", 1)
        http.cookies.set(name, value)
    return http


# --- The tests ---------------------------------------------------------------------------


def test_the_harness_finds_a_formatted_query_and_not_a_bound_one(tmp_path: Path) -> None:
    """The negative control: without it, a scan that finds nothing could be a scan that
    cannot find anything."""
    with serve(control_app()) as base:
        targets = [
            Target("GET /formatted", "GET", f"{base}/formatted?name=Anna"),
            Target("POST /formatted", "POST", f"{base}/formatted", {"name": "Anna"}),
            Target("GET /bound", "GET", f"{base}/bound?name=Anna"),
            Target("POST /bound", "POST", f"{base}/bound", {"name": "Anna"}),
        ]
        scans = scan_all([(t, Credentials({})) for t in targets], "SQLite", tmp_path)
    found = {scan.target.label: scan.injectable for scan in scans}
    print(f"\nnegative control: {found}")
    assert found == {
        "GET /formatted": ["GET name"],
        "POST /formatted": ["(custom) POST JSON name"],
        "GET /bound": [],
        "POST /bound": [],
    }, "\n\n".join(scan.output for scan in scans)
    assert all(scan.tested for scan in scans), "sqlmap tested no parameter of a control"


@pytest.mark.asvs("V1.2.4")
def test_no_query_or_body_parameter_of_the_api_is_injectable(
    deployment: Deployment, tmp_path: Path
) -> None:
    started = time.monotonic()
    server = deployment.server
    admin = credentials_of(deployment, Role.ADMIN)
    document = as_requests(admin).get(f"{server.url}/api/v1/openapi.json").json()
    roles = first_role(deployment.app, document)
    only = os.environ.get("SQL_INJECTION_ONLY", "")
    operations = [
        alternatives
        for alternatives in targets_of(
            document, server.url, records(deployment.app, deployment.scene)
        )
        if only in alternatives[0].label
    ]
    unmapped = [op[0].label for op in operations if op[0].label not in roles]
    assert not unmapped, f"operations no role of the access matrix may call: {unmapped}"
    callers = {role: credentials_of(deployment, role) for role in set(roles.values())}
    # Each operation once, on the first record its role may see (not 404). How the request
    # as sent is answered: a 2xx proves the parameters reach the queries; a 4xx about the
    # content means they passed through the schema's validation at least.
    reached: Counter[str] = Counter()
    refused: list[str] = []
    targets = []
    for alternatives in operations:
        http = as_requests(callers[roles[alternatives[0].label]])
        for target in alternatives:
            answer = http.request(
                target.method,
                target.url,
                json=target.body,
                timeout=30,
            )
            assert answer.status_code < 500, f"{target.label}: {answer.status_code}"
            if answer.status_code != 404:
                break
        targets.append(target)
        reached["2xx" if answer.status_code < 300 else str(answer.status_code)] += 1
        if answer.status_code >= 300:
            detail = answer.json().get("detail", "") if answer.content else ""
            refused.append(f"{target.label} {answer.status_code} ({detail[:100]})")
    scans = scan_all(
        [(t, callers[roles[t.label]]) for t in targets],
        database_kind(server.settings.database_url),
        tmp_path,
    )
    per_role: dict[Role, list[Scan]] = {}
    for scan in scans:
        per_role.setdefault(roles[scan.target.label], []).append(scan)
    print(f"\nsqlmap on {len(targets)} operations (their requests as sent: {dict(reached)})")
    for role, done in per_role.items():
        tested = sum(len(scan.tested) for scan in done)
        print(f"  {role.value} ({WAYS_IN[role]}): {len(done)} operations, {tested} parameters")
    print("  answered 4xx as sent, so their payloads stop at the service's checks:")
    print("".join(f"    {line}\n" for line in refused), end="")
    slowest = sorted(scans, key=lambda scan: -scan.seconds)[:3]
    print("  slowest: " + ", ".join(f"{s.target.label} {s.seconds:.0f} s" for s in slowest))
    total = sum(len(scan.tested) for scan in scans)
    print(f"  {total} parameters in {time.monotonic() - started:.0f} s")
    injectable = {s.target.label: s.injectable for s in scans if s.injectable}
    unfinished = {s.target.label: s.problem for s in scans if s.problem}
    untested = {s.target.label: s.target.parameters for s in scans if not s.tested}
    assert not injectable, f"sqlmap found injectable parameters: {injectable}"
    failing = {s.target.label: s.server_errors for s in scans if s.server_errors}
    assert not failing, f"sqlmap's payloads made the server fail (5xx answers): {failing}"
    assert not unfinished, f"sqlmap could not finish: {unfinished}"
    assert not untested, f"sqlmap tested no parameter of: {untested}"
