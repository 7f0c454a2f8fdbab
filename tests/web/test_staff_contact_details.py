"""What the consent form gives a guardian to reach the district, set by an administrator:
a staff member's work phone on the staff accounts page, and an organisation's postal
address (the return address) on the organisations page. A wrong entry is refused on the row
it was typed in, with the reason, and what was typed stays in the field."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation, User
from referral.request_scope import request_session
from tests.factories import Account, Factory, csrf_token, log_in


@pytest.fixture
def admin(client: FlaskClient, factory: Factory) -> FlaskClient:
    log_in(client, factory.account("admin"))
    return client


def _set_phone(client: FlaskClient, account: Account, phone: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/admin/users/{account.user.id}/work-phone",
        data={"work_phone": phone, "csrf_token": csrf_token(client, "/admin/users")},
    )


def _phone_of(app: Flask, account: Account) -> str | None:
    with app.app_context():
        return request_session().scalar(select(User.work_phone).where(User.id == account.user.id))


def _entries(app: Flask, action: str, object_id: str) -> int:
    with app.app_context():
        return int(
            request_session().scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.object_id == object_id)
            )
            or 0
        )


@pytest.mark.parametrize("typed", ["08-508 000 00", "+46 8 508 000 00", "0701234567"])
def test_an_administrator_sets_a_work_phone_that_the_staff_list_shows(
    app: Flask, factory: Factory, admin: FlaskClient, typed: str
) -> None:
    worker = factory.account("social_worker")
    response = _set_phone(admin, worker, typed)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/users#user-{worker.user.id}")
    assert _phone_of(app, worker) == typed
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f'value="{typed}"' in page
    assert "Arbetstelefonen för Test social_worker är sparad." in page
    assert _entries(app, "user:update", worker.user.id) == 1


def test_spaces_are_tidied_and_an_empty_field_removes_the_phone(
    app: Flask, factory: Factory, admin: FlaskClient
) -> None:
    worker = factory.account("social_worker")
    assert _set_phone(admin, worker, "  08 - 508   000 00 ").status_code == 302
    assert _phone_of(app, worker) == "08 - 508 000 00"
    assert _set_phone(admin, worker, "   ").status_code == 302
    assert _phone_of(app, worker) is None


@pytest.mark.parametrize(
    "typed",
    [
        "ring växeln",  # words
        "08/508 000 00",  # a character a phone number does not have
        "1234",  # too few digits to be a number
        "+46 8 508 000 00 11 22 33",  # more digits than any phone number has
        "08-508 000 00 +",  # a + that does not begin it
        "0" * 41,  # longer than the column
    ],
)
def test_a_work_phone_that_is_not_a_phone_number_is_refused_on_its_row(
    app: Flask, factory: Factory, admin: FlaskClient, typed: str
) -> None:
    worker = factory.account("social_worker")
    response = _set_phone(admin, worker, typed)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    field = f"work-phone-{worker.user.id}"
    assert f'<p class="error" id="{field}-error">Ett telefonnummer har 5 till 15 siffror' in body
    assert re.search(rf'id="{field}"[^>]*value="{re.escape(typed)}"[^>]* aria-invalid="true"', body)
    assert f'href="#{field}"' in body, "the error summary links to the field"
    assert "<title>Fel:" in body
    assert _phone_of(app, worker) is None
    assert _entries(app, "user:update", worker.user.id) == 0


def test_staff_other_than_administrators_cannot_set_a_work_phone(
    app: Flask, factory: Factory, client: FlaskClient
) -> None:
    district = factory.organisation("district")
    worker = factory.account("social_worker", district)
    log_in(client, worker)
    token = csrf_token(client, "/")
    response = client.post(
        f"/admin/users/{worker.user.id}/work-phone",
        data={"work_phone": "08-508 000 00", "csrf_token": token},
    )
    assert response.status_code == 403
    assert _phone_of(app, worker) is None


def test_an_unknown_account_is_not_found(admin: FlaskClient) -> None:
    response = admin.post(
        "/admin/users/no-such-user/work-phone",
        data={"work_phone": "08-508 000 00", "csrf_token": csrf_token(admin, "/admin/users")},
    )
    assert response.status_code == 404


# --- the organisation's postal address -------------------------------------------------------


def _set_address(client: FlaskClient, organisation: Organisation, address: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/admin/organisations/{organisation.id}/postal-address",
        data={"postal_address": address, "csrf_token": csrf_token(client, "/admin/organisations")},
    )


def _address_of(app: Flask, organisation: Organisation) -> str | None:
    with app.app_context():
        return request_session().scalar(
            select(Organisation.postal_address).where(Organisation.id == organisation.id)
        )


def test_an_administrator_sets_a_districts_postal_address_line_by_line(
    app: Flask, factory: Factory, admin: FlaskClient
) -> None:
    district = factory.organisation("district")
    response = _set_address(
        admin, district, "Farsta stadsdelsförvaltning\r\n\r\n Box 3 \r\n123 21 Farsta"
    )
    assert response.status_code == 302
    assert _address_of(app, district) == "Farsta stadsdelsförvaltning\nBox 3\n123 21 Farsta"
    page = admin.get("/admin/organisations").get_data(as_text=True)
    assert "Farsta stadsdelsförvaltning\nBox 3\n123 21 Farsta</textarea>" in page
    assert _entries(app, "organisation:update", district.id) == 1


def test_an_address_too_long_is_refused_and_kept_in_the_field(
    app: Flask, factory: Factory, admin: FlaskClient
) -> None:
    district = factory.organisation("district")
    typed = "Långgatan " * 40
    response = _set_address(admin, district, typed)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Adressen är längre än 300 tecken." in body
    assert typed.strip() in body
    assert _address_of(app, district) is None
