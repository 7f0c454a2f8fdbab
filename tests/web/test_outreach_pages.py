"""Programme B over HTTP: the link worker records an anonymous encounter, registers a youth
(up to and including 20) and links the encounter once the youth agrees; another partner's link
worker finds none of it; bad input is a 4xx naming the field and writes nothing."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select

from referral import clock
from referral.clock import STOCKHOLM
from referral.db.outreach import Encounter, Youth
from referral.request_scope import request_session
from tests.factories import Factory, api_client, csrf_token, invented_personnummer, log_in


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.count()).select_from(model)) or 0)


def test_an_anonymous_encounter_is_linked_to_a_registered_youth_in_the_browser_flow(
    app: Flask, factory: Factory
) -> None:
    partner = factory.organisation("partner", name="Rädda Barnen (test)")
    client = app.test_client()
    log_in(client, factory.account("link_worker", partner))
    token = csrf_token(client, "/outreach")
    recorded = client.post(
        "/outreach/encounters",
        data={
            "csrf_token": token,
            "occurred_on": clock.today().isoformat(),
            "place": "sergels_torg",
            "needs": ["basic_needs", "supportive_talk"],
            "gender": "girl",
            "age_band": "15_17",
        },
    )
    assert recorded.status_code == 302
    page = client.get("/outreach").get_data(as_text=True)
    (encounter_id,) = re.findall(r'data-encounter="([0-9a-f-]{36})" data-anonymous="yes"', page)

    registered = client.post(
        "/outreach/youths",
        data={
            "csrf_token": token,
            "alias": "Samira",
            "personnummer": invented_personnummer(clock.today().year - 16, 2, 2),
            "gender": "girl",
            "situation": "absconded",
            "district_id": "",
        },
    )
    assert registered.status_code == 302
    youth_path = registered.headers["Location"]
    linked = client.post(
        f"{youth_path}/link", data={"csrf_token": token, "encounter_id": encounter_id}
    )
    assert linked.status_code == 302, (youth_path, linked.get_data(as_text=True)[-600:])
    youth_page = client.get(youth_path).get_data(as_text=True)
    assert f'data-encounter="{encounter_id}"' in youth_page and "Samira" in youth_page


def test_over_twenty_a_bad_identifier_or_another_partners_youth_is_refused(
    app: Flask, factory: Factory
) -> None:
    worker = api_client(app, factory.account("link_worker", factory.organisation("partner")))
    other = api_client(app, factory.account("link_worker", factory.organisation("partner")))
    twenty_one = invented_personnummer(clock.today().year - 21, 1, 1)
    for body, field in (
        ({"alias": "A", "personnummer": twenty_one}, "personnummer"),
        ({"alias": "A", "dossier_number": "12"}, "dossier_number"),
        ({"alias": "A", "situation": "lost"}, "situation"),
        ({"alias": ""}, "alias"),
    ):
        answer = worker.post("/api/v1/outreach/youths", body)
        assert answer.status_code == 422 and field in answer.get_data(as_text=True), body
    assert _count(app, Youth) == 0

    made = worker.post("/api/v1/outreach/youths", {"alias": "Omid", "lma_number": "123456789"})
    assert made.status_code == 201
    youth_id = made.get_json()["id"]
    assert other.get(f"/api/v1/outreach/youths/{youth_id}").status_code == 404
    assert (
        other.post("/api/v1/outreach/youths/lookup", {"identifier": "123456789"}).get_json() == []
    )
    assert worker.post(
        "/api/v1/outreach/youths/lookup", {"identifier": "123456789"}
    ).get_json() == [{"id": youth_id, "alias": "Omid"}]
    anonymous = worker.post(
        "/api/v1/outreach/encounters",
        {
            "occurred_on": clock.today().isoformat(),
            "place": "centralstationen",
            "needs": ["youth_clinic"],
        },
    )
    assert anonymous.status_code == 201 and anonymous.get_json()["youth_id"] is None
    refused = other.post(
        "/api/v1/outreach/encounters",
        {
            "occurred_on": clock.today().isoformat(),
            "place": "centralstationen",
            "youth_id": youth_id,
        },
    )
    assert refused.status_code == 404 and "youth_id" in refused.get_data(as_text=True)
    assert _count(app, Encounter) == 1


def test_the_found_action_tells_the_district_at_once_for_a_minor(
    app: Flask, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    district = factory.organisation("district")
    client = app.test_client()
    log_in(client, factory.account("link_worker", partner))
    worker = api_client(app, factory.account("link_worker", partner))
    made = worker.post(
        "/api/v1/outreach/youths",
        {
            "alias": "Nadia",
            "personnummer": invented_personnummer(clock.today().year - 15, 4, 4),
            "district_id": district.id,
        },
    ).get_json()
    token = csrf_token(client, "/outreach")
    found = client.post(
        f"/outreach/youths/{made['id']}/found",
        data={
            "csrf_token": token,
            "found-found_at": clock.now().astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M"),
            "found-place": "medborgarplatsen",
            "found-reporter_contact": "070-2",
        },
    )
    assert found.status_code == 302, found.get_data(as_text=True)[-800:]
    page = client.get(f"/outreach/youths/{made['id']}").get_data(as_text=True)
    assert district.name in page and "data-finding" in page

    receiver = api_client(app, factory.account("social_worker", district))
    (line,) = receiver.get("/api/v1/concern-reports/received").get_json()
    assert line["subject_kind"] == "youth"
    by_api = worker.post(
        f"/api/v1/outreach/youths/{made['id']}/found",
        {"found_at": clock.now().isoformat(), "place": "other", "reporter_contact": "070-3"},
    )
    assert by_api.status_code == 201 and by_api.get_json()["concern_reference"]


def test_a_likely_duplicate_is_proposed_on_the_youths_page_and_linked_then_unlinked(
    app: Flask, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    worker = api_client(app, factory.account("link_worker", partner))
    body = {"alias": "Hassan", "birth_year": clock.today().year - 15, "country_of_origin": "Syrien"}
    first = worker.post("/api/v1/outreach/youths", body).get_json()["id"]
    second = worker.post("/api/v1/outreach/youths", body).get_json()["id"]
    assert (
        worker.post(
            f"/api/v1/outreach/youths/{first}/record-links", {"other_id": first}
        ).status_code
        == 422
    )

    client = app.test_client()
    log_in(client, factory.account("link_worker", partner))
    page = client.get(f"/outreach/youths/{first}").get_data(as_text=True)
    assert f'data-candidate="{second}"' in page and "Hassan" in page
    token = csrf_token(client, "/outreach")
    linked = client.post(
        f"/outreach/youths/{first}/record-links",
        data={"csrf_token": token, "other_id": second, "same": "yes"},
    )
    assert linked.status_code == 302
    page = client.get(f"/outreach/youths/{first}").get_data(as_text=True)
    found_links = re.findall(r"data-record-link=\"([0-9a-f-]{36})\"", page)
    (link_id,) = found_links
    assert "data-candidate" not in page
    unlinked = client.post(
        f"/outreach/record-links/{link_id}/unlink", data={"csrf_token": token, "youth_id": first}
    )
    assert unlinked.status_code == 302
    assert worker.get(f"/api/v1/outreach/youths/{first}/duplicates").get_json() == []


def test_the_queue_lists_likely_pairs_by_reference_and_the_start_page_shows_due_cases(
    app: Flask, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    account = factory.account("link_worker", partner)
    worker = api_client(app, account)
    body = {"alias": "Reza", "birth_year": clock.today().year - 16, "country_of_origin": "Iran"}
    first = worker.post("/api/v1/outreach/youths", body).get_json()["id"]
    second = worker.post("/api/v1/outreach/youths", body).get_json()["id"]
    client = app.test_client()
    log_in(client, account)
    queue = client.get("/outreach/duplicates").get_data(as_text=True)
    pair = ":".join(sorted((first, second)))
    assert f'data-pair="{pair}"' in queue and "Reza" not in queue
    opened = worker.post(
        "/api/v1/outreach/link-cases",
        {
            "youth_id": first,
            "authority": "healthcare",
            "purpose": "Vårdkontakt",
            "next_due_on": clock.today().isoformat(),
        },
    )
    assert opened.status_code == 201
    start = client.get("/").get_data(as_text=True)
    assert f'data-case="{opened.get_json()["id"]}"' in start


def test_the_youth_form_is_in_swedish_to_its_blank_choices(app: Flask, factory: Factory) -> None:
    client = app.test_client()
    log_in(client, factory.account("link_worker", factory.organisation("partner")))
    page = client.get("/outreach/youths").get_data(as_text=True)
    assert ">Ej angivet<" in page
    assert ">Not stated<" not in page
