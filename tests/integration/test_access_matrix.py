"""The access-control matrix (tests/access_matrix.py) walked against the real app.

Every role, an anonymous visitor and a session with only the password, against every route
and method, with a record of their own organisation and of another (or of their own
programme and of another) where the route names one, through the Flask test client: the
outcome each gets must be the one the table declares, never a 5xx, and every route must have
a row, so a new route without one fails.

Proves OWASP ASVS 5.0 V8 Authorization: 8.2.1 (function-level access: each route only for
the roles the table names), 8.2.2 (data-specific access: another organisation's or
programme's record is refused, as not found), 8.3.1 (enforced at the server, on every route
and method) and 8.1.1 (the rules written down, as the table).

The scene (tests/integration/access_scene.py) is built once for the module inside one
transaction that is rolled back at the end; each case runs in a savepoint of its own, rolled
back after it, so a write that succeeds (a user disabled, a referral withdrawn, a logout)
changes nothing for the next case. Each visitor logs in once; every case starts from that
session's cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from werkzeug.test import TestResponse

from config.settings import Settings
from referral import clock, create_app
from referral.request_scope import get_database
from referral.roles import Role
from tests.access_matrix import (
    ALLOWED,
    ANONYMOUS,
    KNOWN_BUGS,
    MATRIX,
    PASSWORD_ONLY,
    VARIANTS,
    WHO,
    WRITES,
    Access,
    Expected,
    Outcome,
    Row,
    Variant,
)
from tests.conftest import rolled_back
from tests.factories import Factory, csrf_token, log_in, log_in_with_password
from tests.integration.access_filling import (
    PARAMETERS,
    Request,
    filling_for,
    on_of,
    request_for,
)
from tests.integration.access_scene import Scene, build_scene
from tests.integration.test_audit_log import with_own_checkpoints

# Each visitor calls from an address of its own, so that a public form's per-address limit
# (a few sendings an hour) is not spent by the others.
ADDRESSES = {who: f"127.0.1.{n}" for n, who in enumerate(WHO, start=1)}


class Case(NamedTuple):
    key: str  # "METHOD endpoint"
    who: str
    variant: Variant


def _variants(row: Row, who: str) -> tuple[Variant, ...]:
    """A role the row names is walked with each record; anyone else is refused by the gate
    before any record is loaded (referral.web.access.gate decides on the route alone), so
    one record (their own organisation's or programme's) is enough."""
    variants = VARIANTS[row.on]
    named = row.access is Access.ROLES and who in {role.value for role in row.roles}
    return variants if named else variants[:1]


def every_case() -> list[Case]:
    """Every case the matrix walks: each row, as everyone, with each record it names."""
    return [
        Case(key, who, variant)
        for key, row in MATRIX.items()
        for who in WHO
        for variant in _variants(row, who)
    ]


def _params() -> Iterator[object]:
    """Each case, named "METHOD endpoint as who (variant)"; a known bug's is xfail."""
    for case in every_case():
        bug = KNOWN_BUGS.get(case.key, {}).get(case.who, {}).get(case.variant)
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        label = f"{case.key} as {case.who}" + (f" ({case.variant})" if case.variant else "")
        yield pytest.param(case, id=label, marks=marks)


# --- the outcome a response is, and the one the table declares ------------------------------


def outcome_of(response: TestResponse) -> Outcome:
    status = response.status_code
    if status >= 500:
        return Outcome.ERROR
    if 300 <= status < 400:
        # The gate sends a page's visitor to the login with where they were going, and a
        # password-only session to the second factor; any other redirect is the route's own.
        target = urlsplit(response.location or "")
        if target.path == "/login" and "next" in parse_qs(target.query):
            return Outcome.LOGIN
        if target.path == "/mfa":
            return Outcome.SECOND_FACTOR
        return Outcome.OK
    if status < 300:
        return Outcome.OK
    known = {
        401: Outcome.UNAUTHENTICATED,
        403: Outcome.FORBIDDEN,
        404: Outcome.HIDDEN,
        429: Outcome.TOO_MANY,
    }
    return known.get(status, Outcome.INVALID)


def expected(row: Row, request: Request, who: str, variant: Variant) -> set[Outcome]:
    declared = _declared(row, request.is_api, who, variant)
    if declared != ALLOWED:
        return {Outcome(declared)}
    return {Outcome.OK, Outcome.INVALID} if request.method in WRITES else {Outcome.OK}


def _declared(row: Row, is_api: bool, who: str, variant: Variant) -> Expected:
    if who in row.by_who:
        return row.by_who[who]
    if row.access is Access.PUBLIC:
        return row.everyone
    if who == ANONYMOUS:
        return Outcome.UNAUTHENTICATED if is_api else Outcome.LOGIN
    if row.access is Access.SIGNED_IN:
        return ALLOWED
    if who == PASSWORD_ONLY:
        return Outcome.UNAUTHENTICATED if is_api else Outcome.SECOND_FACTOR
    role = Role(who)
    if role not in row.roles:
        return Outcome.FORBIDDEN
    if variant is Variant.OTHER_ORG:
        return row.other_org[role]
    if variant is Variant.OTHER_PROGRAMME:
        return row.other_programme[role]
    return row.own.get(role, ALLOWED)


# --- the walk --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    session_cookie: str | None
    csrf_token: str


@dataclass
class Walk:
    app: Flask
    connection: Connection
    scene: Scene
    visitors: dict[str, Visitor]

    def request(self, case: Case) -> Request:
        return request_for(
            self.app.url_map, case.key, filling_for(self.scene, case.who, case.variant)
        )

    def client(self, who: str) -> FlaskClient:
        """A client holding the session `who` logged in with (none for the anonymous)."""
        visitor = self.visitors[who]
        client = self.app.test_client()
        if visitor.session_cookie is not None:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], visitor.session_cookie)
        return client

    def send(self, case: Case, request: Request) -> TestResponse:
        visitor = self.visitors[case.who]
        client = self.client(case.who)
        savepoint = self.connection.begin_nested()
        try:
            response = client.open(
                request.path,
                method=request.method,
                query_string=request.query,
                headers={"X-CSRFToken": visitor.csrf_token},
                environ_base={"REMOTE_ADDR": ADDRESSES[case.who]},
                buffered=True,
                json=request.body if request.is_api else None,
                data=None if request.is_api else request.body,
            )
            response.get_data()  # a streamed body is read before its transaction ends
        finally:
            savepoint.rollback()
        return response


def _visitor(app: Flask, client: FlaskClient, page: str) -> Visitor:
    """The session a client holds, and its CSRF token (read from `page`): every write is
    sent with it, so that what answers is the authorization, not the CSRF check."""
    token = csrf_token(client, page)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return Visitor(cookie.value if cookie else None, token)


def _visitors(app: Flask, scene: Scene) -> dict[str, Visitor]:
    visitors = {ANONYMOUS: _visitor(app, app.test_client(), "/login")}
    half = app.test_client()
    assert log_in_with_password(half, scene.accounts[Role.ADMIN]).status_code == 302
    visitors[PASSWORD_ONLY] = _visitor(app, half, "/mfa")
    for role, account in scene.accounts.items():
        client = app.test_client()
        log_in(client, account)
        visitors[role.value] = _visitor(app, client, "/")
    return visitors


@pytest.fixture(scope="module")
def walk(base_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    """The app in one transaction rolled back at the end, its clock stopped when the walk
    starts: each case's savepoint is rolled back, so a session's last-seen time would
    otherwise be written anew by every request once a minute had passed. Checkpoints of its
    own: the DPO's "sign a checkpoint now" is walked too, and a checkpoint of this rolled-back
    log in the session's folder would fail every later verification."""
    moment = clock.now()
    settings = with_own_checkpoints(base_settings, tmp_path_factory.mktemp("access-matrix"))
    app = create_app(settings)
    try:
        with rolled_back(app) as connection, pytest.MonkeyPatch.context() as patch:
            patch.setattr(clock, "now", lambda: moment)
            scene = build_scene(app, Factory(app, settings))
            yield Walk(app, connection, scene, _visitors(app, scene))
    finally:
        get_database(app).engine.dispose()


def _routes(app: Flask) -> dict[str, set[str]]:
    """Every "METHOD endpoint" of the app but Flask's static files, with its URL's
    parameter names."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found[f"{method} {rule.endpoint}"] = set(rule.arguments)
    return found


# --- the tests -------------------------------------------------------------------------------


def test_every_route_has_a_row_in_the_matrix(walk: Walk) -> None:
    routes = _routes(walk.app)
    missing = sorted(set(routes) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(routes))
    assert (missing, stale) == ([], []), (
        f"routes without a row in tests/access_matrix.py: {missing}; "
        f"rows for routes that no longer exist: {stale}"
    )


def test_every_url_parameter_is_filled_from_the_scene(walk: Walk) -> None:
    taken = set().union(*_routes(walk.app).values())
    assert taken - set(PARAMETERS) == set(), (
        "add these URL parameters to PARAMETERS in tests/integration/access_filling.py "
        "(and the records they name to the scene)"
    )


def test_each_row_says_what_record_its_route_names(walk: Walk) -> None:
    """A route naming an organisation's record is walked with another organisation's too,
    one naming a programme's with another programme's: the row must say so (`on=`)."""
    wrong = {
        key: (MATRIX[key].on.value, on_of(arguments).value)
        for key, arguments in _routes(walk.app).items()
        if key in MATRIX and MATRIX[key].on is not on_of(arguments)
    }
    assert wrong == {}, "rows whose on= differs from what the route names: (row, route)"


def test_every_known_bug_names_a_case_of_the_matrix() -> None:
    cases = set(every_case())
    listed = {
        (key, who, variant)
        for key, whos in KNOWN_BUGS.items()
        for who, variants in whos.items()
        for variant in variants
    }
    assert listed - cases == set()


@pytest.mark.parametrize("case", list(_params()))
def test_the_route_answers_as_the_matrix_says(walk: Walk, case: Case) -> None:
    request = walk.request(case)
    response = walk.send(case, request)
    got = outcome_of(response)
    wanted = expected(MATRIX[case.key], request, case.who, case.variant)
    assert got in wanted, (
        f"{case.key} ({request.path}) as {case.who} {case.variant}: got {got.value} "
        f"({response.status_code}), the matrix says {sorted(o.value for o in wanted)}"
    )
