"""Web and API hardening: what a hostile client sends never reaches the log, a redirect or a
500, and the API document and error answers say what a client may do."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from referral.api.base import MAX_JSON_DEPTH
from referral.db.audit_log import AuditEntry
from referral.request_scope import request_session
from tests.factories import Factory, api_client, csrf_token, log_in, submit_code

CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _newest_request_id(factory: Factory) -> str | None:
    with factory.app.app_context():
        entry = (
            request_session()
            .scalars(select(AuditEntry).order_by(AuditEntry.sequence.desc()).limit(1))
            .one()
        )
        return entry.request_id


HOSTILE_REQUEST_IDS = [
    "abc",
    "abcdefgh\nforged entry",
    "0f8fad5b-d9cb-469f-a165-70867728950e\n",  # a good id with a trailing newline
    "x" * 200,
    "1'; DROP TABLE audit_entries; --",
    "{0f8fad5b-d9cb-469f-a165-70867728950e}",
    "0f8fad5bd9cb469fa16570867728950e",
    "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
]


@pytest.mark.parametrize("offered", HOSTILE_REQUEST_IDS)
@pytest.mark.asvs("V16.4.1")
def test_a_hostile_request_id_never_reaches_the_access_log_or_the_response(
    client: FlaskClient, factory: Factory, offered: str
) -> None:
    log_in(client, factory.account("admin"))
    # environ_overrides: the test client itself refuses a header value with a newline.
    response = client.get("/api/v1/users", environ_overrides={"HTTP_X_REQUEST_ID": offered})
    assert response.status_code == 200
    sent_back = response.headers["X-Request-ID"]
    assert CANONICAL_UUID.fullmatch(sent_back)
    assert sent_back != offered.strip().lower()
    assert _newest_request_id(factory) == sent_back


def test_a_proxys_well_formed_request_id_is_kept_in_the_log_and_the_response(
    client: FlaskClient, factory: Factory
) -> None:
    log_in(client, factory.account("admin"))
    offered = str(uuid.uuid4())
    response = client.get("/api/v1/users", headers={"X-Request-ID": offered.upper()})
    assert response.headers["X-Request-ID"] == offered
    assert _newest_request_id(factory) == offered


def test_every_answer_carries_a_request_id_even_without_one_offered(client: FlaskClient) -> None:
    response = client.get("/login")
    assert CANONICAL_UUID.fullmatch(response.headers["X-Request-ID"])


HOSTILE_NEXT = [
    "/%09/evil.example/phish",  # browsers drop the tab: //evil.example
    "/%0A/evil.example/phish",
    "/%0D/evil.example/phish",
    "/%0D%0ASet-Cookie:%20session=stolen",
    "%20//evil.example/phish",
    "//evil.example/phish",
    "///evil.example/phish",
    "/%2F/evil.example/phish",
    "/%252F/evil.example/phish",  # //evil.example once decoded again
    "/%5Cevil.example/phish",  # a backslash: some browsers read /\\host as //host
    "/%5C%5Cevil.example",
    "https://evil.example/phish",
    "https:/evil.example/phish",
    "javascript:alert(1)",
    "evil.example/phish",
    "/%00/x",
    "/%E2%80%AE/x",  # right-to-left override, invisible
    "/%C2%A0/x",  # no-break space
]


def _log_in_with_next(client: FlaskClient, factory: Factory, role: str, next_value: str) -> str:
    account = factory.account(role)
    response = client.post(
        "/login?next=" + next_value,
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302 and response.location.endswith("/mfa")
    response = submit_code(client, account.next_code())
    assert response.status_code == 302
    return response.location


@pytest.mark.parametrize("next_value", HOSTILE_NEXT)
@pytest.mark.asvs("V3.7.2")
def test_a_login_with_a_next_that_leaves_the_site_or_hides_a_host_lands_on_the_start_page(
    client: FlaskClient, factory: Factory, next_value: str
) -> None:
    assert _log_in_with_next(client, factory, "group_leader", next_value) == "/"
    assert client.get("/").status_code == 200, "and the user is logged in"


def test_a_login_with_a_next_on_this_site_lands_there(
    client: FlaskClient, factory: Factory
) -> None:
    location = _log_in_with_next(client, factory, "social_worker", "/children")
    assert location == "/children"
    assert client.get(location).status_code == 200


def _nested(depth: int) -> bytes:
    return b'{"name": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("admin", "POST", "/api/v1/organisations"),
        ("social_worker", "PUT", "/api/v1/children/{child_id}/details"),
    ],
)
@pytest.mark.parametrize("depth", [40, 1000, 100_000])
@pytest.mark.asvs("V1.5.2")
def test_json_nested_too_deep_is_a_400_problem_naming_the_depth_rule(
    factory: Factory, role: str, method: str, path: str, depth: int
) -> None:
    api = api_client(factory.app, factory.account(role))
    child_id = "00000000-0000-4000-8000-000000000000"
    response = api.client.open(
        path.format(child_id=child_id),
        method=method,
        data=_nested(depth),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/nested_too_deeply")
    assert str(MAX_JSON_DEPTH) in problem["detail"]


def test_json_nested_within_the_limit_reaches_the_schema(factory: Factory) -> None:
    api = api_client(factory.app, factory.account("admin"))
    response = api.client.post(
        "/api/v1/organisations",
        data=_nested(MAX_JSON_DEPTH - 1),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]


@pytest.mark.asvs("V1.5.2")
def test_a_number_of_thousands_of_digits_is_a_400_problem_and_nothing_is_written(
    factory: Factory,
) -> None:
    api = api_client(factory.app, factory.account("admin"))
    response = api.client.post(
        "/api/v1/organisations",
        data=b'{"name": "Talorganisationen", "kind": "partner", "x": ' + b"9" * 5000 + b"}",
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/number_too_long")
    listed = api.get("/api/v1/organisations").get_json()
    assert "Talorganisationen" not in str(listed)


HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _problem_response(spec: dict[str, Any], response: dict[str, Any]) -> bool:
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response.get("content", {})
    return content.get("application/problem+json", {}).get("schema") == {
        "$ref": "#/components/schemas/Problem"
    }


@pytest.fixture
def openapi(client: FlaskClient, factory: Factory) -> dict[str, Any]:
    log_in(client, factory.account("social_worker"))
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.get_json()
    return spec


def test_every_api_operation_documents_its_errors_as_problem_documents(
    openapi: dict[str, Any],
) -> None:
    problem = openapi["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    operations = _operations(openapi)
    assert len(operations) > 30
    missing = []
    for method, path, operation in operations:
        expected = {"401", "403", "429", "default"}
        if "requestBody" in operation:
            expected |= {"400", "422"}
        if method != "GET":  # a session's write without its CSRF token, body or not
            expected.add("400")
        if "{" in path:
            expected.add("404")
        responses = operation["responses"]
        for status in sorted(expected):
            if status not in responses or not _problem_response(openapi, responses[status]):
                missing.append(f"{method} {path} {status}")
        for status, response in responses.items():
            if status == "default" or int(status) >= 400:
                assert _problem_response(openapi, response), f"{method} {path} {status}"
    assert missing == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/organisations"),
        ("POST", "/api/v1/referrals"),
        ("POST", "/api/v1/referrals/{referral_id}/submit"),
        ("POST", "/api/v1/partner/referrals/{referral_id}/accept"),
        ("POST", "/api/v1/partner/groups/{group_id}/start"),
        ("POST", "/api/v1/interest/{registration_id}/confirm"),
    ],
)
def test_an_operation_that_can_conflict_documents_its_409(
    openapi: dict[str, Any], method: str, path: str
) -> None:
    response = openapi["paths"][path][method.lower()]["responses"]["409"]
    assert _problem_response(openapi, response)


def test_a_concern_report_documents_its_503_when_no_social_emergency_service_is_set_up(
    openapi: dict[str, Any],
) -> None:
    response = openapi["paths"]["/api/v1/concern-reports"]["post"]["responses"]["503"]
    assert _problem_response(openapi, response)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/organisations", {"GET", "POST"}),
        ("PATCH", "/api/v1/children/00000000-0000-4000-8000-000000000000/details", {"PUT"}),
        ("DELETE", "/login", {"GET", "POST"}),
        ("GET", "/logout", {"POST"}),
    ],
)
def test_a_wrong_method_is_a_405_whose_allow_header_lists_the_right_ones(
    client: FlaskClient, factory: Factory, method: str, path: str, allowed: set[str]
) -> None:
    log_in(client, factory.account("admin"))
    response = client.open(path, method=method)
    assert response.status_code == 405
    offered = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= offered <= allowed | {"HEAD", "OPTIONS"}
    if path.startswith("/api/"):
        assert response.mimetype == "application/problem+json"
    else:
        assert response.mimetype == "text/html"
