"""The JSON API: problem documents for every error, nothing written on bad input."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.factories import Factory, log_in


@pytest.fixture
def admin_api(client: FlaskClient, factory: Factory) -> tuple[FlaskClient, dict[str, str]]:
    log_in(client, factory.account("admin"))
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    return client, {"X-CSRFToken": me.headers["X-CSRFToken"]}


def _organisation_names(client: FlaskClient) -> set[str]:
    return {org["name"] for org in client.get("/api/v1/organisations").get_json()}


def test_an_administrator_adds_a_partner_with_a_valid_organisation_number(admin_api: Any) -> None:
    client, headers = admin_api
    response = client.post(
        "/api/v1/organisations",
        json={"name": "Rädda Barnen (test)", "kind": "partner", "org_number": "8020028638"},
        headers=headers,
    )
    assert response.status_code == 201
    assert response.get_json()["org_number"] == "802002-8638"
    assert "Rädda Barnen (test)" in _organisation_names(client)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "kind": "partner", "org_number": "802002-8639"}, "org_number"),
        ({"name": "X", "kind": "club"}, "kind"),
        ({"name": "X" * 201, "kind": "partner"}, "name"),
        ({"name": 42, "kind": "partner"}, "name"),
        ({"name": "X", "kind": "partner", "is_admin": True}, "is_admin"),
        ({"kind": "partner"}, "name"),
    ],
)
@pytest.mark.asvs("V2.2.1", "V2.2.2", "V15.3.3")
def test_bad_input_is_a_4xx_problem_naming_the_field_and_writes_nothing(
    admin_api: Any, body: dict[str, Any], field: str
) -> None:
    client, headers = admin_api
    before = _organisation_names(client)
    response = client.post("/api/v1/organisations", json=body, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert field in problem["errors"]
    assert field in problem["detail"]
    assert _organisation_names(client) == before


def test_malformed_json_is_a_400_problem(admin_api: Any) -> None:
    client, headers = admin_api
    response = client.post(
        "/api/v1/organisations",
        data=b'{"name": "unterminated',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_a_duplicate_organisation_is_a_409_naming_the_field(admin_api: Any) -> None:
    client, headers = admin_api
    body = {"name": "Convictus (test)", "kind": "partner", "org_number": "802012-1581"}
    assert client.post("/api/v1/organisations", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/organisations", json={**body, "name": "Other"}, headers=headers)
    assert again.status_code == 409
    assert "org_number" in again.get_json()["errors"]


@pytest.mark.asvs("V3.5.1")
def test_an_api_write_without_the_csrf_header_is_refused(admin_api: Any) -> None:
    client, _headers = admin_api
    response = client.post("/api/v1/organisations", json={"name": "X", "kind": "partner"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_an_anonymous_api_call_gets_a_401_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_the_openapi_document_describes_the_api_to_logged_in_users(admin_api: Any) -> None:
    client, _headers = admin_api
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/organisations" in document["paths"]
    # A system reading the document learns it may call with an API client's bearer token.
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiClientToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API client's token, issued by an administrator (shown once).",
    }
    assert {"apiClientToken": []} in document["security"]


@pytest.mark.asvs("V15.3.1")
def test_user_listing_never_contains_hashes_or_seeds(admin_api: Any) -> None:
    client, _headers = admin_api
    listing = client.get("/api/v1/users").get_json()
    assert listing
    assert set(listing[0]) == {
        "id",
        "username",
        "display_name",
        "organisation_id",
        "roles",
        "active",
        "mfa_enrolled",
    }


def test_an_unknown_api_route_is_a_404_problem(admin_api: Any) -> None:
    client, _headers = admin_api
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
