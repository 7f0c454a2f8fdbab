"""The group leader's pages: plan a group, place accepted children from the inbox, record each
child's visit, start the group and take attendance; a child whose consent is withdrawn leaves
the roster at once."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, referrals
from tests.factories import Account, Factory, csrf_token, invented_personnummer, log_in


def _post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def _accepted_referrals(
    app: Flask,
    factory: Factory,
    partner: Organisation,
    leader: Account,
    count: int,
    paying: tuple[str | None, ...] = (),
) -> list[str]:
    """`count` LVU children referred to `partner` and accepted by `leader`."""
    district = factory.organisation("district")
    worker = Actor("sw-groups", "handlaggare", district.id, frozenset({Role.SOCIAL_WORKER}))
    leader_actor = Actor(
        leader.user.id, leader.username, partner.id, frozenset({Role.GROUP_LEADER})
    )
    ids = []
    with app.app_context(), UnitOfWork(request_session()) as uow:
        for number in range(count):
            child = children.register_child(
                uow,
                worker,
                children.NewChild(
                    invented_personnummer(clock.today().year - 10, 3, 1 + number),
                    f"Gruppsida {number}",
                ),
            )
            consent.record_placement(
                uow,
                worker,
                child.id,
                "LVU",
                "Beslut 1/2026",
                "SDN",
                date(2026, 1, 15),
                today=clock.today(),
                lvu_shared=("name", "age", "participation"),
            )
            if number < len(paying) and paying[number]:
                children.update_details(
                    uow, worker, child.id, children.ChildDetails(paying_municipality=paying[number])
                )
            referral = referrals.create_referral(
                uow,
                worker,
                referrals.NewReferral(child.id, partner.id, "weekly"),
                today=clock.today(),
            )
            referrals.submit_referral(uow, worker, referral.id, clock.today())
            referrals.respond(uow, leader_actor, referral.id, accept=True, today=clock.today())
            ids.append(referral.id)
    return ids


def test_a_leader_plans_a_group_places_five_children_starts_it_and_takes_attendance(
    app: Flask, factory: Factory, client: FlaskClient
) -> None:
    partner = factory.organisation("partner")
    leader = factory.account("group_leader", partner)
    log_in(client, leader)
    referral_ids = _accepted_referrals(app, factory, partner, leader, 5)
    overview = client.get("/partner/groups")
    assert overview.status_code == 200
    assert 'data-waiting="5"' in overview.get_data(as_text=True)

    planned = _post(
        client,
        "/partner/groups",
        {
            "name": "Höstgrupp Farsta",
            "group_format": "weekly",
            "start_date": clock.today().isoformat(),
            "min_age": 7,
            "max_age": 12,
            "leader_ids": [leader.user.id],
        },
    )
    assert planned.status_code == 302, planned.get_data(as_text=True)
    group_id = planned.headers["Location"].rsplit("/", 1)[-1]
    inbox = client.get("/partner/referrals").get_data(as_text=True)
    assert "Höstgrupp Farsta" in inbox

    for referral_id in referral_ids:
        placed = _post(
            client, "/partner/groups/place", {"group_id": group_id, "referral_id": referral_id}
        )
        assert placed.status_code == 302
    page = client.get(f"/partner/groups/{group_id}").get_data(as_text=True)
    enrolments = re.findall(r'data-enrolment="([0-9a-f-]{36})"', page)
    assert len(enrolments) == 5 and "Gruppsida 0" in page

    early = _post(client, f"/partner/groups/{group_id}/start", {})
    # Nobody has had the pre-group visit yet: back on the group's page, with the reason and
    # a checklist of what is missing (not a dead-end page).
    assert early.status_code == 302 and early.location.endswith("#start")
    page = client.get(early.location).get_data(as_text=True)
    assert 'class="flash flash-error"' in page
    assert 'data-check="visits" data-done="no"' in page and "0 av 5" in page
    for enrolment_id in enrolments:
        visit = _post(
            client,
            f"/partner/groups/{group_id}/visits",
            {"enrolment_id": enrolment_id, "kind": "home", "day": clock.today().isoformat()},
        )
        assert visit.status_code == 302
    assert _post(client, f"/partner/groups/{group_id}/start", {}).status_code == 302

    page = client.get(f"/partner/groups/{group_id}").get_data(as_text=True)
    (first_session,) = re.findall(r'data-session="([0-9a-f-]{36})"', page)[:1]
    # Nothing is ticked in advance: every child starts "not recorded".
    # (The first session, today's, is the one open for attendance.)
    assert page.count('-none" checked>') == len(enrolments)
    assert not re.search(r'value="(present|absent)" id="[^"]*" checked', page)
    nothing = _post(
        client,
        f"/partner/groups/{group_id}/sessions/{first_session}/attendance",
        {"enrolment": enrolments},
    )
    assert nothing.status_code == 302  # refused, with a message: nothing was marked
    marks = {f"mark-{e}": "present" for e in enrolments[:3]} | {f"mark-{enrolments[3]}": "absent"}
    taken = _post(
        client,
        f"/partner/groups/{group_id}/sessions/{first_session}/attendance",
        {"enrolment": enrolments, **marks},
    )
    assert taken.status_code == 302
    page = client.get(f"/partner/groups/{group_id}").get_data(as_text=True)
    # Three present, one absent, and the fifth still not recorded.
    assert page.count('data-mark="present"') == 3 and page.count('data-mark="absent"') == 1


def test_a_group_starting_in_the_past_is_refused_and_nothing_is_planned(
    factory: Factory, client: FlaskClient
) -> None:
    partner = factory.organisation("partner")
    leader = factory.account("group_leader", partner)
    log_in(client, leader)
    client.get("/?lang=en")
    refused = _post(
        client,
        "/partner/groups",
        {
            "name": "För sent",
            "group_format": "weekly",
            "start_date": date(clock.today().year - 1, 1, 1).isoformat(),
            "min_age": 7,
            "max_age": 12,
            "leader_ids": [leader.user.id],
        },
    )
    assert refused.status_code == 422
    assert "The start date has already passed." in refused.get_data(as_text=True)
    assert "För sent" not in client.get("/partner/groups").get_data(as_text=True)


def test_a_social_worker_cannot_open_the_groups(factory: Factory, client: FlaskClient) -> None:
    log_in(client, factory.account("social_worker"))
    assert client.get("/partner/groups").status_code == 403


def test_the_fee_report_charges_other_municipalities_5000_per_child_and_names_no_child(
    app: Flask, factory: Factory, client: FlaskClient
) -> None:
    partner = factory.organisation("partner")
    leader = factory.account("group_leader", partner)
    log_in(client, leader)
    paying = ("Nacka kommun", "Nacka kommun", "Solna stad", "=2+3")
    referral_ids = _accepted_referrals(app, factory, partner, leader, 4, paying)
    planned = _post(
        client,
        "/partner/groups",
        {
            "name": "Avgiftsgrupp",
            "group_format": "weekly",
            "start_date": clock.today().isoformat(),
            "min_age": 7,
            "max_age": 12,
            "leader_ids": [leader.user.id],
        },
    )
    group_id = planned.headers["Location"].rsplit("/", 1)[-1]
    for referral_id in referral_ids:
        _post(client, "/partner/groups/place", {"group_id": group_id, "referral_id": referral_id})

    report = client.get(f"/fees?year={clock.today().year}").get_data(as_text=True)
    assert 'data-total="20000"' in report
    assert re.search(r'data-municipality="Nacka kommun"><td>Nacka kommun</td><td>2</td>', report)
    assert "Gruppsida" not in report
    exported = client.get(f"/fees/export.csv?year={clock.today().year}").get_data(as_text=True)
    assert exported.count("Solna stad") == 1 and exported.count(";5000") == 4
    assert "\n'=2+3;" in exported  # typed text never runs as a formula in a spreadsheet
    # Each line shows a child's sealed paying municipality: a read of that child's record.
    with app.app_context():
        readers = request_session().scalars(
            select(AuditEntry.subject_id).where(
                AuditEntry.action == "fee_report:read", AuditEntry.actor_id == leader.user.id
            )
        )
        assert len(set(readers)) == 4


def test_a_social_worker_has_no_fee_report(factory: Factory, client: FlaskClient) -> None:
    log_in(client, factory.account("social_worker"))
    assert client.get("/fees").status_code == 403


def test_a_group_planned_without_leaders_names_the_checkbox_group_in_the_error_summary(
    factory: Factory, client: FlaskClient
) -> None:
    partner = factory.organisation("partner")
    leader = factory.account("group_leader", partner)
    log_in(client, leader)

    refused = _post(
        client,
        "/partner/groups",
        {
            "name": "Grupp utan ledare",
            "group_format": "weekly",
            "start_date": clock.today().isoformat(),
            "min_age": 7,
            "max_age": 12,
        },
    )

    page = refused.get_data(as_text=True)
    assert refused.status_code in (400, 422)
    # The error belongs to the group of checkboxes, and the summary leads to its first box.
    assert re.search(r'<fieldset[^>]*aria-describedby="leader_ids-error"', page)
    assert 'id="leader_ids-error"' in page
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#leader_ids-0"' in summary
