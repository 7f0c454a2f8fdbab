"""Every route and method of the app, as a role the access matrix lets in, on a record of its
own organisation or programme: no statement it sends reads a whole table that grows with
use, unless the table below says why that route must (issue 18, growth).

test_query_plans.py holds the plan reader and checks the main pages with rows to list; this
walks the access matrix's scene (tests/integration/access_scene.py) through every row of
tests/access_matrix.py, each in a savepoint rolled back after it, so a new route is checked
the day it is added. A write is sent as the matrix sends it (an empty body, or one that
passes the form): most stop at their validation or at a state that forbids them, so what is
checked for those is what they read before refusing; the services' writes themselves are
checked through test_query_plans.py's scene.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from referral.request_scope import get_database
from referral.roles import Role
from tests.access_matrix import ANONYMOUS, MATRIX, VARIANTS, Access, Row
from tests.integration.test_access_matrix import Case, Walk, walk  # noqa: F401 - the fixture
from tests.integration.test_query_plans import Answered, PlanReader, growing

_SHELTERS = "the night places' shelters: a handful, listed whole"
_ALLOCATIONS = ("POST nights.run_allocation", "POST api_nights.Allocations")
_EXCLUSIONS = "the coordinator's exclusions: few, each ending within months, purged on schedule"
_REPORT = (
    "the coordinator's activity report counts a period's figures from the programme's "
    "records: asked for a few times a year"
)
_PURGE_PLAN = (
    "the purge plan weighs every record against its rule, and counts what is kept: run by "
    "the administrator, not on every request"
)
_NEWEST_PAGE = (
    "the log with no filter, newest first: read back from its newest entry, it stops at a "
    "page (LIMIT 51), whatever the log's size"
)
_ACCOUNTS = "the administrator's list of accounts shows every account"

# Per route: the tables it reads whole, and why (beside READ_WHOLE's, which hold everywhere).
ROUTE_READS_WHOLE: dict[str, dict[str, str]] = {
    "GET admin.users_page": {"users": _ACCOUNTS},
    "GET users.Users": {"users": _ACCOUNTS},
    "GET api_clients.clients_page": {
        "api_clients": "the administrator's list of API clients: a handful"
    },
    "GET activity_descriptions.descriptions": {
        "activity_descriptions": "every version of the activity descriptions: a few a year"
    },
    "POST activity_descriptions.publish": {
        "activity_descriptions": "a new version is numbered after the ones before"
    },
    "GET concern.trails": {"concern_reports": "the latest 200 concern reports: a few a week"},
    "GET api_concern.Trails": {"concern_reports": "the latest 200 concern reports: a few a week"},
    "GET api_nights.Shelters": {"night_shelters": _SHELTERS},
    "GET nights.coordinator": {"night_shelters": _SHELTERS},
    "POST nights.create_shelter": {"night_shelters": _SHELTERS},
    "POST nights.update_shelter": {"night_shelters": _SHELTERS},
    "POST nights.change_capacity": {"night_shelters": _SHELTERS},
    # Only when the walk's moment lets the allocation run (_allocation_ran).
    **{route: {"night_shelters": _SHELTERS} for route in _ALLOCATIONS},
    "GET nights.exclusions_page": {"night_exclusions": _EXCLUSIONS},
    "GET api_nights.Exclusions": {"night_exclusions": _EXCLUSIONS},
    "POST nights.exclude": {"night_exclusions": _EXCLUSIONS},
    **{
        f"GET reports.{page}": dict.fromkeys(("consents", "group_attendance", "referrals"), _REPORT)
        for page in ("report", "export_csv", "export_pdf")
    },
    "GET dpo.audit_log": {"audit_entries": _NEWEST_PAGE},
    "GET audit.Entries": {"audit_entries": _NEWEST_PAGE},
    "GET dpo.export": {
        "audit_entries": "the export is the log (or what its filter picks), streamed 2 000 "
        "entries at a time"
    },
    "GET dpo.integrity": {"audit_verifications": "one row per verification run: the history"},
    "GET dpo.emergency_grants": {
        "emergency_grants": "every emergency access, newest first: each one the DPO judges"
    },
    **{
        f"{method} gallring.{endpoint}": dict.fromkeys(
            (
                "audit_entries",
                "children",
                "complaints",
                "concern_reports",
                "gallring_runs",
                "interest_registrations",
                "legal_holds",
                "night_people",
                "night_runs",
                "referral_events",
                "referrals",
                "youths",
            ),
            _PURGE_PLAN,
        )
        for method, endpoint in (("GET", "plan_page"), ("POST", "set_hold"))
    },
}


def _visitor(row: Row) -> str:
    """One who is let in: anyone for a public route, a social worker for a step of the
    login, else the first role the row names."""
    if row.access is Access.PUBLIC:
        return ANONYMOUS
    if row.access is Access.SIGNED_IN:
        return Role.SOCIAL_WORKER.value
    return sorted(role.value for role in row.roles)[0]


@pytest.fixture(scope="module")
def read_whole(walk: Walk) -> Iterator[dict[str, Answered]]:  # noqa: F811
    """Per route: its status, the statements it sent and the whole-table reads in them."""
    reader = PlanReader(walk.app)
    found = {}
    for route, row in MATRIX.items():
        case = Case(route, _visitor(row), VARIANTS[row.on][0])
        request = walk.request(case)
        with reader.reading():
            status = walk.send(case, request).status_code
        found[route] = Answered(status, reader.statements, reader.found)
    yield found


def _allocation_ran(read_whole: dict[str, Answered]) -> bool:
    """Whether the walk's moment let the morning's allocation run (the walk runs at the real
    time: on a weekend, or before the window opens, it is refused first). Both routes call
    the same service at the same stopped moment; the API's answer says which it was."""
    return read_whole["POST api_nights.Allocations"].status < 400


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_no_route_reads_a_whole_table_that_grows_with_use(
    route: str, read_whole: dict[str, Answered]
) -> None:
    answered = read_whole[route]
    assert answered.status < 500
    unlisted = growing(route, answered.full_reads, ROUTE_READS_WHOLE.get(route, {}))
    assert unlisted == [], f"{route} reads whole tables:\n" + "\n".join(unlisted)


def test_every_exception_is_still_needed(
    walk: Walk,  # noqa: F811 - the fixture
    read_whole: dict[str, Answered],
) -> None:
    """A route that no longer reads a table whole loses its line in ROUTE_READS_WHOLE, so
    that the table lists only what is true today. Judged on SQLite, whose plans show every
    whole read: PostgreSQL, with sequential scans priced out, reads most of these tables
    through an index from end to end instead, which the test cannot tell from a bounded read."""
    if get_database(walk.app).engine.dialect.name != "sqlite":
        pytest.skip("the exceptions are judged on SQLite's plans (see the docstring)")
    stale = [
        f"{route}: {table}"
        for route, tables in ROUTE_READS_WHOLE.items()
        for table in tables
        if table not in {read.table for read in read_whole[route].full_reads}
        # An allocation the walk's moment kept from running cannot show what it reads.
        and (route not in _ALLOCATIONS or _allocation_ran(read_whole))
    ]
    assert stale == []
