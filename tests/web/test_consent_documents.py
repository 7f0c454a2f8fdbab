"""Consent paperwork in the browser: the city publishes activity descriptions; the social
worker prints a Swedish information letter and consent form prefilled for one child, and
works through the queue of consents about to lapse. Every page showing a child is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from config.settings import ConfigError, Settings, load_settings
from referral import clock
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, organisations, referrals, sharing, users
from tests.conftest import FrozenClock, app_in_rolled_back_transaction
from tests.factories import (
    SYSTEM,
    Account,
    Factory,
    csrf_token,
    invented_personnummer,
    log_in,
    social_worker_actor,
)

VERSION = "Bris 2026:1"
LETTER = "Stödgrupperna leds av Bris stödgruppsledare.\nÅtta träffar om två timmar."
GUARDIANS = ("Mamma Blankettsson", "Pappa Blankettsson")


@dataclass
class Office:
    """A district with a logged-in social worker, and a partner with a published letter."""

    app: Flask
    factory: Factory
    client: FlaskClient
    district: Organisation
    partner: Organisation
    actor: Actor
    account: Account | None = None


@pytest.fixture
def office(app: Flask, factory: Factory, client: FlaskClient) -> Office:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(VERSION, partner, LETTER)
    account = factory.account("social_worker", district)
    log_in(client, account)
    return Office(
        app, factory, client, district, partner, social_worker_actor(factory, district), account
    )


def _born(years_ago: int) -> date:
    return date(clock.today().year - years_ago, 1, 15)


def _child(
    office: Office,
    name: str = "Blankett Barnsson",
    born: date | None = None,
    basis: str = "SoL",
    guardians: tuple[str, ...] = GUARDIANS,
    actor: Actor | None = None,
) -> tuple[str, list[str], str]:
    """A registered child with custodial guardians; returns (id, guardian ids, personnummer)."""
    born = born or _born(10)
    personnummer = invented_personnummer(born.year, born.month, born.day)
    actor = actor or office.actor
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        child = children.register_child(uow, actor, children.NewChild(personnummer, name))
        if basis == "LVU":
            consent.record_placement(
                uow,
                actor,
                child.id,
                "LVU",
                "Beslut 3/2026",
                "Farsta SDN",
                date(2026, 1, 15),
                today=clock.today(),
            )
        else:
            consent.record_placement(uow, actor, child.id, basis, today=clock.today())
        ids = [
            consent.add_guardian(uow, actor, child.id, guardian, None, True, today=clock.today()).id
            for guardian in guardians
        ]
        return child.id, ids, personnummer


def _entries(app: Flask, action: str, subject: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if subject is not None:
        query = query.where(AuditEntry.subject_id == subject)
    with app.app_context():
        return int(request_session().scalar(query) or 0)


def _form_url(child_id: str, partner: Organisation | str) -> str:
    partner_id = partner if isinstance(partner, str) else partner.id
    return f"/children/{child_id}/consent-form?partner={partner_id}"


# --- the information letter and consent form ------------------------------------------------


def test_the_form_prints_the_letter_and_a_consent_page_for_each_custodial_guardian(
    office: Office,
) -> None:
    child_id, guardian_ids, _pnr = _child(office)
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        consent.add_guardian(
            uow, office.actor, child_id, "Utan Vårdnad", None, False, today=clock.today()
        )

    page = office.client.get(_form_url(child_id, office.partner))
    body = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "Stödgrupperna leds av Bris stödgruppsledare." in body
    assert "Blankett Barnsson" in body
    assert f'data-description-version="{VERSION}"' in body
    blocks = re.findall(r'data-guardian="([^"]+)"', body)
    assert blocks == guardian_ids, "one block per guardian with custody, none for the other"
    for name in GUARDIANS:
        assert name in body
    assert "Utan Vårdnad" not in body
    for category in ("name", "age", "contact_details", "participation"):
        assert body.count(f'data-category="{category}"') == len(GUARDIANS)
    assert body.count("version-footer") == len(GUARDIANS) + 1  # the version on every page


def test_viewing_the_form_is_one_audited_read_of_the_childs_record(office: Office) -> None:
    child_id, _ids, _pnr = _child(office)
    before = _entries(office.app, "consent_form:read", child_id)
    assert office.client.get(_form_url(child_id, office.partner)).status_code == 200
    assert _entries(office.app, "consent_form:read", child_id) == before + 1
    with office.app.app_context():
        entry = request_session().scalar(
            select(AuditEntry).where(
                AuditEntry.action == "consent_form:read", AuditEntry.subject_id == child_id
            )
        )
        assert entry is not None
        assert (entry.object_type, entry.object_id) == ("child", child_id)
        assert entry.subject_holder == f"district:{office.district.id}"


def test_a_child_under_15_gets_a_note_of_their_views_instead_of_a_consent(
    office: Office,
) -> None:
    child_id, _ids, _pnr = _child(office, born=_born(10))
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert 'data-party="child-views"' in body
    assert 'data-party="child"' not in body


def test_a_child_of_15_placed_under_sol_signs_a_consent_of_their_own(office: Office) -> None:
    child_id, _ids, _pnr = _child(office, name="Femton Årsson", born=_born(16))
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert 'data-party="child"' in body and 'data-party="child-views"' not in body
    assert body.count('id="child-') == 4 + 2  # four categories, consent yes/no


def test_a_child_placed_under_lvu_is_refused_the_guardians_consent_form_saying_why(
    office: Office,
) -> None:
    child_id, _ids, _pnr = _child(office, name="Lvu Blankettlös", born=_born(16), basis="LVU")
    refused = office.client.get(_form_url(child_id, office.partner))
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Barnet är placerat enligt LVU" in body
    assert "inte på vårdnadshavarnas samtycke" in body
    assert "Lvu Blankettlös" not in body and GUARDIANS[0] not in body
    assert "Stödgrupperna leds av Bris" not in body, "no letter either"
    with office.app.app_context():
        entries = request_session().scalars(
            select(AuditEntry).where(
                AuditEntry.action == "consent_form:read", AuditEntry.subject_id == child_id
            )
        )
        assert [entry.outcome for entry in entries] == ["denied"], "the attempt is logged"


# --- what the paper says: who the child is, whom to call, where it goes back ---------------


def _readable(personnummer: str) -> str:
    return f"{personnummer[:8]}-{personnummer[8:]}"


def _on_the_row(office: Office, child_id: str, **values: str | None) -> None:
    """Facts other pages record (the case number, the responsible social worker), set on
    the child's row directly: this module tests what the form prints of them."""
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        child = uow.session.get(children.Child, child_id)
        assert child is not None
        for name, value in values.items():
            setattr(child, name, value)
        uow.commit()


def _work_phone(office: Office, user_id: str, phone: str) -> None:
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        users.set_work_phone(uow, SYSTEM, user_id, phone)


def _postal_address(office: Office, address: str) -> None:
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        organisations.set_postal_address(uow, SYSTEM, office.district.id, address)


def _text_of(body: str, css_class: str) -> list[str]:
    """The text of every element with this class, tags dropped: what the paper says there."""
    found = re.findall(rf'class="{css_class}">(.*?)</(?:dd|span|p)>', body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", text).split()) for text in found]


def test_every_page_names_the_child_by_name_personnummer_and_the_districts_case_number(
    office: Office,
) -> None:
    child_id, _ids, personnummer = _child(office, born=_born(10))
    _on_the_row(office, child_id, case_number="IFO 2026-04711")
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    pages = 1 + len(GUARDIANS) + 1  # the letter, a page per guardian, the child's views
    assert _text_of(body, "child-name") == ["Blankett Barnsson"] * pages
    assert _text_of(body, "child-personnummer") == [_readable(personnummer)] * pages
    assert _text_of(body, "case-number") == ["IFO 2026-04711"] * pages
    assert "Ärendenummer" in body


def test_a_child_without_a_case_number_gets_no_empty_case_number_line(office: Office) -> None:
    child_id, _ids, personnummer = _child(office)
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert 'class="case-number"' not in body and "Ärendenummer" not in body
    assert _readable(personnummer) in body


def test_the_form_says_whom_to_call_and_where_to_send_it_on_every_page(office: Office) -> None:
    child_id, _ids, _pnr = _child(office)
    _work_phone(office, office.account.user.id, "08-508 123 45")
    _postal_address(office, "Farsta stadsdelsförvaltning\nBox 3\n123 21 Farsta")
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    pages_returned = 1 + len(GUARDIANS)  # the letter and each guardian's page
    assert (
        _text_of(body, "social-worker")
        == [f"{office.account.user.display_name}, tfn 08-508 123 45"] * pages_returned
    )
    assert (
        _text_of(body, "return-address")
        == [f"{office.district.name} Farsta stadsdelsförvaltning, Box 3, 123 21 Farsta"]
        * pages_returned
    )
    assert 'id="no-work-phone"' not in body and 'id="no-return-address"' not in body


def test_without_a_phone_or_an_address_the_screen_says_so_and_the_paper_has_a_line(
    office: Office,
) -> None:
    child_id, _ids, _pnr = _child(office)
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert 'id="no-work-phone"' in body and "sidan Användarkonton" in body
    assert 'id="no-return-address"' in body and "sidan Organisationer" in body
    assert "tfn" not in "".join(_text_of(body, "social-worker"))
    assert '<span class="line"></span>' in body, "a line to write the address on"


def test_the_childs_responsible_social_worker_is_named_while_their_account_is_active(
    office: Office,
) -> None:
    child_id, _ids, _pnr = _child(office)
    colleague = office.factory.account("social_worker", office.district)
    _work_phone(office, colleague.user.id, "+46 8 508 999 99")
    _on_the_row(office, child_id, responsible_worker_id=colleague.user.id)
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert "+46 8 508 999 99" in body, "the responsible social worker, not the one printing"

    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        users.disable_user(uow, SYSTEM, colleague.user.id)
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert "+46 8 508 999 99" not in body, "a disabled account answers no phone"
    assert 'id="no-work-phone"' in body, "the one printing is named, without a phone yet"


def test_the_printed_date_is_stockholms_day(frozen_clock: FrozenClock, office: Office) -> None:
    child_id, _ids, _pnr = _child(office)
    frozen_clock.move(minutes=1)  # 23:00:30 UTC on 1 March: already 2 March in Stockholm
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert _text_of(body, "printed-on") == ["Utskriven 2027-03-02"]
    assert "Utskriven 2027-03-01" not in body
    assert body.count("Utskriven 2027-03-02") == 1 + len(GUARDIANS) + 1  # letter and footers


def test_the_categories_are_printed_in_the_words_of_the_childs_page(office: Office) -> None:
    child_id, _ids, _pnr = _child(office)
    screen = office.client.get(f"/children/{child_id}").get_data(as_text=True)
    paper = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    on_screen = dict(
        re.findall(r'<li data-category="([a-z_]+)"[^>]*>\s*<strong>([^<]+?):</strong>', screen)
    )
    on_paper = dict(
        re.findall(r'data-category="([a-z_]+)"><label for="g1-[a-z_]+">([^<]+)<', paper)
    )
    assert len(on_paper) == 4
    assert on_paper == on_screen
    assert on_paper["participation"] == "Registrering av deltagande"


def test_the_form_has_a_print_button_that_script_reveals(office: Office) -> None:
    child_id, _ids, _pnr = _child(office)
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert re.search(r"<button type=\"button\"[^>]* data-print hidden>Skriv ut</button>", body)
    assert '<script src="/static/print.js" defer></script>' in body
    assert '<link rel="stylesheet" href="/static/print.css" media="print">' in body


def test_the_form_uses_the_version_published_last(office: Office) -> None:
    office.factory.activity_description("Bris 2026:2", office.partner, "Rättad text om grupperna.")
    child_id, _ids, _pnr = _child(office)
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert 'data-description-version="Bris 2026:2"' in body
    assert "Rättad text om grupperna." in body and "Åtta träffar" not in body


def test_the_letter_stays_in_swedish_when_the_social_worker_reads_english(
    office: Office,
) -> None:
    child_id, _ids, _pnr = _child(office)
    body = office.client.get(_form_url(child_id, office.partner) + "&lang=en").get_data(
        as_text=True
    )
    assert '<html lang="sv">' in body


def test_another_districts_child_is_not_found_and_nothing_is_read(office: Office) -> None:
    stranger = social_worker_actor(office.factory)
    child_id, _ids, _pnr = _child(office, name="Annans Barn", actor=stranger)
    page = office.client.get(_form_url(child_id, office.partner))
    assert page.status_code == 404
    assert "Annans Barn" not in page.get_data(as_text=True)
    assert _entries(office.app, "consent_form:read", child_id) == 0
    assert office.client.get(_form_url("no-such-child", office.partner)).status_code == 404


def test_the_form_needs_a_partner_with_a_published_description(office: Office) -> None:
    child_id, _ids, _pnr = _child(office)
    assert office.client.get(f"/children/{child_id}/consent-form").status_code == 422
    assert office.client.get(_form_url(child_id, office.district)).status_code == 422
    silent = office.factory.organisation("partner")
    refused = office.client.get(_form_url(child_id, silent))
    assert refused.status_code == 409
    assert "Blankett Barnsson" not in refused.get_data(as_text=True)
    assert _entries(office.app, "consent_form:read", child_id) == 0


def test_the_print_stylesheet_hides_the_screen_and_gives_each_guardian_an_a4_page(
    office: Office,
) -> None:
    child_id, _ids, _pnr = _child(office)
    body = office.client.get(_form_url(child_id, office.partner)).get_data(as_text=True)
    assert 'href="/static/consent.css"' in body
    with office.client.get("/static/consent.css") as stylesheet:
        css = stylesheet.get_data(as_text=True)
    print_rules = css[css.index("@media print") :]
    assert "size: A4" in print_rules
    assert re.search(r"\.consent-block \{[^}]*break-before: page", print_rules)
    # What no printed page shows is the print stylesheet's, for every page alike.
    with office.client.get("/static/print.css") as stylesheet:
        paper = stylesheet.get_data(as_text=True)
    hidden = re.search(r"([^{}]+)\{\s*display: none !important;\s*\}", paper)
    assert hidden is not None
    selectors = {selector.strip() for selector in hidden.group(1).split(",")}
    assert {".top", ".main-menu", "nav", "form", "button", ".flash", ".no-print"} <= selectors
    assert re.search(r"a\[href\]::after \{ content: none", paper), "no addresses spelled out"


# --- the consent-lapse queue ----------------------------------------------------------------


def _consents(
    office: Office, child_id: str, parties: list[str], valid_until: date, decided_on: date
) -> None:
    """Each party's consent, recorded on the day it was decided (so a consent that has ended
    since was shared while it held)."""
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        for party in parties:
            consent.record_consent(
                uow,
                office.actor,
                child_id,
                consent.ConsentInput(
                    party=party,
                    decision="given",
                    categories=("name", "age"),
                    decided_on=decided_on,
                    valid_until=valid_until,
                    method="written",
                    description_version=VERSION,
                ),
                today=decided_on,
            )


def _referral(office: Office, child_id: str, day: date) -> str:
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        referral = referrals.create_referral(
            uow,
            office.actor,
            referrals.NewReferral(child_id, office.partner.id, "weekly"),
            today=clock.today(),
        )
        referrals.submit_referral(uow, office.actor, referral.id, day)
        return referral.id


def _leader_inbox(office: Office, day: date) -> list[str]:
    leader = Actor("leader", "gruppledare", office.partner.id, frozenset({Role.GROUP_LEADER}))
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        return [view.referral_id for view in referrals.partner_inbox(uow, leader, day)]


def _queue_rows(office: Office) -> dict[str, str]:
    """The queue's rows by consent id, as the social worker sees them."""
    page = office.client.get("/consents/expiring")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    return dict(re.findall(r'data-consent="([^"]+)">(.*?)</tr>', body, flags=re.S))


def _consent_ids(office: Office, child_id: str) -> list[str]:
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        child = uow.session.get(children.Child, child_id)
        assert child is not None
        return [c.consent_id for c in sharing.current_consents(uow, child)]


def test_a_partner_loses_the_child_the_day_after_valid_until_and_the_queue_shows_it_lapsed(
    office: Office,
) -> None:
    ended = clock.today() - timedelta(days=1)
    child_id, guardian_ids, _pnr = _child(office, name="Utgången Samtyckesson")
    referral_id = _referral(office, child_id, clock.today() - timedelta(days=30))
    _consents(
        office, child_id, guardian_ids, valid_until=ended, decided_on=clock.today() - timedelta(30)
    )

    assert _leader_inbox(office, ended) == [referral_id], "shared while the consent was valid"
    assert _leader_inbox(office, clock.today()) == [], "gone the day after valid_until"

    rows = _queue_rows(office)
    assert set(rows) == set(_consent_ids(office, child_id))
    for row in rows.values():
        assert "Utgången Samtyckesson" in row and ended.isoformat() in row
        assert f'data-referral="{referral_id}"' in row
    assert {name for name in GUARDIANS if any(name in row for row in rows.values())} == set(
        GUARDIANS
    )
    assert 'class="lapsed"' in office.client.get("/consents/expiring").get_data(as_text=True)


def test_the_queue_lists_consents_ending_soon_with_the_days_left(office: Office) -> None:
    child_id, guardian_ids, _pnr = _child(office, name="Snart Slutsson", born=_born(16))
    _consents(office, child_id, guardian_ids, clock.today() + timedelta(days=5), clock.today())
    _consents(office, child_id, ["child"], clock.today() + timedelta(days=60), clock.today())
    later_id, later_guardians, _pnr = _child(office, name="Långt Kvarsson")
    _consents(office, later_id, later_guardians, clock.today() + timedelta(days=60), clock.today())

    rows = _queue_rows(office)
    assert len(rows) == 2, "the two guardians' consents ending in 5 days, nothing else"
    for row in rows.values():
        assert "Snart Slutsson" in row and "<td>5</td>" in row
    body = office.client.get("/consents/expiring").get_data(as_text=True)
    assert "Långt Kvarsson" not in body


def test_a_decision_withdrawn_or_a_lapsed_consent_without_a_shared_referral_is_not_queued(
    office: Office,
) -> None:
    withdrawn_id, withdrawn_guardians, _pnr = _child(office, name="Återkallad Barnsson")
    _consents(
        office, withdrawn_id, withdrawn_guardians, clock.today() + timedelta(days=3), clock.today()
    )
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        for party in withdrawn_guardians:
            consent.record_consent(
                uow,
                office.actor,
                withdrawn_id,
                consent.ConsentInput(
                    party, "withdrawn", (), clock.today(), clock.today(), "oral", VERSION
                ),
                today=clock.today(),
            )
    idle_id, idle_guardians, _pnr = _child(office, name="Ingen Remissson")
    _consents(
        office,
        idle_id,
        idle_guardians,
        clock.today() - timedelta(days=2),
        clock.today() - timedelta(9),
    )
    assert _queue_rows(office) == {}


def test_a_child_placed_under_lvu_is_not_queued_because_sharing_rests_on_the_decision(
    office: Office,
) -> None:
    child_id, guardian_ids, _pnr = _child(office, name="Lvu Köfri", basis="LVU")
    _consents(office, child_id, guardian_ids, clock.today() + timedelta(days=3), clock.today())
    assert _queue_rows(office) == {}
    assert _entries(office.app, "consent_queue:read", child_id) == 0


def test_the_queue_shows_only_the_social_workers_own_district(office: Office) -> None:
    stranger = social_worker_actor(office.factory)
    child_id, guardian_ids, _pnr = _child(office, name="Annat Distriktsson", actor=stranger)
    with office.app.app_context(), UnitOfWork(request_session()) as uow:
        for party in guardian_ids:
            consent.record_consent(
                uow,
                stranger,
                child_id,
                consent.ConsentInput(
                    party,
                    "given",
                    ("name",),
                    clock.today(),
                    clock.today() + timedelta(2),
                    "written",
                    VERSION,
                ),
                today=clock.today(),
            )
    body = office.client.get("/consents/expiring").get_data(as_text=True)
    assert "Annat Distriktsson" not in body
    assert _entries(office.app, "consent_queue:read", child_id) == 0


def test_the_queue_writes_one_entry_per_child_shown(office: Office) -> None:
    first, first_guardians, _pnr = _child(office, name="Första Köbarn")
    second, second_guardians, _pnr = _child(office, name="Andra Köbarn")
    _consents(office, first, first_guardians, clock.today() + timedelta(days=1), clock.today())
    _consents(office, second, second_guardians, clock.today() + timedelta(days=2), clock.today())
    before = _entries(office.app, "consent_queue:read")
    assert len(_queue_rows(office)) == 4
    assert _entries(office.app, "consent_queue:read") == before + 2
    assert _entries(office.app, "consent_queue:read", first) == 1
    assert _entries(office.app, "consent_queue:read", second) == 1


def test_the_warning_window_is_a_setting(settings: Settings) -> None:
    narrow = replace(settings, consent_lapse_warning_days=3)
    with app_in_rolled_back_transaction(narrow) as app:
        factory = Factory(app, narrow)
        district, partner = factory.organisation("district"), factory.organisation("partner")
        factory.activity_description(VERSION, partner, LETTER)
        client = app.test_client()
        log_in(client, factory.account("social_worker", district))
        office = Office(
            app, factory, client, district, partner, social_worker_actor(factory, district)
        )
        soon, soon_guardians, _pnr = _child(office, name="Tre Dagarsson")
        later, later_guardians, _pnr = _child(office, name="Fem Dagarsson")
        _consents(office, soon, soon_guardians, clock.today() + timedelta(days=3), clock.today())
        _consents(office, later, later_guardians, clock.today() + timedelta(days=5), clock.today())
        body = client.get("/consents/expiring").get_data(as_text=True)
    assert "Tre Dagarsson" in body and "Fem Dagarsson" not in body


def test_the_warning_window_is_read_from_the_environment_with_a_default_of_14_days(
    settings: Settings,
) -> None:
    environ = {
        "REFERRAL_SECRET_KEY": settings.secret_key,
        "REFERRAL_MFA_KEY": settings.mfa_key,
        "REFERRAL_BLIND_INDEX_KEY": settings.blind_index_key,
        "REFERRAL_AUDIT_KEY": settings.audit_key,
    }
    assert load_settings(environ).consent_lapse_warning_days == 42
    changed = {**environ, "REFERRAL_CONSENT_LAPSE_WARNING_DAYS": "30"}
    assert load_settings(changed).consent_lapse_warning_days == 30
    with pytest.raises(ConfigError, match="CONSENT_LAPSE_WARNING_DAYS"):
        load_settings({**environ, "REFERRAL_CONSENT_LAPSE_WARNING_DAYS": "-1"})


# --- who may do what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["group_leader", "admin", "dpo"])
def test_only_social_workers_reach_the_consent_form_and_the_queue(
    office: Office, role: str
) -> None:
    child_id, _ids, _pnr = _child(office)
    other = office.app.test_client()
    log_in(other, office.factory.account(role))
    assert other.get(_form_url(child_id, office.partner)).status_code == 403
    assert other.get("/consents/expiring").status_code == 403
    assert _entries(office.app, "consent_form:read", child_id) == 0


# --- the city publishes descriptions --------------------------------------------------------


@pytest.fixture
def admin(client: FlaskClient, factory: Factory) -> FlaskClient:
    log_in(client, factory.account("admin"))
    return client


def test_an_administrator_publishes_a_version_which_becomes_current(
    app: Flask, factory: Factory, admin: FlaskClient
) -> None:
    partner = factory.organisation("partner", name="Testpartner Publicering")
    path = "/admin/activity-descriptions"
    for version, text in (("2026:1", "Första versionen."), ("2026:2", "Andra versionen.")):
        response = admin.post(
            path,
            data={
                "programme": "support_group",
                "partner_id": partner.id,
                "version": version,
                "text": text,
                "csrf_token": csrf_token(admin, path),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    before = _entries(app, "activity_description:publish")
    page = admin.get(path).get_data(as_text=True)
    assert _entries(app, "activity_description:publish") == before, "listing is not an event"
    rows = dict(
        re.findall(
            rf'<tr data-partner="{partner.id}" data-version="([^"]+)"( class="current")?', page
        )
    )
    assert rows == {"2026:2": ' class="current"', "2026:1": ""}
    assert "Testpartner Publicering" in page and "Första versionen." in page


def test_a_used_version_label_is_refused_on_the_page_with_the_field_named(
    factory: Factory, admin: FlaskClient
) -> None:
    partner = factory.organisation("partner")
    factory.activity_description("2026:1", partner, "Originalet.")
    path = "/admin/activity-descriptions"
    response = admin.post(
        path,
        data={
            "programme": "support_group",
            "partner_id": partner.id,
            "version": "2026:1",
            "text": "Ett försök att skriva över.",
            "csrf_token": csrf_token(admin, path),
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'id="version-error"' in body
    assert body.count("Ett försök att skriva över.") == 1, "only in the form, never published"


def test_social_workers_and_group_leaders_do_not_publish(
    factory: Factory, client: FlaskClient
) -> None:
    for role in ("social_worker", "group_leader"):
        other = factory.app.test_client()
        log_in(other, factory.account(role))
        assert other.get("/admin/activity-descriptions").status_code == 403
        assert other.post("/admin/activity-descriptions").status_code == 403
