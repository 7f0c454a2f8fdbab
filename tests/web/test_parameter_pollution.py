"""A request that says one thing twice is refused, naming what it repeats (OWASP ASVS 5.0
V15.3.7, HTTP parameter pollution): the API would read the first of two equal query
parameters and the last of two equal JSON keys, where a proxy, a firewall or a log in front
of it may read the other, so what was checked and recorded need not be what was done.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import ApiClient, Factory, api_client, log_in


@pytest.fixture
def admin(app: Flask, factory: Factory) -> ApiClient:
    return api_client(app, factory.account("admin"))


def _names(client: FlaskClient) -> set[str]:
    return {org["name"] for org in client.get("/api/v1/organisations").get_json()}


@pytest.mark.asvs("V15.3.7")
def test_a_query_parameter_given_twice_is_refused_by_name(
    client: FlaskClient, factory: Factory
) -> None:
    log_in(client, factory.account("dpo"))
    once = client.get("/api/v1/audit/entries?action=child:create")
    assert once.status_code == 200
    twice = client.get("/api/v1/audit/entries?action=child:create&action=referral:read")
    assert twice.status_code == 422
    problem = twice.get_json()
    assert twice.content_type.startswith("application/problem+json")
    assert list(problem["errors"]) == ["action"]
    assert problem["errors"]["action"] == ["Ange parametern en gång."]


@pytest.mark.asvs("V15.3.7")
def test_a_json_key_given_twice_is_refused_by_name_and_nothing_is_written(
    admin: ApiClient,
) -> None:
    client, headers = admin.client, admin.headers
    before = _names(client)
    body = '{"name": "Förening A (test)", "kind": "partner", "name": "Förening B (test)"}'
    response = client.post(
        "/api/v1/organisations",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "name": ["Nyckeln förekommer mer än en gång i begäran."]
    }
    assert _names(client) == before


def test_a_refused_repeat_is_told_in_english_when_asked(
    client: FlaskClient, factory: Factory
) -> None:
    """`lang` is the service's own parameter, not the operation's: only the operation's
    parameters are held to once."""
    log_in(client, factory.account("dpo"))
    twice = client.get("/api/v1/audit/entries?outcome=denied&outcome=allowed&lang=en&lang=en")
    assert twice.status_code == 422
    assert twice.get_json()["errors"] == {"outcome": ["Give this parameter once."]}
