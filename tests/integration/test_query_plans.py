"""No main page or API call reads a whole table that grows with the service's use: every
statement it sends finds its rows by an index, so its cost follows what it shows, not how
many children, consents or access-log entries the service holds (issue 18, growth).

The statement-count test (test_statement_counts.py) catches a query per row; this one catches
the other way a page slows down with the years: one query that reads a whole table. Both run
on the same scene and the same requests. A full read shows at any size, so a small scene is
enough to find it, long before a million access-log entries make it felt:

- On SQLite the plan of every statement is asked for (EXPLAIN QUERY PLAN, on the request's own
  connection, with its own parameters). "SCAN <table>" is a read of the whole table, whether
  in the table's order or an index's; a bounded read shows as "SEARCH". A search by a status
  alone counts as a whole read too: it reads every row of the city in that state (see
  SEARCH_BY_STATE).
- On PostgreSQL, whose planner weighs the size of each table (and rightly reads a table of
  ten rows whole), sequential scans are priced out of the plan (enable_seqscan off): a
  "Seq Scan" that is still chosen is a read that no index can serve.

Found and fixed this way: the DPO's alerts read the whole access log twice on every start
page (their queries now let the index on the entry's time find the window), and a district's
lapsing consents read every district's consents (migration 0032); a partner's inbox read every
referral of the city in the inbox's states, the group pages every referral in a group, and
the fee report every place ever taken (migration 0034, and the groups' queries).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.test import TestResponse

from config.settings import Settings
from referral import clock
from referral.db.base import Base
from referral.request_scope import get_database
from referral.roles import Role
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import Factory, log_in
from tests.integration.statement_scene import LARGEST, build_scene
from tests.integration.test_statement_counts import READS, WRITES, Call

# The DPO's search of the access log by each of its filters alone (the statement count tries
# it by person only); by dates alone, it is read in the order of the index on the time.
SEARCHES = (
    Call(
        "DPO: audit search by user",
        Role.DPO,
        lambda s: f"/api/v1/audit/entries?actor={s.accounts[Role.SOCIAL_WORKER].user.username}",
    ),
    Call(
        "DPO: audit search by user id",
        Role.DPO,
        lambda s: f"/api/v1/audit/entries?actor={s.accounts[Role.SOCIAL_WORKER].user.id}",
    ),
    Call(
        "DPO: audit search by organisation",
        Role.DPO,
        lambda s: (
            "/api/v1/audit/entries?organisation_id="
            + s.accounts[Role.SOCIAL_WORKER].user.organisation_id
        ),
    ),
    Call(
        "DPO: audit search by action", Role.DPO, lambda s: "/api/v1/audit/entries?action=child:read"
    ),
    Call(
        "DPO: audit search by dates",
        Role.DPO,
        lambda s: "/api/v1/audit/entries?since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z",
    ),
    Call(
        "DPO: audit search before a date",
        Role.DPO,
        # Entry 2 is in every log of the scene: the next page after it is read by the keyset
        # on the entry's time (a `before` no entry has is read by the sequence instead).
        lambda s: "/api/v1/audit/entries?until=2100-01-01T00:00:00Z&before=2",
    ),
    Call(
        "DPO: audit search for refusals", Role.DPO, lambda s: "/api/v1/audit/entries?outcome=denied"
    ),
)
REQUESTS = READS + SEARCHES + WRITES  # the writes last, as in the statement count
# Beside the requests: the services' writes that build the scene (registering children,
# consents, referrals, groups, enrolments, youths, night places), checked the same way.
BUILDING_THE_SCENE = "the writes that build the scene"
# Tables a request may read whole, and the requests that may, with the reason.
ANY_REQUEST = None
READ_WHOLE: dict[str, tuple[frozenset[str] | None, str]] = {
    "organisations": (
        ANY_REQUEST,
        "the districts and partners: a few dozen rows that grow with the agreements the city "
        "signs, not with children; choosers list them whole",
    ),
    "users": (
        frozenset({"admin: users", "API: users"}),
        "the administrator's list of accounts shows every account",
    ),
    "night_shelters": (
        frozenset({BUILDING_THE_SCENE}),
        "the night places' shelters: a handful, listed whole when the morning's places are given",
    ),
}
# What a plan reads that is no table of the service's: a subquery, a CTE, a constant row.
NOT_A_TABLE = re.compile(r"^\(|^CONSTANT ROW")
SKIPPED_STATEMENTS = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "PRAGMA", "SET")


@dataclass(frozen=True)
class FullRead:
    table: str
    plan: str
    statement: str

    def __str__(self) -> str:
        return f"{self.table} read whole ({self.plan}) by: {' '.join(self.statement.split())}"


def _table_of(scanned: str) -> str | None:
    """The service's table behind a plan's name for it ("children", "children AS c",
    "children_1"), or None for a subquery, CTE or constant row."""
    if NOT_A_TABLE.match(scanned):
        return None
    name = scanned.split(" AS ")[0].split()[0]
    if name in Base.metadata.tables:
        return name
    unaliased = re.sub(r"_\d+$", "", name)
    return unaliased if unaliased in Base.metadata.tables else None


# A search by a state alone: an index on a column of a few values (a status), searched by
# that column only ("(status=?)", an IN list too), finds every row of the city in that
# state, a share of the table that grows with use as a whole read does. SQLite has no
# statistics (ANALYZE is never run), so it may take such an index over a selective one on
# another column the statement also names: the consent write looked for the child's referral
# waiting for consent by child and status, and read every referral waiting for consent in
# the city (5.7 ms a consent at 100 000 children).
SEARCH_BY_STATE = re.compile(
    r"SEARCH (?:TABLE )?(.+?) USING (?:COVERING )?INDEX \w+ \(status[=<>]+\?\)"
)


def sqlite_full_reads(dbapi_connection: Any, statement: str, parameters: Any) -> list[FullRead]:
    rows = dbapi_connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    found = []
    for row in rows:
        detail = str(row[3])
        scanned = re.match(r"SCAN (?:TABLE )?(.+?)(?: USING .*)?$", detail)
        scanned = scanned or SEARCH_BY_STATE.match(detail)
        if scanned is None:
            continue
        table = _table_of(scanned.group(1))
        if table is not None:
            found.append(FullRead(table, detail, statement))
    return found


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def postgresql_full_reads(dbapi_connection: Any, statement: str, parameters: Any) -> list[FullRead]:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            (plan,) = cursor.fetchone()
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")
    if isinstance(plan, str):
        plan = json.loads(plan)
    return [
        FullRead(node["Relation Name"], "Seq Scan", statement)
        for node in _plan_nodes(plan[0]["Plan"])
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in Base.metadata.tables
    ]


class PlanReader:
    """Asks for the plan of every statement the app's engine sends while one request is
    answered, and keeps the whole-table reads found in them."""

    def __init__(self, app: Flask) -> None:
        self.engine = get_database(app).engine
        self.explain = (
            sqlite_full_reads if self.engine.dialect.name == "sqlite" else postgresql_full_reads
        )
        self.statements = 0
        self.found: list[FullRead] = []

    def _sent(
        self,
        connection: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        if executemany or statement.lstrip().upper().startswith(SKIPPED_STATEMENTS):
            return
        self.statements += 1
        self.found += self.explain(connection.connection.dbapi_connection, statement, parameters)

    @contextmanager
    def reading(self) -> Iterator[None]:
        self.statements, self.found = 0, []
        event.listen(self.engine, "after_cursor_execute", self._sent)
        try:
            yield
        finally:
            event.remove(self.engine, "after_cursor_execute", self._sent)

    def read(self, send: Callable[[], TestResponse]) -> int:
        with self.reading():
            return send().status_code


@dataclass(frozen=True)
class Answered:
    status: int
    statements: int
    full_reads: list[FullRead]


@pytest.fixture(scope="module")
def plans(base_settings: Settings) -> Iterator[dict[str, Answered]]:
    moment = clock.now()
    with (
        pytest.MonkeyPatch.context() as patch,
        app_in_rolled_back_transaction(base_settings) as app,
    ):
        patch.setattr(clock, "now", lambda: moment)
        reader = PlanReader(app)
        with reader.reading():
            scene = build_scene(app, Factory(app, base_settings), LARGEST)
        answered = {BUILDING_THE_SCENE: Answered(200, reader.statements, reader.found)}
        clients: dict[Role, FlaskClient] = {}
        for role, account in scene.accounts.items():
            clients[role] = app.test_client()
            log_in(clients[role], account)
        for call in REQUESTS:
            status = reader.read(call.request(clients[call.role], scene))
            answered[call.name] = Answered(status, reader.statements, reader.found)
        yield answered


def growing(name: str, full_reads: list[FullRead], also_allowed: Collection[str] = ()) -> list[str]:
    """The whole-table reads that neither READ_WHOLE allows `name` nor `also_allowed` (a
    caller's own exceptions) names the table of."""
    found = []
    for full_read in full_reads:
        allowed = READ_WHOLE.get(full_read.table)
        if full_read.table in also_allowed or (
            allowed is not None and (allowed[0] is ANY_REQUEST or name in allowed[0])
        ):
            continue
        found.append(str(full_read))
    return found


@pytest.mark.parametrize("call", REQUESTS, ids=lambda call: call.name)
def test_no_request_reads_a_whole_table_that_grows_with_use(
    call: Call, plans: dict[str, Answered]
) -> None:
    answered = plans[call.name]
    assert 200 <= answered.status < 300, f"{call.name}: refused, so nothing was read"
    assert answered.statements > 0
    unlisted = growing(call.name, answered.full_reads)
    assert unlisted == [], f"{call.name} reads whole tables:\n" + "\n".join(unlisted)


def test_the_services_writes_read_no_whole_table_that_grows_with_use(
    plans: dict[str, Answered],
) -> None:
    """Registering children, recording consents, referring, planning and filling groups,
    meeting youths and giving night places: each finds what it checks by an index."""
    answered = plans[BUILDING_THE_SCENE]
    assert answered.statements > 1000
    unlisted = growing(BUILDING_THE_SCENE, answered.full_reads)
    assert unlisted == [], "the scene's writes read whole tables:\n" + "\n".join(unlisted)


def test_a_read_that_no_index_serves_is_found(app: Flask) -> None:
    """The control: a lookup by a column without an index (a consent's party) is reported,
    and the same lookup by an indexed column (its child) is not."""
    reader = PlanReader(app)
    database = get_database(app)
    with database.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        marker = "%(value)s" if reader.engine.dialect.name != "sqlite" else "?"
        value: Any = {"value": "x"} if marker != "?" else ("x",)
        by_party = reader.explain(raw, f"SELECT id FROM consents WHERE party = {marker}", value)
        by_child = reader.explain(raw, f"SELECT id FROM consents WHERE child_id = {marker}", value)
        connection.execute(text("SELECT 1"))  # the connection still answers after the plans
    assert [read.table for read in by_party] == ["consents"]
    assert by_child == []


def test_a_search_by_a_state_alone_is_found_on_sqlite(app: Flask) -> None:
    """The control for searches by state: referrals looked up by their status alone are
    reported (every referral in that state in the city), and a partner's referrals in that
    state, found by the partner and the status together, are not."""
    reader = PlanReader(app)
    if reader.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL weighs its statistics and needs no such check")
    with get_database(app).engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        by_state = reader.explain(raw, "SELECT id FROM referrals WHERE status = ?", ("shared",))
        by_partner = reader.explain(
            raw, "SELECT id FROM referrals WHERE status = ? AND partner_id = ?", ("shared", "p")
        )
    assert [read.table for read in by_state] == ["referrals"]
    assert by_partner == []
