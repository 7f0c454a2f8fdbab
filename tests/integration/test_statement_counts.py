"""The number of SQL statements a main page or API call executes does not grow with what it
lists: a query per row (a lazy load, an audit insert, a data-key fetch per child) fails here,
long before it is felt at ten thousand children.

Each request is made against two scenes that differ only in how many rows every page lists
(tests/integration/statement_scene.py: 5 and 8 children in a group, 17 and 29 referrals in
the partner's inbox…), by the role whose page it is, after forgetting every unwrapped data key
(so a key fetched per row is counted, as on a cold worker). The count at the larger size must
equal the count at the smaller, and stay within HEADROOM of the request's figure in
STATEMENTS, so that a regression by a constant number of statements fails too. Each request
must answer 200 at both sizes: a refusal passes nothing.

Counted: every statement sent to the database (`before_cursor_execute` on the app's engine),
including the SAVEPOINT and RELEASE of the tests' rolled-back transaction where the service
would send BEGIN and COMMIT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from config.settings import Settings
from referral import clock
from referral.request_scope import get_database
from referral.roles import Role
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import Factory, consent_body, log_in
from tests.integration.statement_scene import DESCRIPTION, LARGEST, SMALLEST, Scene, build_scene


@dataclass(frozen=True)
class Call:
    name: str
    role: Role
    path: Callable[[Scene], str]
    # A write: its JSON body, sent with POST and the session's CSRF token.
    body: Callable[[Scene], dict[str, object]] | None = None

    def request(self, client: FlaskClient, scene: Scene) -> Callable[[], TestResponse]:
        """The request, ready to send: a write first reads the CSRF token an API client
        sends (from GET /api/v1/me), so that this read is not counted with the write."""
        path = self.path(scene)
        if self.body is None:
            return lambda: client.get(path)
        body = self.body(scene)
        headers = {"X-CSRFToken": client.get("/api/v1/me").headers["X-CSRFToken"]}
        return lambda: client.post(path, json=body, headers=headers)


READS = (
    Call("social worker: start page", Role.SOCIAL_WORKER, lambda s: "/"),
    Call("social worker: children", Role.SOCIAL_WORKER, lambda s: "/children"),
    Call("social worker: a child", Role.SOCIAL_WORKER, lambda s: f"/children/{s.child_id}"),
    Call("social worker: notifications", Role.SOCIAL_WORKER, lambda s: "/notifications"),
    Call("social worker: consents lapsing", Role.SOCIAL_WORKER, lambda s: "/consents/expiring"),
    Call("group leader: start page", Role.GROUP_LEADER, lambda s: "/"),
    Call("group leader: inbox", Role.GROUP_LEADER, lambda s: "/partner/referrals"),
    Call(
        "group leader: a referral's file",
        Role.GROUP_LEADER,
        lambda s: f"/partner/referrals/{s.referral_id}/notes",
    ),
    Call("group leader: notifications", Role.GROUP_LEADER, lambda s: "/notifications"),
    Call("group leader: groups", Role.GROUP_LEADER, lambda s: "/partner/groups"),
    Call("group leader: a group", Role.GROUP_LEADER, lambda s: f"/partner/groups/{s.group_id}"),
    Call("link worker: start page", Role.LINK_WORKER, lambda s: "/"),
    Call("link worker: encounters", Role.LINK_WORKER, lambda s: "/outreach"),
    Call("link worker: youths", Role.LINK_WORKER, lambda s: "/outreach/youths"),
    Call("link worker: a youth", Role.LINK_WORKER, lambda s: f"/outreach/youths/{s.youth_id}"),
    Call("night staff: desk", Role.NIGHT_STAFF, lambda s: "/nights/desk"),
    Call(
        "night staff: a shelter's night",
        Role.NIGHT_STAFF,
        lambda s: f"/nights/shelters/{s.shelter_id}/tonight?night={s.night.isoformat()}",
    ),
    Call("DPO: start page", Role.DPO, lambda s: "/"),
    Call("DPO: audit search by person", Role.DPO, lambda s: f"/dpo/audit?subject={s.child_id}"),
    Call("DPO: alerts", Role.DPO, lambda s: "/dpo/alerts"),
    Call("admin: users", Role.ADMIN, lambda s: "/admin/users"),
    Call("API: children", Role.SOCIAL_WORKER, lambda s: "/api/v1/children"),
    Call("API: a child", Role.SOCIAL_WORKER, lambda s: f"/api/v1/children/{s.child_id}"),
    Call("API: referrals", Role.SOCIAL_WORKER, lambda s: "/api/v1/referrals"),
    Call("API: a referral", Role.SOCIAL_WORKER, lambda s: f"/api/v1/referrals/{s.referral_id}"),
    Call("API: partner's referrals", Role.GROUP_LEADER, lambda s: "/api/v1/partner/referrals"),
    Call("API: partner's groups", Role.GROUP_LEADER, lambda s: "/api/v1/partner/groups"),
    Call("API: a group", Role.GROUP_LEADER, lambda s: f"/api/v1/partner/groups/{s.group_id}"),
    Call(
        "API: a referral's file",
        Role.GROUP_LEADER,
        lambda s: f"/api/v1/partner/referrals/{s.referral_id}/notes",
    ),
    Call("API: notifications", Role.SOCIAL_WORKER, lambda s: "/api/v1/notifications"),
    Call("API: youths", Role.LINK_WORKER, lambda s: "/api/v1/outreach/youths"),
    Call(
        "API: audit entries by person",
        Role.DPO,
        lambda s: f"/api/v1/audit/entries?subject={s.child_id}",
    ),
    Call("API: users", Role.ADMIN, lambda s: "/api/v1/users"),
)
WRITES = (
    Call(
        "API: record a consent",
        Role.SOCIAL_WORKER,
        lambda s: f"/api/v1/children/{s.child_id}/consents",
        body=lambda s: consent_body("child", DESCRIPTION),
    ),
)
CALLS = READS + WRITES  # the writes last: what they change is in no read measured

# What each request executed when this table was last set, at either size and on SQLite and
# PostgreSQL alike (the test prints today's figures: `pytest -s`). A request may exceed its
# figure by HEADROOM (a new check or section on a page); more than that is a regression to
# look at, or a change to record here on purpose.
STATEMENTS: dict[str, int] = {
    "social worker: start page": 24,
    "social worker: children": 18,
    "social worker: a child": 33,
    "social worker: notifications": 20,
    "social worker: consents lapsing": 16,
    "group leader: start page": 24,
    "group leader: inbox": 28,
    "group leader: a referral's file": 18,
    "group leader: notifications": 21,
    "group leader: groups": 23,
    "group leader: a group": 19,
    "link worker: start page": 8,
    "link worker: encounters": 7,
    "link worker: youths": 15,
    "link worker: a youth": 35,
    "night staff: desk": 6,
    "night staff: a shelter's night": 11,
    "DPO: start page": 15,
    "DPO: audit search by person": 13,
    "DPO: alerts": 11,
    "admin: users": 8,
    "API: children": 14,
    "API: a child": 21,
    "API: referrals": 14,
    "API: a referral": 15,
    "API: partner's referrals": 11,
    "API: partner's groups": 16,
    "API: a group": 16,
    "API: a referral's file": 15,
    "API: notifications": 6,
    "API: youths": 9,
    "API: audit entries by person": 7,
    "API: users": 8,
    "API: record a consent": 17,
}
HEADROOM = 3


@dataclass(frozen=True)
class Measured:
    status: int
    statements: int


class StatementCounter:
    """Counts the statements the app's engine sends while one request is answered."""

    def __init__(self, app: Flask) -> None:
        self.engine = get_database(app).engine
        self.count = 0

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def measure(self, send: Callable[[], TestResponse]) -> Measured:
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            response = send()
        finally:
            event.remove(self.engine, "before_cursor_execute", self._seen)
        return Measured(response.status_code, self.count)


def _measure_scene(settings: Settings, rows: int) -> dict[str, Measured]:
    with app_in_rolled_back_transaction(settings) as app:
        scene = build_scene(app, Factory(app, settings), rows)
        clients: dict[Role, FlaskClient] = {}
        for role, account in scene.accounts.items():
            clients[role] = app.test_client()
            log_in(clients[role], account)
        cipher = get_database(app).cipher
        assert cipher is not None
        counter = StatementCounter(app)
        measured = {}
        for call in CALLS:
            cipher.keys.cache.clear()  # a data key fetched per row costs a statement per row
            measured[call.name] = counter.measure(call.request(clients[call.role], scene))
        return measured


@pytest.fixture(scope="module")
def counts(base_settings: Settings) -> Iterator[dict[int, dict[str, Measured]]]:
    # One moment for the whole module: the session's last-seen time is written at most once
    # a minute, and a slow scene must not make that write land inside one measurement only.
    moment = clock.now()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: moment)
        measured = {rows: _measure_scene(base_settings, rows) for rows in (SMALLEST, LARGEST)}
    print(f"\nstatements per request (rows: {SMALLEST} → {LARGEST})")
    for call in CALLS:
        small, large = measured[SMALLEST][call.name], measured[LARGEST][call.name]
        print(f"  {call.name:<40} {small.statements:>5} {large.statements:>5}")
    yield measured


def test_every_request_has_a_figure_in_the_table() -> None:
    assert set(STATEMENTS) == {call.name for call in CALLS}


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.name)
def test_statements_per_request_do_not_grow_with_the_rows_listed(
    call: Call,
    counts: dict[int, dict[str, Measured]],
    record_property: Callable[[str, object], None],
) -> None:
    small, large = counts[SMALLEST][call.name], counts[LARGEST][call.name]
    record_property(f"statements_at_{SMALLEST}_rows", small.statements)
    record_property(f"statements_at_{LARGEST}_rows", large.statements)
    answered = (small.status, large.status)
    assert all(200 <= status < 300 for status in answered), f"{call.name}: {answered}"
    both = (
        f"{call.name}: {small.statements} statements with {SMALLEST} rows, "
        f"{large.statements} with {LARGEST}"
    )
    assert large.statements == small.statements, f"{both}: a statement per row"
    ceiling = STATEMENTS[call.name] + HEADROOM
    assert large.statements <= ceiling, f"{both}, more than its ceiling of {ceiling}"
