"""A child's record as the district works with it (issue 16, findings 1, 3 and 10): the
personnummer masked with a reveal that is logged before it is shown, the district's own case
number (entered, shown, searched for), the responsible social worker (given at registration,
handed to a colleague, the list filtered and sorted by it), forms that keep what was typed,
and saves that return to the section they were made in."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from audit.actions import Action
from audit.record import record
from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation, User
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import child_record, children
from tests.factories import Account, Factory, csrf_token, invented_personnummer, log_in
from tests.web.refused_forms import outside_its_field, typed_value_of


def _post(client: FlaskClient, path: str, data: dict[str, object]) -> TestResponse:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})


def _register(client: FlaskClient, personnummer: str, name: str) -> str:
    response = _post(client, "/children", {"personnummer": personnummer, "name": name})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def _last_sequence(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.max(AuditEntry.sequence))) or 0)


def _entries(app: Flask, since: int, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            request_session().scalars(
                select(AuditEntry)
                .where(AuditEntry.sequence > since, AuditEntry.action == action)
                .order_by(AuditEntry.sequence)
            )
        )


def _named(app: Flask, account: Account, display_name: str) -> Account:
    """The account, shown as `display_name` (the factory names every account alike)."""
    with app.app_context(), UnitOfWork(request_session()) as uow:
        user = uow.session.get(User, account.user.id)
        assert user is not None
        user.display_name = display_name
        uow.commit()
    return account


@dataclass
class District:
    organisation: Organisation
    worker: Account
    client: FlaskClient


@pytest.fixture
def district(app: Flask, factory: Factory) -> Iterator[District]:
    organisation = factory.organisation("district")
    worker = _named(app, factory.account("social_worker", organisation), "Sara Handläggare")
    client = app.test_client()
    log_in(client, worker)
    yield District(organisation, worker, client)


def _colleague(
    app: Flask, factory: Factory, district: District, name: str
) -> tuple[FlaskClient, Account]:
    account = _named(app, factory.account("social_worker", district.organisation), name)
    client = app.test_client()
    log_in(client, account)
    return client, account


def _actor(account: Account) -> Actor:
    user = account.user
    return Actor(user.id, user.username, user.organisation_id, frozenset({Role.SOCIAL_WORKER}))


# --- Finding 10: the personnummer masked, and a reveal on record --------------------------


@pytest.mark.asvs("V14.2.6")
def test_the_record_shows_the_birth_date_and_hides_the_last_four_digits(
    district: District,
) -> None:
    personnummer = invented_personnummer(2015, 3, 12)
    child_id = _register(district.client, personnummer, "Maskerad Qvist")
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert re.search(r'data-personnummer="masked">20150312-\*\*\*\*<', page)
    for form in (personnummer, personnummer[8:], personnummer[2:], f"20150312-{personnummer[8:]}"):
        assert form not in page
    reveal = re.search(r'<form method="post" action="([^"]+)">\s*<input[^>]*csrf_token', page)
    assert reveal is not None and reveal.group(1) == f"/children/{child_id}/personnummer"


@pytest.mark.asvs("V14.2.6", "V16.3.2")
def test_the_full_number_is_shown_in_the_answer_to_the_post_after_the_look_is_logged(
    app: Flask, district: District
) -> None:
    personnummer = invented_personnummer(2015, 3, 12)
    child_id = _register(district.client, personnummer, "Visad Qvist")
    before = _last_sequence(app)

    shown = _post(district.client, f"/children/{child_id}/personnummer", {})

    body = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Location" not in shown.headers
    assert shown.headers["Cache-Control"] == "no-store"
    assert f'data-personnummer="revealed">20150312-{personnummer[8:]}<' in body
    (entry,) = _entries(app, before, Action.CHILD_REVEAL_PERSONNUMMER.value)
    assert entry.subject_id == child_id and entry.actor_id == district.worker.user.id
    # The page asked for by GET hides it again.
    again = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert personnummer[8:] not in again and 'data-personnummer="masked"' in again


@pytest.mark.asvs("V16.5.3")
def test_a_reveal_whose_access_entry_cannot_be_written_shows_nothing(
    district: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    personnummer = invented_personnummer(2015, 3, 12)
    child_id = _register(district.client, personnummer, "Ologgad Qvist")

    def no_log_for_reveals(*args: object, **kwargs: object) -> None:
        if Action.CHILD_REVEAL_PERSONNUMMER in args:
            raise RuntimeError("the access log cannot be written")
        record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(children, "record", no_log_for_reveals)
    refused = _post(district.client, f"/children/{child_id}/personnummer", {})
    assert refused.status_code == 500
    assert personnummer[8:] not in refused.get_data(as_text=True)


@pytest.mark.asvs("V3.5.1", "V8.2.2")
def test_a_reveal_without_the_forms_token_or_of_another_districts_child_shows_nothing(
    factory: Factory, district: District
) -> None:
    personnummer = invented_personnummer(2015, 3, 12)
    child_id = _register(district.client, personnummer, "Skyddad Qvist")
    forged = district.client.post(f"/children/{child_id}/personnummer")
    assert forged.status_code == 400 and personnummer[8:] not in forged.get_data(as_text=True)
    elsewhere = factory.app.test_client()
    log_in(elsewhere, factory.account("social_worker"))
    other = _post(elsewhere, f"/children/{child_id}/personnummer", {})
    assert other.status_code == 404 and personnummer[8:] not in other.get_data(as_text=True)


def test_the_dpo_reads_the_reveal_in_swedish_in_the_log_and_the_persons_report(
    factory: Factory, district: District
) -> None:
    personnummer = invented_personnummer(2015, 3, 12)
    child_id = _register(district.client, personnummer, "Granskad Qvist")
    assert _post(district.client, f"/children/{child_id}/personnummer", {}).status_code == 200
    dpo = factory.app.test_client()
    log_in(dpo, factory.account("dpo"))
    log = dpo.get("/dpo/audit?action=child:reveal_personnummer").get_data(as_text=True)
    assert "Fullständigt personnummer visat" in log
    assert district.worker.username in log
    token = csrf_token(dpo, "/dpo/subject-access")
    report = dpo.post(
        "/dpo/subject-access", data={"personnummer": personnummer, "csrf_token": token}
    )
    body = report.get_data(as_text=True)
    assert 'data-action="child:reveal_personnummer"' in body
    assert "Fullständigt personnummer visat" in body


# --- Finding 10: the district's own case number -------------------------------------------


def test_a_case_number_is_saved_shown_and_refused_by_its_rule(district: District) -> None:
    child_id = _register(district.client, invented_personnummer(2014, 4, 4), "Ärende Qvist")

    saved = _post(
        district.client, f"/children/{child_id}/case-number", {"case_number": " IFO  2026/123 "}
    )
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/children/{child_id}#identity")
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert "<dd data-case-number>IFO 2026/123</dd>" in page

    for typed in ("IFO#2026", "x" * 41):
        refused = _post(
            district.client, f"/children/{child_id}/case-number", {"case_number": typed}
        )
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422
        error = re.search(r'<p class="error" id="case_number-error">([^<]*)</p>', body)
        assert error is not None and "högst 40 tecken" in error.group(1)
        assert typed not in error.group(1)
        assert typed_value_of(body, "case_number") == typed  # to be mended, not retyped
    unchanged = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert "<dd data-case-number>IFO 2026/123</dd>" in unchanged

    cleared = _post(district.client, f"/children/{child_id}/case-number", {"case_number": ""})
    assert cleared.status_code == 302
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert "<dd data-case-number>–</dd>" in page


def _find(client: FlaskClient, typed: str) -> TestResponse:
    token = csrf_token(client, "/")
    return client.post(
        "/children/find", data={"find-personnummer": typed, "find-csrf_token": token}
    )


def _found_ids(page: str) -> list[str]:
    found = page.split('class="found"', 1)
    if len(found) == 1:
        return []
    return re.findall(r'href="/children/([0-9a-f-]{36})"', found[1].split("</ul>", 1)[0])


def test_the_search_box_finds_a_child_by_case_number_whole_in_the_district_only(
    app: Flask, factory: Factory, district: District
) -> None:
    child_id = _register(district.client, invented_personnummer(2014, 4, 4), "Numrerad Qvist")
    digits_id = _register(district.client, invented_personnummer(2013, 3, 3), "Siffer Qvist")
    _register(district.client, invented_personnummer(2012, 2, 2), "Annan Qvist")
    _post(district.client, f"/children/{child_id}/case-number", {"case_number": "IFO 2026/123"})
    _post(district.client, f"/children/{digits_id}/case-number", {"case_number": "2026-00417"})
    elsewhere = app.test_client()
    log_in(elsewhere, factory.account("social_worker"))
    foreign = _register(elsewhere, invented_personnummer(2011, 1, 1), "Främling Qvist")
    _post(elsewhere, f"/children/{foreign}/case-number", {"case_number": "IFO 2026/123"})

    for typed in ("IFO 2026/123", "ifo2026/123", " ifo 2026 / 123 "):
        page = _find(district.client, typed)
        assert page.status_code == 200
        assert _found_ids(page.get_data(as_text=True)) == [child_id], typed
    # The search reads every case number of the district (they are sealed), but only the
    # child it finds is on record.
    before = _last_sequence(app)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        found = child_record.district_children_named(
            uow, _actor(district.worker), "ifo 2026/123", clock.today()
        )
    assert [child.id for child in found] == [child_id]
    assert [e.subject_id for e in _entries(app, before, "child:list")] == [child_id]

    assert _found_ids(_find(district.client, "2026-00417").get_data(as_text=True)) == [digits_id]
    # Whole numbers only: a part of the district's numbering finds no one.
    part = _find(district.client, "IFO 2026")
    assert part.status_code == 200 and _found_ids(part.get_data(as_text=True)) == []
    # Digits that are neither a case number nor a personnummer: the personnummer's rule.
    neither = _find(district.client, "2026-99999")
    assert neither.status_code == 422 and 'id="find-personnummer-error"' in neither.get_data(True)


# --- Finding 1: the responsible social worker ---------------------------------------------


def test_the_social_worker_who_registers_a_child_is_responsible_and_a_colleague_can_take_over(
    app: Flask, factory: Factory, district: District
) -> None:
    child_id = _register(district.client, invented_personnummer(2014, 4, 4), "Ansvar Qvist")
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert "<dd data-responsible>Sara Handläggare</dd>" in page
    colleague, colleague_account = _colleague(app, factory, district, "Olle Kollega")
    colleague_id = colleague_account.user.id
    outsider = factory.account("social_worker")  # another district's
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    options = re.search(r'<select[^>]*name="responsible_worker_id".*?</select>', page, re.S)
    assert options is not None and f'value="{colleague_id}"' in options.group(0)
    assert outsider.user.id not in options.group(0)

    before = _last_sequence(app)
    handed = _post(
        colleague, f"/children/{child_id}/responsible", {"responsible_worker_id": colleague_id}
    )
    assert handed.status_code == 302
    assert handed.headers["Location"].endswith(f"/children/{child_id}#identity")
    (change,) = _entries(app, before, "child:update")
    assert change.subject_id == child_id and change.actor_id == colleague_id
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert "<dd data-responsible>Olle Kollega</dd>" in page

    refused = _post(
        colleague, f"/children/{child_id}/responsible", {"responsible_worker_id": outsider.user.id}
    )
    assert refused.status_code == 422
    assert 'id="responsible_worker_id-error"' in refused.get_data(as_text=True)
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert "<dd data-responsible>Olle Kollega</dd>" in page


def _listed(client: FlaskClient, query: str = "") -> list[str]:
    page = client.get(f"/children{query}").get_data(as_text=True)
    return re.findall(r'<tr data-child="([0-9a-f-]{36})">', page)


def test_the_list_shows_my_children_or_the_districts_and_sorts_by_name_age_or_status(
    app: Flask, factory: Factory, district: District
) -> None:
    partner = factory.organisation("partner", name="Bris Sortering")
    colleague, _account = _colleague(app, factory, district, "Olle Kollega")
    # Registered oldest first, so the default order (newest first) is the reverse.
    oskar = _register(district.client, invented_personnummer(2012, 1, 1), "Öberg Oskar")
    anna = _register(district.client, invented_personnummer(2016, 1, 1), "Andersson Anna")
    asa = _register(colleague, invented_personnummer(2014, 1, 1), "Åberg Åsa")
    drafted = _post(
        district.client,
        f"/children/{oskar}/referrals",
        {"partner_id": partner.id, "preferred_format": "weekly"},
    )
    assert drafted.status_code == 302
    assert drafted.headers["Location"].endswith(f"/children/{oskar}#referrals")

    assert _listed(district.client) == [asa, anna, oskar]
    assert _listed(district.client, "?show=mine") == [anna, oskar]
    assert _listed(colleague, "?show=mine") == [asa]
    assert _listed(district.client, "?sort=name") == [anna, asa, oskar]  # Å before Ö
    assert _listed(district.client, "?sort=age") == [anna, asa, oskar]  # youngest first
    assert _listed(district.client, "?sort=status") == [oskar, anna, asa]  # a draft waits
    assert _listed(district.client, "?sort=shoe-size") == [asa, anna, oskar]

    page = district.client.get("/children?show=mine&sort=name").get_data(as_text=True)
    assert re.search(r'<strong aria-current="true">Mina barn</strong>', page)
    assert '<a href="/children?sort=name">Alla barn i stadsdelen</a>' in page
    row = re.search(rf'<tr data-child="{oskar}">.*?</tr>', page, re.S)
    assert row is not None and "Sara Handläggare" in row.group(0)
    assert 'data-status="draft"' in row.group(0)
    # The list's addresses carry words of its own, never a name or a number.
    for link in re.findall(r'href="(/children\?[^"]*)"', page.replace("&amp;", "&")):
        assert re.fullmatch(r"/children\?(?:(?:show|sort|concern|lang)=[a-z0-9]+&?)+", link), link


def test_the_start_page_gets_a_social_workers_own_children_with_their_open_referrals(
    app: Flask, factory: Factory, district: District
) -> None:
    partner = factory.organisation("partner", name="Bris Startsida")
    colleague, _account = _colleague(app, factory, district, "Olle Kollega")
    mine = _register(district.client, invented_personnummer(2014, 1, 1), "Egen Qvist")
    theirs = _register(colleague, invented_personnummer(2014, 2, 2), "Deras Qvist")
    _post(
        district.client,
        f"/children/{mine}/referrals",
        {"partner_id": partner.id, "preferred_format": "weekly"},
    )
    before = _last_sequence(app)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        (child,) = child_record.children_in_care_of(uow, _actor(district.worker), clock.today())
    assert child.id == mine and child.responsible_worker == "Sara Handläggare"
    (referral,) = child.open_referrals
    assert (referral.partner_name, referral.status) == ("Bris Startsida", "draft")
    assert [e.subject_id for e in _entries(app, before, "child:list")] == [mine]
    assert theirs not in {e.subject_id for e in _entries(app, before, "child:list")}


# --- Finding 3: what was typed stays; a save returns to its section -----------------------


def test_a_refused_registration_keeps_what_was_typed_and_says_it_nowhere_else(
    district: District, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typed = invented_personnummer(2031, 1, 1)  # born in the future: refused
    response = _post(
        district.client, "/children", {"personnummer": typed, "name": "Framtida Qvist"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Location" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert typed_value_of(body, "personnummer") == typed
    assert typed_value_of(body, "name") == "Framtida Qvist"
    assert 'id="personnummer-error"' in body
    assert typed[2:8] not in outside_its_field(body, "personnummer")
    assert typed not in caplog.text and typed[2:8] not in caplog.text


def test_a_refused_search_keeps_what_was_typed_and_an_answered_one_empties_the_box(
    district: District,
) -> None:
    personnummer = invented_personnummer(2014, 4, 4)
    _register(district.client, personnummer, "Sökt Qvist")
    wrong = personnummer[:-1] + str((int(personnummer[-1]) + 1) % 10)
    refused = _find(district.client, wrong)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert typed_value_of(body, "find-personnummer") == wrong
    assert wrong[2:8] not in outside_its_field(body, "find-personnummer")
    answered = _find(district.client, personnummer).get_data(as_text=True)
    assert typed_value_of(answered, "find-personnummer") in ("", None)
    assert personnummer[2:8] not in answered


def test_a_refused_form_on_the_record_keeps_what_was_typed(district: District) -> None:
    child_id = _register(district.client, invented_personnummer(2014, 4, 4), "Formulär Qvist")
    refused = _post(
        district.client,
        f"/children/{child_id}/guardians",
        {"name": "", "contact": "070-111 22 33", "has_custody": "y"},
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert typed_value_of(body, "contact") == "070-111 22 33"


def test_each_save_on_the_record_returns_to_the_section_it_was_made_in(
    factory: Factory, district: District
) -> None:
    factory.activity_description("A-2026:1", factory.organisation("partner"))
    child_id = _register(district.client, invented_personnummer(2014, 4, 4), "Sektion Qvist")
    at = f"/children/{child_id}"

    def lands(path: str, data: dict[str, object], section: str) -> None:
        response = _post(district.client, f"{at}/{path}", data)
        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.headers["Location"].endswith(f"{at}#{section}"), path

    details = ("gender", "family_home_name", "family_home_address", "family_home_phone")
    lands(
        "details",
        {**dict.fromkeys(details, ""), "paying_municipality": "", "child_views": ""},
        "details",
    )
    lands("placement", {"basis": "SoL"}, "placement")
    lands("guardians", {"name": "Vårdnadshavare Qvist", "has_custody": "y"}, "guardians")
    lands("case-number", {"case_number": "A-1"}, "identity")
    page = district.client.get(at).get_data(as_text=True)
    party = re.search(r'name="party".*?</select>', page, re.S)
    assert party is not None
    (guardian,) = re.findall(r'<option[^>]*value="([0-9a-f-]{36})"', party.group(0))
    lands(
        "consents",
        {
            "party": guardian,
            "decision": "given",
            "categories": ["name", "age"],
            "decided_on": clock.today().isoformat(),
            "valid_until": (clock.today() + timedelta(days=90)).isoformat(),
            "method": "written",
            "description_version": "A-2026:1",
        },
        "consents",
    )
    for section in ("identity", "details", "placement", "guardians", "consents", "referrals"):
        assert f'<section class="card" id="{section}"' in page, section


def test_a_consent_without_categories_names_the_checkbox_group_in_the_summary(
    factory: Factory, district: District
) -> None:
    factory.activity_description("A-2026:1", factory.organisation("partner"))
    child_id = _register(district.client, invented_personnummer(2014, 4, 5), "Kategori Qvist")
    refused = _post(
        district.client,
        f"/children/{child_id}/consents",
        {
            "party": "child",
            "decision": "given",
            "decided_on": clock.today().isoformat(),
            "valid_until": (clock.today() + timedelta(days=90)).isoformat(),
            "method": "written",
            "description_version": "A-2026:1",
        },
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'<fieldset[^>]*aria-describedby="categories-error"', page)
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#categories-0"' in summary


def test_the_record_of_a_child_under_lvu_offers_no_guardian_consent_form_but_prints(
    district: District,
) -> None:
    child_id = _register(district.client, invented_personnummer(2014, 4, 6), "Lvu Qvist")
    _post(
        district.client,
        f"/children/{child_id}/placement",
        {
            "basis": "LVU",
            "lvu_decision": "Beslut 9/2026",
            "lvu_decided_by": "Socialnämnden",
            "lvu_decided_on": clock.today().isoformat(),
        },
    )
    page = district.client.get(f"/children/{child_id}").get_data(as_text=True)
    assert 'id="no-consent-form-under-lvu"' in page
    assert f"/children/{child_id}/consent-form" not in page
    assert "data-print" in page  # the print button, shown by print.js
