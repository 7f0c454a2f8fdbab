"""Input hardening: what a user, or an attacker, notices when they send the service what it
should never take, or when a page could repeat what it should never show."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from referral.db.engine import request_session
from referral.db.uow import UnitOfWork
from referral.services import children
from tests.factories import Factory, csrf_token, invented_personnummer, log_in, social_worker_actor

# --- 7. The DPO's subject-access page never repeats the personnummer -------------------------


def _forms_of(twelve: str) -> list[str]:
    """Every way a personnummer may be typed: 12 or 10 digits, with or without the dash."""
    return [twelve, f"{twelve[:8]}-{twelve[8:]}", twelve[2:], f"{twelve[2:8]}-{twelve[8:]}"]


def _registered(app: Flask, factory: Factory, twelve: str) -> str:
    actor = social_worker_actor(factory)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        return children.register_child(uow, actor, children.NewChild(twelve, "Barn Echo")).id


@pytest.mark.parametrize("form", range(4))
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
