"""Input hardening: what a user, or an attacker, notices when they send the service what it
should never take, or when a page could repeat what it should never show."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import children
from tests.factories import (
    ApiClient,
    Factory,
    api_client,
    csrf_token,
    invented_personnummer,
    log_in,
    social_worker_actor,
)
from tests.web.refused_forms import outside_its_field, typed_value_of

# --- 7. The DPO's subject-access page never repeats the personnummer -------------------------


def _forms_of(twelve: str) -> list[str]:
    """Every way a personnummer may be typed: 12 or 10 digits, with or without the dash."""
    return [twelve, f"{twelve[:8]}-{twelve[8:]}", twelve[2:], f"{twelve[2:8]}-{twelve[8:]}"]


def _registered(app: Flask, factory: Factory, twelve: str) -> str:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return children.register_child(uow, actor, children.NewChild(twelve, "Barn Echo")).id


@pytest.mark.parametrize("form", range(4))
@pytest.mark.asvs("V14.2.6")
def test_the_subject_access_page_never_shows_the_personnummer_the_dpo_typed(
    app: Flask, factory: Factory, client: FlaskClient, form: int
) -> None:
    twelve = invented_personnummer(2013, 3, 14)
    child_id = _registered(app, factory, twelve)
    log_in(client, factory.account("dpo"))
    token = csrf_token(client, "/dpo/subject-access")
    typed = _forms_of(twelve)[form]
    page = client.post("/dpo/subject-access", data={"personnummer": typed, "csrf_token": token})
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    for shown in {*_forms_of(twelve), typed, twelve[2:8] + twelve[8:]}:
        assert shown not in body
    assert child_id in body  # the subject is named by its pseudonymous id only


def test_a_mistyped_personnummer_on_the_subject_access_page_is_not_repeated_either(
    factory: Factory, client: FlaskClient
) -> None:
    twelve = invented_personnummer(2013, 3, 14)
    wrong = twelve[:-1] + str((int(twelve[-1]) + 1) % 10)  # the check digit is off
    log_in(client, factory.account("dpo"))
    token = csrf_token(client, "/dpo/subject-access")
    for typed in _forms_of(wrong):
        page = client.post("/dpo/subject-access", data={"personnummer": typed, "csrf_token": token})
        body = page.get_data(as_text=True)
        assert page.status_code == 422
        assert wrong[2:] not in body and wrong[2:8] not in body


# --- 13. A PUT needs its fields: an empty body changes nothing -------------------------------

DETAILS = {
    "gender": "girl",
    "family_home_name": "Familjen Hemsson",
    "family_home_address": "Hemvägen 1, 123 45 Farsta",
    "family_home_phone": "070-000 00 00",
    "paying_municipality": "Huddinge",
    "child_views": "Vill gärna gå i grupp.",
}


@pytest.fixture
def worker(app: Flask, factory: Factory) -> ApiClient:
    return api_client(app, factory.account("social_worker"))


def _child_with_details(worker: ApiClient) -> str:
    number = invented_personnummer(2014, 5, 6)
    created = worker.post("/api/v1/children", {"personnummer": number, "name": "Barn Detaljsson"})
    assert created.status_code == 201, created.get_json()
    child_id = str(created.get_json()["id"])
    assert worker.put(f"/api/v1/children/{child_id}/details", DETAILS).status_code == 200
    return child_id


def _details_of(worker: ApiClient, child_id: str) -> dict[str, Any]:
    record = worker.get(f"/api/v1/children/{child_id}").get_json()
    return {key: record[key] for key in DETAILS}


@pytest.mark.parametrize("body", [{}, None], ids=["empty object", "no body"])
def test_a_put_of_a_childs_details_without_its_fields_is_refused_and_clears_nothing(
    worker: ApiClient, body: dict[str, Any] | None
) -> None:
    child_id = _child_with_details(worker)
    path = f"/api/v1/children/{child_id}/details"
    if body is None:
        response = worker.client.put(path, headers=worker.headers)
    else:
        response = worker.put(path, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(DETAILS) <= set(response.get_json()["errors"])
    assert _details_of(worker, child_id) == DETAILS


def test_a_put_of_a_childs_details_clears_only_what_it_sends_as_null(worker: ApiClient) -> None:
    child_id = _child_with_details(worker)
    cleared = {**DETAILS, "paying_municipality": None}
    response = worker.put(f"/api/v1/children/{child_id}/details", cleared)
    assert response.status_code == 200, response.get_json()
    assert _details_of(worker, child_id) == cleared


def test_a_put_of_a_childs_details_missing_one_field_names_it(worker: ApiClient) -> None:
    child_id = _child_with_details(worker)
    partial = {k: v for k, v in DETAILS.items() if k != "family_home_phone"}
    response = worker.put(f"/api/v1/children/{child_id}/details", partial)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"family_home_phone"}
    assert _details_of(worker, child_id) == DETAILS


def test_every_put_or_patch_of_the_api_refuses_an_empty_body(
    app: Flask, factory: Factory, worker: ApiClient
) -> None:
    leader = api_client(app, factory.account("group_leader"))
    coordinator = api_client(app, factory.account("night_coordinator"))
    routes = [
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in sorted((rule.methods or set()) & {"PUT", "PATCH"})
    ]
    assert routes
    for path, method in routes:
        caller = (
            leader
            if path.startswith("/api/v1/partner/")
            else coordinator
            if path.startswith("/api/v1/nights/")
            else worker
        )
        url = path.replace("<", "").replace(">", "")  # any id: the body is checked first
        response = caller.send(method, url, {})
        assert response.status_code == 422, (method, path, response.get_json())
        assert response.get_json()["errors"], (method, path)


# --- 17. A social worker lists the partners to refer to: id and name only --------------------


@pytest.mark.asvs("V8.2.3", "V15.3.1")
def test_a_social_worker_lists_the_partner_organisations_by_id_and_name_only(
    factory: Factory, worker: ApiClient
) -> None:
    partner = factory.organisation("partner")
    other_district = factory.organisation("district")
    response = worker.get("/api/v1/organisations")
    assert response.status_code == 200
    listed = response.get_json()
    assert {"id": partner.id, "name": partner.name} in listed
    assert all(set(entry) == {"id", "name"} for entry in listed)
    assert other_district.id not in {entry["id"] for entry in listed}  # partners only
    assert listed == sorted(listed, key=lambda entry: entry["name"])


def test_an_administrator_still_sees_every_organisation_with_its_kind_and_number(
    app: Flask, factory: Factory
) -> None:
    district = factory.organisation("district")
    admin = api_client(app, factory.account("admin"))
    listed = admin.get("/api/v1/organisations").get_json()
    assert {"id", "name", "kind", "org_number"} <= set(listed[0])
    assert district.id in {entry["id"] for entry in listed}


@pytest.mark.parametrize("role", ["group_leader", "link_worker", "dpo"])
def test_other_roles_still_cannot_list_organisations(
    app: Flask, factory: Factory, role: str
) -> None:
    caller = api_client(app, factory.account(role))
    response = caller.get("/api/v1/organisations")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


# --- 15a. No control characters in free text, on the web pages or over the API ---------------

CONTROLS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"]


@pytest.mark.parametrize("control", [*CONTROLS, "\n", "\r", "\t"])
def test_a_childs_name_with_a_control_character_is_refused_over_the_api_naming_the_field(
    worker: ApiClient, control: str
) -> None:
    body = {"personnummer": invented_personnummer(2014, 5, 6), "name": f"Barn{control}Namn"}
    response = worker.post("/api/v1/children", body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == {"name"}
    assert "Namn" not in response.get_data(as_text=True)  # the value is not repeated
    assert worker.get("/api/v1/children").get_json() == []


@pytest.mark.parametrize("control", CONTROLS)
def test_a_multi_line_field_takes_line_breaks_and_tabs_but_no_other_control_character(
    worker: ApiClient, control: str
) -> None:
    child_id = _child_with_details(worker)
    path = f"/api/v1/children/{child_id}/details"
    views = "Vill gå i grupp.\r\n\tGärna på onsdagar."
    assert worker.put(path, {**DETAILS, "child_views": views}).status_code == 200
    refused = worker.put(path, {**DETAILS, "child_views": f"Vill{control}gå"})
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"child_views"}
    assert _details_of(worker, child_id)["child_views"] == views


@pytest.mark.asvs("V2.2.1")
def test_every_string_field_of_every_api_input_refuses_control_characters() -> None:
    from marshmallow import fields

    from referral.api import group_schemas, programme_schemas, schemas
    from referral.api.schemas import StrictSchema
    from referral.text_rules import PlainTextValidator

    def strings(field: fields.Field[Any]) -> list[fields.Field[Any]]:
        if isinstance(field, fields.List):
            return strings(field.inner)
        return [field] if isinstance(field, fields.String) else []

    checked = 0
    for module in (schemas, programme_schemas, group_schemas):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, StrictSchema):
                for name, field in value().fields.items():
                    for string in strings(field):
                        checked += 1
                        assert any(isinstance(v, PlainTextValidator) for v in string.validators), (
                            f"{value.__name__}.{name}"
                        )
    assert checked > 20


@pytest.mark.parametrize(
    ("control", "status"), [("\x00", 422), ("\u2028", 422), ("\x85", 422), (" ", 302)]
)
def test_a_social_worker_registering_a_name_with_a_control_character_is_told_on_the_form(
    app: Flask, factory: Factory, client: FlaskClient, control: str, status: int
) -> None:
    log_in(client, factory.account("social_worker"))
    token = csrf_token(client, "/children")
    number = invented_personnummer(2014, 5, 6)
    page = client.post(
        "/children",
        data={"personnummer": number, "name": f"Barn{control}Namn", "csrf_token": token},
    )
    assert page.status_code == status
    if status == 422:
        body = page.get_data(as_text=True)
        assert 'id="name-error"' in body and "Ta bort styrtecknen" in body  # Swedish by default
        # The number typed stays in its field, to be sent again; nowhere else.
        assert typed_value_of(body, "personnummer") == number
        assert number not in outside_its_field(body, "personnummer")


@pytest.mark.asvs("V2.2.1")
def test_every_web_form_with_a_text_field_follows_the_control_character_rule(app: Flask) -> None:
    from flask_wtf import FlaskForm
    from wtforms import StringField

    from referral.auth import forms as login_forms
    from referral.text_rules import PlainTextForm

    def every(cls: type) -> list[type]:
        return [cls, *(s for sub in cls.__subclasses__() for s in every(sub))]

    forms = [
        form
        for form in every(FlaskForm)
        if form.__module__.startswith("referral.")
        and form.__module__ != login_forms.__name__  # a login is checked, never stored
        and form is not PlainTextForm
    ]
    with app.test_request_context():
        with_text = [
            form
            for form in forms
            if any(isinstance(f, StringField) for f in form(meta={"csrf": False}))
        ]
    assert len(with_text) >= 10
    assert [f.__name__ for f in with_text if not issubclass(f, PlainTextForm)] == []


# --- 15b. A birth date in the future, or more than 120 years ago, is refused -----------------


def _born(day: Any) -> str:
    return invented_personnummer(day.year, day.month, day.day)


@pytest.mark.parametrize("years_ago", [-2, 121, 150])
@pytest.mark.asvs("V2.2.1")
def test_a_personnummer_born_in_the_future_or_over_120_years_ago_is_refused_naming_it(
    worker: ApiClient, years_ago: int
) -> None:
    from referral import clock

    today = clock.today()
    day = today.replace(year=today.year - years_ago, day=min(today.day, 28))
    response = worker.post("/api/v1/children", {"personnummer": _born(day), "name": "Barn X"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"personnummer"}
    assert worker.get("/api/v1/children").get_json() == []


def test_the_birth_date_rule_holds_to_the_day(worker: ApiClient) -> None:
    from datetime import timedelta

    from referral import clock
    from referral.services.children import OLDEST_AGE

    today = clock.today()
    oldest = today.replace(year=today.year - OLDEST_AGE, day=min(today.day, 28))
    for day, status in [
        (today + timedelta(days=1), 422),
        (today, 201),
        (oldest - timedelta(days=1), 422),
        (oldest, 201),
    ]:
        response = worker.post("/api/v1/children", {"personnummer": _born(day), "name": "Barn"})
        assert response.status_code == status, (day, response.get_json())


# --- 15c. The same personnummer twice in one district: 409 naming the existing record ------


def test_registering_a_child_the_district_already_holds_is_a_409_naming_the_record(
    app: Flask, factory: Factory, worker: ApiClient
) -> None:
    twelve = invented_personnummer(2014, 5, 6)
    first = worker.post("/api/v1/children", {"personnummer": twelve, "name": "Barn Ett"})
    existing = first.get_json()["id"]
    for typed in _forms_of(twelve):
        again = worker.post("/api/v1/children", {"personnummer": typed, "name": "Barn Två"})
        assert again.status_code == 409
        assert again.mimetype == "application/problem+json"
        problem = again.get_json()
        assert set(problem["errors"]) == {"personnummer"}
        assert existing in problem["detail"]
        body = again.get_data(as_text=True)
        assert twelve[2:8] not in body and "Barn" not in body
    assert [c["id"] for c in worker.get("/api/v1/children").get_json()] == [existing]
    elsewhere = api_client(app, factory.account("social_worker"))  # another district
    assert (
        elsewhere.post("/api/v1/children", {"personnummer": twelve, "name": "Barn"}).status_code
        == 201
    )


def test_a_social_worker_registering_a_child_twice_is_told_on_the_form_which_record_it_is(
    factory: Factory, client: FlaskClient
) -> None:
    log_in(client, factory.account("social_worker"))
    twelve = invented_personnummer(2014, 5, 6)
    token = csrf_token(client, "/children")
    data = {"personnummer": twelve, "name": "Barn Ett", "csrf_token": token}
    created = client.post("/children", data=data)
    assert created.status_code == 302
    existing = created.location.rstrip("/").split("/")[-1]
    again = client.post("/children", data=data)
    body = again.get_data(as_text=True)
    assert again.status_code == 422
    assert existing in body and 'id="personnummer-error"' in body
    # The message names the record, never the number, which stays only in its field.
    assert typed_value_of(body, "personnummer") == twelve
    assert twelve[2:8] not in outside_its_field(body, "personnummer")
