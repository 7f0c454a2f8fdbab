"""Every answer the app gives, walked through the access matrix: what each says about itself.

The access matrix's walk (tests/integration/test_access_matrix.py) sends every route and
method as everyone (an anonymous visitor, a session with only the password, each role), with
a record of their own organisation and of another where the route names one. This file sends
the same cases again, in the same scene, and keeps each answer (status, headers, body) with
the statements that wrote to the database while it was given; a GET a role is let in to is
sent as HEAD too. A few answers no route gives are added (an unknown page, a method a route
does not take, a query the API refuses). A route is checked here the day it gets its row in
tests/access_matrix.py, which the matrix's own test demands of every route.

What is checked, by OWASP ASVS 5.0 requirement:

- V3.5.3: a GET or HEAD changes nothing but the access log and the session's bookkeeping;
- V4.1.1: every body says its media type, and a text type its charset (UTF-8);
- V7.4.4: every page shown to a signed-in user offers the logout;
- V14.2.5: nothing said to a signed-in user may be kept by a cache (`no-store`);
- V5.4.1, V5.4.2: every download is an attachment named from safe characters only, whatever
  the request sent;
- V13.4.1: no source-control metadata or project file is served;
- V16.2.1: an entry of the access log says when, where, who, what, and with what outcome.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from audit.actions import Action
from audit.actions import Outcome as LogOutcome
from audit.record import timestamp
from referral import clock
from referral.request_scope import get_database
from referral.roles import Role
from referral.rules import BasisKind
from referral.web.access import REQUEST_ID_HEADER
from tests.access_matrix import (
    ANONYMOUS,
    MATRIX,
    PASSWORD_ONLY,
    VARIANTS,
    Access,
    Outcome,
    Variant,
)
from tests.factories import invented_personnummer
from tests.integration.access_filling import PARAMETERS, Request, filling_for
from tests.integration.test_access_matrix import (  # noqa: F401 - the fixture
    Case,
    Walk,
    every_case,
    expected,
    walk,
)

ROLES = frozenset(role.value for role in Role)
PROJECT = Path(__file__).resolve().parents[2]


# --- what the database was told while an answer was given ------------------------------------

# A statement that changes a table: INSERT INTO t, UPDATE t SET, DELETE FROM t (and the rarer
# forms), wherever it starts (after a WITH, say). "FOR UPDATE" locks rows and "DO UPDATE SET"
# is part of an INSERT: neither is a write of its own.
_WRITE = re.compile(
    r"(?<!FOR )(?<!DO )\b(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO"
    r'|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO)\s+"?(\w+)"?',
    re.IGNORECASE,
)
_ASSIGNMENTS = re.compile(r"\bSET\s+(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Write:
    verb: str  # INSERT, UPDATE, DELETE, ...
    table: str
    columns: frozenset[str] = frozenset()  # what an UPDATE sets

    def __str__(self) -> str:
        columns = f" ({', '.join(sorted(self.columns))})" if self.columns else ""
        return f"{self.verb} {self.table}{columns}"


def writes_in(statement: str) -> list[Write]:
    found = []
    for match in _WRITE.finditer(statement):
        verb = match.group(1).split()[0].upper()
        columns: frozenset[str] = frozenset()
        assignments = _ASSIGNMENTS.search(statement, match.end()) if verb == "UPDATE" else None
        if assignments:
            columns = frozenset(
                part.split("=")[0].strip().strip('"')
                for part in assignments.group(1).split(",")
                if "=" in part
            )
        found.append(Write(verb, match.group(2).lower(), columns))
    return found


class WriteWatcher:
    """The writes the app's engine sends, on any of its connections, while it is watched."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writes: list[Write] = []

    def _sent(self, _connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.writes += writes_in(statement)

    @contextmanager
    def watching(self) -> Iterator[list[Write]]:
        self.writes = []
        event.listen(self.engine, "before_cursor_execute", self._sent)
        try:
            yield self.writes
        finally:
            event.remove(self.engine, "before_cursor_execute", self._sent)


# --- the answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    case: Case
    request: Request
    status: int
    headers: Headers
    body: bytes
    writes: tuple[Write, ...]

    def __str__(self) -> str:
        variant = f" ({self.case.variant})" if self.case.variant else ""
        return f"{self.request.method} {self.request.path} as {self.case.who}{variant}"

    @property
    def media_type(self) -> str:
        return parse_options_header(self.headers.get("Content-Type", ""))[0]

    @property
    def signed_in(self) -> bool:
        return self.case.who != ANONYMOUS


def answer(walk: Walk, case: Case, request: Request) -> Answer:  # noqa: F811
    with WriteWatcher(get_database(walk.app).engine).watching() as writes:
        response = walk.send(case, request)
    body = response.get_data()
    return Answer(case, request, response.status_code, Headers(response.headers), body, (*writes,))


def _let_in(case: Case, request: Request) -> bool:
    return Outcome.OK in expected(MATRIX[case.key], request, case.who, case.variant)


@pytest.fixture(scope="module")
def answers(walk: Walk) -> dict[str, list[Answer]]:  # noqa: F811 - the fixture
    """Per "METHOD endpoint": the answer to every case of the matrix's walk; for a GET, also
    the answer to HEAD where the visitor is let in (Flask answers it with the GET's view)."""
    found: dict[str, list[Answer]] = {key: [] for key in MATRIX}
    for case in every_case():
        request = walk.request(case)
        found[case.key].append(answer(walk, case, request))
        if request.method == "GET" and _let_in(case, request):
            found[case.key].append(answer(walk, case, replace(request, method="HEAD")))
    return found


# Answers no row of the matrix gives: a page or an API path no route has, a method a route
# does not take, a query the API refuses, a static file that is not there. As an anonymous
# visitor, a session with only the password, and two roles.
STRAYS: tuple[Request, ...] = (
    Request("GET", "/no-such-page", {}, None),
    Request("GET", "/api/v1/no-such-thing", {}, None),
    Request("DELETE", "/login", {}, {}),
    Request("PUT", "/api/v1/me", {}, {}),
    Request("GET", "/api/v1/audit/entries", {"before": "not a number"}, None),
    Request("GET", "/static/no-such-file.css", {}, None),
)
STRAY_VISITORS = (ANONYMOUS, PASSWORD_ONLY, Role.SOCIAL_WORKER.value, Role.DPO.value)


@pytest.fixture(scope="module")
def strays(walk: Walk) -> list[Answer]:  # noqa: F811 - the fixture
    return [
        answer(walk, Case("stray", who, Variant.NONE), request)
        for request in STRAYS
        for who in STRAY_VISITORS
    ]


ROUTES = sorted(MATRIX)
GET_ROUTES = [route for route in ROUTES if route.startswith("GET ")]


# --- V3.5.3: a GET changes nothing ----------------------------------------------------------

# What any request may write, a GET included: its own entry in the access log (the entry,
# the chain's head, and the log's data key for the person an entry's sealed details are
# about, made with the first such entry), the session's last-seen time (written at most once
# a minute: referral.auth.sessions) and the rate limits' counters.
BOOKKEEPING: dict[tuple[str, str], str] = {
    ("INSERT", "audit_entries"): "the access log's entry",
    ("UPDATE", "audit_head"): "the log's chain head, moved on by each entry",
    ("INSERT", "data_keys"): "the log's key for the person an entry's details are about",
    ("INSERT", "rate_limit_counters"): "a rate limit's counter",
    ("UPDATE", "rate_limit_counters"): "a rate limit's counter",
    ("DELETE", "rate_limit_counters"): "an expired rate limit's counter",
}
SESSION_BOOKKEEPING = ("auth_sessions", frozenset({"last_seen_at"}))

# Per GET route: the tables it may write besides, and why (none today: a route listed here
# must still write the table, so the list says only what is true).
GET_WRITES: dict[str, dict[str, str]] = {}


def _bookkeeping(write: Write) -> bool:
    table, columns = SESSION_BOOKKEEPING
    if write.verb == "UPDATE" and write.table == table:
        return write.columns <= columns
    return (write.verb, write.table) in BOOKKEEPING


@pytest.mark.asvs("V3.5.3")
@pytest.mark.parametrize("route", GET_ROUTES)
def test_a_get_changes_nothing_but_the_access_log(
    route: str, answers: dict[str, list[Answer]]
) -> None:
    """Every GET and HEAD of the route, as everyone, writes nothing but its entry in the
    access log and the session's bookkeeping; a table the route is listed as writing in
    GET_WRITES must still be written by it, so that the list stays true."""
    listed = GET_WRITES.get(route, {})
    unlisted = sorted(
        {
            f"{one}: {write}"
            for one in answers[route]
            for write in one.writes
            if not _bookkeeping(write) and write.table not in listed
        }
    )
    written = {write.table for one in answers[route] for write in one.writes}
    stale = sorted(set(listed) - written)
    assert (unlisted, stale) == ([], []), (
        f"{route} writes on GET: {unlisted}; listed in GET_WRITES but no longer written: {stale}"
    )


def test_the_walk_sees_a_gets_own_entry_in_the_access_log(
    answers: dict[str, list[Answer]],
) -> None:
    """The writes are seen at all: a page that reads a person's record records the read."""
    child_page = [one for one in answers["GET casework.child_page"] if one.status == 200]
    assert child_page
    assert all(Write("INSERT", "audit_entries") in one.writes for one in child_page)


# --- V4.1.1: every body says what it is, and a text its charset ------------------------------


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _is_json_lines(body: bytes) -> bool:
    return all(_is_json(line) for line in body.splitlines() if line.strip())


def _is_utf8_text(body: bytes) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


# Every media type the app sends, and how its body is recognised. ASVS 5.0 V4.1.1 asks for
# the charset parameter where the media type defines one (IANA: text/*, */xml, */*+xml):
# those must say charset=utf-8. JSON defines none (RFC 8259 §11: JSON is UTF-8, and a charset
# parameter has no meaning), nor do problem+json (RFC 9457), JSON Lines, PDF or the PEM
# armour: those are accepted without one (and with one only if it is utf-8). A media type not
# listed fails the test, so that a new one is thought about.
MEDIA_TYPES: dict[str, Callable[[bytes], bool]] = {
    "text/html": lambda body: body.lstrip()[:1] == b"<",
    "text/csv": _is_utf8_text,
    "application/json": _is_json,
    "application/problem+json": _is_json,
    "application/x-ndjson": _is_json_lines,
    "application/pdf": lambda body: body.startswith(b"%PDF-"),
    "application/x-pem-file": lambda body: body.startswith(b"-----BEGIN "),
}


def _takes_charset(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type.endswith(("/xml", "+xml"))


def content_type_faults(one: Answer) -> list[str]:
    """What is wrong with the answer's Content-Type, for an answer with a body (or a HEAD,
    whose headers describe the body a GET gets)."""
    if not one.body and one.request.method != "HEAD":
        return []
    declared = one.headers.get("Content-Type")
    if not declared:
        return [f"{one} ({one.status}): no Content-Type"]
    media_type, options = parse_options_header(declared)
    charset = options.get("charset", "").lower()
    faults = []
    if media_type not in MEDIA_TYPES:
        faults.append(f"{one}: {media_type} is not in MEDIA_TYPES")
    elif one.body and not MEDIA_TYPES[media_type](one.body):
        faults.append(f"{one}: the body is not {media_type}")
    if _takes_charset(media_type) and charset != "utf-8":
        faults.append(f"{one} ({one.status}): {declared!r} does not say charset=utf-8")
    if charset and charset != "utf-8":
        faults.append(f"{one} ({one.status}): {declared!r} names another charset")
    return faults


@pytest.mark.asvs("V4.1.1")
@pytest.mark.parametrize("route", ROUTES)
def test_every_answer_says_its_media_type_and_charset(
    route: str, answers: dict[str, list[Answer]]
) -> None:
    """Every answer of the route with a body, to everyone: a Content-Type of a type
    MEDIA_TYPES knows, which the body is; charset=utf-8 on every text type (text/html,
    text/csv); none needed on JSON, problem+json, JSON Lines, PDF (see MEDIA_TYPES)."""
    faults = [fault for one in answers[route] for fault in content_type_faults(one)]
    assert faults == []


@pytest.mark.asvs("V4.1.1")
def test_answers_no_route_gives_say_their_media_type_and_charset(strays: list[Answer]) -> None:
    """404 for a page or API path that does not exist, 405 for a method a route does not
    take, 422 for a query the API refuses: said in a type with its charset too."""
    statuses = {one.status for one in strays}
    assert {404, 405, 422} <= statuses
    faults = [fault for one in strays for fault in content_type_faults(one)]
    assert faults == []


# --- V14.2.5: nothing said to a signed-in user is kept by a cache ---------------------------


def _no_store(one: Answer) -> bool:
    directives = {d.strip().lower() for d in one.headers.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def _unstored(answers: list[Answer]) -> list[str]:
    return [
        f"{one} ({one.status}): Cache-Control {one.headers.get('Cache-Control')!r}"
        for one in answers
        if one.signed_in and not _no_store(one)
    ]


@pytest.mark.asvs("V14.2.5")
@pytest.mark.parametrize("route", ROUTES)
def test_no_answer_to_a_signed_in_user_may_be_kept_by_a_cache(
    route: str, answers: dict[str, list[Answer]]
) -> None:
    """Pages and the API, successes, redirects and refusals alike: Cache-Control: no-store
    to every session, with or without its second factor."""
    assert _unstored(answers[route]) == []


@pytest.mark.asvs("V14.2.5")
def test_errors_no_route_gives_are_not_kept_by_a_cache_either(strays: list[Answer]) -> None:
    """An error page greets a signed-in user by name, even where the address was a static
    file's: it is not kept either (static files themselves may be)."""
    assert _unstored(strays) == []


# --- V7.4.4: the logout on every signed-in page ----------------------------------------------


class _LogoutFinder(HTMLParser):
    """Whether a page holds a form that posts to the logout route with the CSRF token, and
    a submit button for it (inside the form, or naming it by its id)."""

    def __init__(self, logout_path: str) -> None:
        super().__init__()
        self.logout_path = logout_path
        self.forms: dict[str, set[str]] = {}  # each logout form by id: what it holds
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "form":
            posts = named.get("method", "").lower() == "post"
            if posts and named.get("action") == self.logout_path:
                self._open = named.get("id") or f"form-{len(self.forms)}"
                self.forms[self._open] = set()
            return
        submits = tag == "button" and named.get("type", "submit") == "submit"
        owner = named.get("form") or self._open
        if submits and owner in self.forms:
            self.forms[owner].add("submit")
        if tag == "input" and self._open and named.get("name") == "csrf_token":
            self.forms[self._open].add("csrf")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None

    @property
    def offered(self) -> bool:
        return any(held == {"submit", "csrf"} for held in self.forms.values())


def offers_logout(page: bytes, logout_path: str) -> bool:
    finder = _LogoutFinder(logout_path)
    finder.feed(page.decode("utf-8"))
    return finder.offered


# Pages shown to a signed-in user without the logout, and why (none today: a route listed
# here must still answer such a page, so the list says only what is true).
WITHOUT_LOGOUT: dict[str, str] = {}


def _signed_in_page(one: Answer) -> bool:
    """A page (HTML, 200) shown to a fully signed-in user, or to a session with only the
    password where the page is for a session (the second factor's): a public page shown to
    someone half-way through logging in is not a signed-in page."""
    if one.status != 200 or one.media_type != "text/html" or not one.body:
        return False
    if one.case.who in ROLES:
        return True
    return one.case.who == PASSWORD_ONLY and MATRIX[one.case.key].access is not Access.PUBLIC


@pytest.mark.asvs("V7.4.4")
@pytest.mark.parametrize("route", ROUTES)
def test_every_page_a_signed_in_user_sees_offers_the_logout(
    route: str,
    answers: dict[str, list[Answer]],
    walk: Walk,  # noqa: F811 - the fixture
) -> None:
    """Every page of the route shown to a signed-in user (see _signed_in_page) holds the
    logout: a form posted to the logout route with the CSRF token, and a button sending it."""
    logout = walk.app.url_map.bind("localhost").build("auth.logout")
    pages = [one for one in answers[route] if _signed_in_page(one)]
    without = [str(one) for one in pages if not offers_logout(one.body, logout)]
    if route in WITHOUT_LOGOUT:
        assert without, f"{route} offers the logout now: remove it from WITHOUT_LOGOUT"
    else:
        assert without == []


def test_the_logout_finder_sees_a_form_without_its_button_or_token() -> None:
    page = b'<form method="post" action="/logout"><input name="csrf_token"></form>'
    assert not offers_logout(page, "/logout")
    page = b'<form method="post" action="/logout"><button>Log out</button></form>'
    assert not offers_logout(page, "/logout")
    page = b'<form id="f" method="post" action="/logout"><input name="csrf_token"></form>'
    assert offers_logout(page + b'<button type="submit" form="f">Log out</button>', "/logout")


# --- V5.4.1, V5.4.2: downloads ---------------------------------------------------------------

# What a page or the API answers in (an answer of any other type is a download), and the
# name's suffix of each media type a download is given in.
NOT_DOWNLOADS = frozenset({"text/html", "application/json", "application/problem+json"})
SUFFIXES = {
    "text/csv": (".csv",),
    "application/x-ndjson": (".jsonl",),
    "application/pdf": (".pdf",),
    "application/json": (".json",),
    "application/x-pem-file": (".pem",),
}
# A name of letters, digits, dots, dashes and underscores: an RFC 6266 token that needs no
# quoting or encoding, opens no path and cannot end the header.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,150}")


def is_download(one: Answer) -> bool:
    return "Content-Disposition" in one.headers or (
        bool(one.body) and one.media_type not in NOT_DOWNLOADS and one.status < 300
    )


def download_faults(one: Answer, sent: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a download's name: it must be an attachment, named from safe
    characters only, with the suffix of its type, and hold nothing the request sent."""
    disposition = one.headers.get("Content-Disposition", "")
    kind, options = parse_options_header(disposition)
    name = options.get("filename", "")
    faults = []
    if kind != "attachment" or set(options) != {"filename"}:
        faults.append(f"{one}: Content-Disposition {disposition!r} is not an attachment's name")
    elif disposition != f"attachment; filename={name}" or not SAFE_NAME.fullmatch(name):
        faults.append(f"{one}: {disposition!r} is not a name of safe characters")
    elif ".." in name or not name.endswith(SUFFIXES.get(one.media_type, ("?",))):
        faults.append(f"{one}: {name!r} does not end as a {one.media_type} does")
    faults += [f"{one}: {name!r} holds what was sent ({text!r})" for text in sent if text in name]
    return faults


@pytest.mark.asvs("V5.4.1", "V5.4.2")
@pytest.mark.parametrize("route", ROUTES)
def test_every_download_is_an_attachment_named_from_safe_characters(
    route: str, answers: dict[str, list[Answer]]
) -> None:
    faults = [fault for one in answers[route] if is_download(one) for fault in download_faults(one)]
    assert faults == []


# What a visitor might send to rename a download: each of these parameters, with each value
# (quotes and a second filename, a path, a line break, letters outside ASCII), one at a time
# beside what the walk sends; and each URL parameter of a download's route replaced.
PROBED_NAMES = ("filename", "name", "title", "format", "year", "actor", "action", "download")
HOSTILE = ('evil"; filename=evil.html', "../../evil/passwd", "evil\r\nX-Evil: 1", "evïl-åäö")
# Other names a download is asked under (the access log as JSON Lines, another year's fees).
ALTERNATIVES = ({"format": "jsonl"}, {"year": "2025"})
# How a hostile value would show in a name: each holds one of these, and no name the app
# makes does.
SENT_MARKERS = ("evil", "evïl", "passwd")
# A download behind a form: the DPO's subject-access report as CSV (a personnummer nobody
# holds: the report is empty, and a download all the same).
FORM_DOWNLOADS: dict[str, Callable[[], dict[str, object]]] = {
    "POST dpo.subject_access_page": lambda: {
        "personnummer": invented_personnummer(1990, 1, 1),
        "download": "1",
    },
}


def _first_let_in(walk: Walk, route: str) -> tuple[Case, Request]:  # noqa: F811
    """The first case of the route a visitor is let in to, on their own record."""
    for case in every_case():
        if case.key == route and case.variant is VARIANTS[MATRIX[route].on][0]:
            request = walk.request(case)
            if _let_in(case, request):
                return case, request
    raise AssertionError(f"nobody is let in to {route}")


def _hostile_requests(walk: Walk, route: str) -> Iterator[tuple[Case, Request]]:  # noqa: F811
    """The route as its first visitor let in sends it, then with each probed parameter
    (in the query, or in a form's body) and each URL parameter given each hostile value."""
    case, request = _first_let_in(walk, route)
    if route in FORM_DOWNLOADS:
        request = replace(request, body=FORM_DOWNLOADS[route]())
    yield case, request
    sent = [{name: value} for name in PROBED_NAMES for value in HOSTILE]
    for given in [*ALTERNATIVES, *sent]:
        if request.body is None:
            yield case, replace(request, query=request.query | given)
        else:
            yield case, replace(request, body=request.body | given)
    method, endpoint = route.split(" ")
    (rule,) = walk.app.url_map.iter_rules(endpoint)
    filling = filling_for(walk.scene, case.who, case.variant)
    filled = {argument: PARAMETERS[argument](filling) for argument in rule.arguments}
    urls = walk.app.url_map.bind("localhost")
    for argument in filled:
        for value in HOSTILE:
            path = urls.build(endpoint, filled | {argument: value}, method=method)
            yield case, replace(request, path=path)


@pytest.mark.asvs("V5.4.1", "V5.4.2")
def test_no_download_takes_its_name_from_what_the_visitor_sent(
    answers: dict[str, list[Answer]],
    walk: Walk,  # noqa: F811 - the fixture
) -> None:
    downloads = sorted(route for route, listed in answers.items() if any(map(is_download, listed)))
    assert {"GET dpo.export", "GET reports.export_pdf"} <= set(downloads)
    probed = []
    for route in [*downloads, *FORM_DOWNLOADS]:
        for case, request in _hostile_requests(walk, route):
            probed.append(answer(walk, case, request))
    sent = [one for one in probed if is_download(one)]
    assert {one.case.key for one in sent} >= {*downloads, *FORM_DOWNLOADS}
    assert {one.media_type for one in sent} >= set(SUFFIXES)
    failed = [f"{one}: {one.status}" for one in probed if one.status >= 500]
    faults = [fault for one in sent for fault in download_faults(one, SENT_MARKERS)]
    assert failed + faults == []


# --- V13.4.1: no source-control metadata or project file is served --------------------------

# Files of the project (and of a deployment) a careless server would hand out, each asked for
# at the root, in the static files' folder, and out of it by the ways a path climbs.
PROJECT_FILES = (
    ".git/HEAD",
    ".git/config",
    ".git/",
    ".gitignore",
    ".svn/entries",
    ".hg/requires",
    ".env",
    "instance/dev.env",
    "pyproject.toml",
    "Makefile",
    "config/settings.py",
    "referral/__init__.py",
    "migrations/env.py",
)
CLIMBS = (
    "/",
    "/static/",
    "/static/../",
    "/static/%2e%2e/",
    "/static/..%2f",
    "/static/../../",
    "/../",
)
NOT_SERVED = tuple(climb + name for name in PROJECT_FILES for climb in CLIMBS)
# What the files' content would show if it were served.
CONTENT_MARKERS = (b"ref: refs/", b"gitdir:", b"[core]", b"[project]", b"REFERRAL_", b"import ")


@pytest.mark.asvs("V13.4.1")
def test_no_source_control_metadata_or_project_file_is_served(
    walk: Walk,  # noqa: F811 - the fixture
) -> None:
    """Asked of the app as create_app builds it, by an anonymous visitor and by a signed-in
    user: not found, and nothing of the file in the answer."""
    shown = []
    for who in (ANONYMOUS, Role.ADMIN.value):
        for path in NOT_SERVED:
            one = answer(walk, Case("served", who, Variant.NONE), Request("GET", path, {}, None))
            if one.status != 404 or any(marker in one.body for marker in CONTENT_MARKERS):
                shown.append(f"{path} as {who}: {one.status}")
    assert shown == []


def test_the_static_folder_holds_no_hidden_file() -> None:
    """What the static route serves holds no .git, .svn or .env of its own."""
    static = PROJECT / "referral" / "static"
    hidden = [str(p.relative_to(static)) for p in static.rglob(".*")]
    assert static.is_dir() and hidden == []


# --- V16.2.1: an entry says when, where, who and what ---------------------------------------


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.mark.asvs("V16.2.1")
def test_the_dpo_reads_when_where_who_and_what_of_a_partners_reads(
    walk: Walk,  # noqa: F811 - the fixture
) -> None:
    """A group leader opens the partner's inbox, which shows the partner its referral, and
    asks for another partner's file of a referral, which is refused (as not found). The DPO
    asks the API for the leader's entries: each says when (UTC, to the microsecond), where
    (the client's address and the request's id), who (the user's id, login name,
    organisation and roles), what (the action, the object, the person concerned by a
    pseudonymous id, the legal basis of a read) and the outcome."""
    leader = walk.scene.accounts[Role.GROUP_LEADER].user
    own, other = walk.scene.own, walk.scene.other
    group_leader, address = Role.GROUP_LEADER.value, "192.0.2.44"
    inbox = walk.request(Case("GET partner.inbox", group_leader, Variant.NONE))
    refused = walk.request(Case("GET partner_files.notes", group_leader, Variant.OTHER_ORG))
    log = walk.app.url_map.bind("localhost").build("audit.Entries")
    savepoint = walk.connection.begin_nested()
    try:
        client = walk.client(group_leader)
        shown = client.get(inbox.path, environ_base={"REMOTE_ADDR": address})
        hidden = client.get(refused.path, environ_base={"REMOTE_ADDR": address})
        assert (shown.status_code, hidden.status_code) == (200, 404)
        found = walk.client(Role.DPO.value).get(log, query_string={"actor": leader.id})
        assert found.status_code == 200
        entries = found.get_json()["entries"]
    finally:
        savepoint.rollback()

    def entry(action: Action, object_id: str) -> dict[str, Any]:
        (one,) = [e for e in entries if (e["action"], e["object_id"]) == (action, object_id)]
        assert UUID.fullmatch(one.pop("subject_id")), "the person, by a pseudonymous id"
        assert one.pop("sequence") > 0
        # A refusal names the object by its model's class ("Referral": policy.require), a
        # read by the catalogue's word ("referral"): the same kind either way.
        return dict(one) | {"object_type": one["object_type"].lower()}

    who = {
        "occurred_at": timestamp(clock.now()),  # the walk's clock, stopped
        "client_address": address,
        "actor_id": leader.id,
        "actor_name": leader.username,
        "actor_organisation_id": own.partner_id,
        "actor_roles": group_leader,
    }
    assert entry(Action.REFERRAL_READ, own.referral_id) == who | {
        "request_id": shown.headers[REQUEST_ID_HEADER],
        "action": Action.REFERRAL_READ.value,
        "object_type": "referral",
        "object_id": own.referral_id,
        "legal_basis": BasisKind.SOL_CONSENT.value,  # placed under SoL, with consent
        "outcome": LogOutcome.ALLOWED.value,
    }
    assert entry(Action.ACCESS_DENIED, other.referral_id) == who | {
        "request_id": hidden.headers[REQUEST_ID_HEADER],
        "action": Action.ACCESS_DENIED.value,
        "object_type": "referral",
        "object_id": other.referral_id,
        "legal_basis": None,
        "outcome": LogOutcome.DENIED.value,
    }
