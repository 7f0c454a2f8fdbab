"""Notices that say what to do, and an inbox that says who sent what when (issue 16, findings
6 and 8): a notice names the child only to a reader who may see the name now (the district
its own child; the partner only while its inbox shows the child), writes each name shown to
the access log in one write before the page is returned, says what to do next and when it
happened on Stockholm's clock. The partner's inbox card says when the referral arrived, from
which district and whom to call there, and nothing that tells LVU from SoL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.models import Organisation, User
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, groups, notifications, referrals
from tests.conftest import FrozenClock
from tests.factories import Account, Factory, csrf_token, invented_personnummer, log_in

DESCRIPTION = "A-2026:1"
# 23:30 in UTC on 1 March is half past midnight on 2 March in Stockholm (winter time): a page
# that showed UTC would show the wrong day.
MOMENT = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)
STOCKHOLM_DAY = date(2027, 3, 2)
WORK_PHONE = "08-508 123 45"
# A group takes only a child whose participation may be registered.
PLACEABLE = ("name", "age", "participation")


@dataclass
class World:
    app: Flask
    district: Organisation
    partner: Organisation
    worker_account: Account
    leader_account: Account
    worker: Actor
    leader: Actor
    today: date
    clock: FrozenClock
    _serial: Iterator[int] = field(default_factory=lambda: iter(range(1, 28)))

    def uow(self) -> UnitOfWork:
        # A second between steps: each party's latest decision is the one recorded last.
        self.clock.move(seconds=1)
        return UnitOfWork(request_session())

    def child(self, name: str) -> str:
        with self.app.app_context(), self.uow() as uow:
            return children.register_child(
                uow,
                self.worker,
                children.NewChild(invented_personnummer(2016, 4, next(self._serial)), name),
                self.today,
            ).id

    def refer(self, child_id: str) -> str:
        with self.app.app_context(), self.uow() as uow:
            referral = referrals.create_referral(
                uow,
                self.worker,
                referrals.NewReferral(child_id, self.partner.id, "weekly"),
                today=self.today,
            )
            referrals.submit_referral(uow, self.worker, referral.id, self.today)
            return referral.id

    def lvu(self, name: str, shared: tuple[str, ...] = ("name", "age")) -> tuple[str, str]:
        """A child placed under LVU, the given categories shared, referred: (child, referral)."""
        child_id = self.child(name)
        with self.app.app_context(), self.uow() as uow:
            consent.record_placement(
                uow,
                self.worker,
                child_id,
                "LVU",
                "Beslut 9/2027",
                "Farsta SDN",
                self.today - timedelta(days=30),
                today=self.today,
                lvu_shared=shared,
            )
        return child_id, self.refer(child_id)

    def sol(
        self, name: str, guardians: int = 1, categories: tuple[str, ...] = ("name", "age")
    ) -> tuple[str, str, list[str]]:
        """A child placed under SoL whose custodians all consented to `categories`, referred:
        (child, referral, the guardians' ids)."""
        child_id = self.child(name)
        with self.app.app_context(), self.uow() as uow:
            consent.record_placement(uow, self.worker, child_id, "SoL", today=self.today)
            ids = [
                consent.add_guardian(
                    uow, self.worker, child_id, f"Vårdnadshavare {n}", None, True, today=self.today
                ).id
                for n in range(guardians)
            ]
        for guardian_id in ids:
            self.decide(child_id, guardian_id, "given", categories)
        return child_id, self.refer(child_id), ids

    def decide(
        self, child_id: str, party: str, decision: str, categories: tuple[str, ...] = ("name",)
    ) -> None:
        with self.app.app_context(), self.uow() as uow:
            consent.record_consent(
                uow,
                self.worker,
                child_id,
                consent.ConsentInput(
                    party=party,
                    decision=decision,
                    categories=categories,
                    decided_on=self.today,
                    valid_until=self.today + timedelta(days=120),
                    method="written",
                    description_version=DESCRIPTION,
                ),
                today=self.today,
            )

    def narrow_lvu(self, child_id: str, shared: tuple[str, ...]) -> None:
        with self.app.app_context(), self.uow() as uow:
            consent.decide_lvu_sharing(uow, self.worker, child_id, shared, self.today)

    def accept_and_place(self, referral_id: str) -> None:
        start = self.today + timedelta(days=14)
        with self.app.app_context(), self.uow() as uow:
            referrals.respond(uow, self.leader, referral_id, accept=True, today=self.today)
            group = groups.create_group(
                uow,
                self.leader,
                groups.NewGroup("Vårgrupp", "weekly", start, 7, 12, [self.leader.user_id]),
                self.today,
            )
            groups.enrol(uow, self.leader, group.group_id, referral_id, self.today)

    def client(self, account: Account) -> FlaskClient:
        client = self.app.test_client()
        log_in(client, account)
        client.get("/?lang=en")
        return client


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return FrozenClock(monkeypatch, MOMENT)


@pytest.fixture
def world(app: Flask, factory: Factory, frozen: FrozenClock) -> World:
    district = factory.organisation("district", name="Farsta stadsdelsförvaltning (test)")
    partner = factory.organisation("partner", name="Bris (test)")
    factory.activity_description(DESCRIPTION, partner)
    worker_account = factory.account("social_worker", district)
    leader_account = factory.account("group_leader", partner)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        user = uow.session.get(User, worker_account.user.id)
        assert user is not None
        user.display_name, user.work_phone = "Sara Handläggare", WORK_PHONE
        uow.commit()
    return World(
        app,
        district,
        partner,
        worker_account,
        leader_account,
        Actor(
            worker_account.user.id,
            worker_account.username,
            district.id,
            frozenset({Role.SOCIAL_WORKER}),
        ),
        Actor(
            leader_account.user.id,
            leader_account.username,
            partner.id,
            frozenset({Role.GROUP_LEADER}),
        ),
        STOCKHOLM_DAY,
        frozen,
    )


def _notices(page: str) -> dict[str, str]:
    """Each notice's text by kind and position: {"new_referral#0": "...", ...}."""
    found: dict[str, str] = {}
    for kind, body in re.findall(
        r'<li class="card notice[^"]*"[^>]*data-kind="([a-z_]+)">(.*?)</li>', page, re.S
    ):
        index = sum(1 for key in found if key.startswith(kind + "#"))
        found[f"{kind}#{index}"] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
    return found


def _inbox_names(page: str) -> set[str]:
    return set(re.findall(r'<article class="card referral"[^>]*>\s*<h2>([^<]*)</h2>', page))


def _cards(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'<article class="card referral"[^>]*data-referral="([^"]+)"(.*?)</article>', page, re.S
        )
    )


def _last_sequence(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.max(AuditEntry.sequence))) or 0)


def _entries_since(app: Flask, since: int) -> list[AuditEntry]:
    with app.app_context():
        return list(
            request_session().scalars(
                select(AuditEntry).where(AuditEntry.sequence > since).order_by(AuditEntry.sequence)
            )
        )


# --- Names, by what the reader may see now ---------------------------------------------------


def test_a_partner_reads_a_childs_name_in_a_notice_exactly_while_its_inbox_shows_the_child(
    world: World,
) -> None:
    world.lvu("Lovisa Delad")  # LVU, name shared: named
    narrowed_child, narrowed = world.lvu("Nils Indragen")
    world.narrow_lvu(narrowed_child, ("age",))  # LVU, the name no longer shared: not named
    half_child, half, (first, _second) = world.sol("Hedda Halvsamtycke", guardians=2)
    world.decide(half_child, first, "withdrawn")  # SoL, one of two custodians consents: not

    leader = world.client(world.leader_account)
    page = leader.get("/notifications").get_data(as_text=True)
    inbox = leader.get("/partner/referrals").get_data(as_text=True)

    assert _inbox_names(inbox) == {"Lovisa Delad"}
    named = set(re.findall(r"for ([A-ZÅÄÖ][a-zåäö]+ [A-ZÅÄÖ][a-zåäö]+) has reached", page))
    assert named == _inbox_names(inbox)  # the notices name no one the inbox does not show
    for hidden in ("Nils", "Indragen", "Hedda", "Halvsamtycke"):
        assert hidden not in page
    notices = _notices(page)
    for referral_id in (narrowed, half):
        assert f"A new referral for the child in referral {referral_id[:8]} has reached" in (
            " ".join(notices.values())
        )
        assert f"Participation must stop: the child in referral {referral_id[:8]}" in (
            " ".join(notices.values())
        )


def test_an_sol_child_is_named_to_the_partner_only_with_every_custodians_consent_to_the_name(
    world: World,
) -> None:
    world.sol("Alva Bådasamtycke", guardians=2)
    age_only_child, _ref, (_first, second) = world.sol("Otto Åldersbara", guardians=2)
    world.decide(age_only_child, second, "given", ("age",))  # one custodian narrows to age

    page = world.client(world.leader_account).get("/notifications").get_data(as_text=True)

    assert "Alva Bådasamtycke" in page
    assert "Otto" not in page and "Åldersbara" not in page


def test_each_name_shown_is_logged_once_in_one_write_with_the_reads_action_and_basis(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shown_child, shown = world.lvu("Lovisa Delad")
    narrowed_child, _narrowed = world.lvu("Nils Indragen")
    world.narrow_lvu(narrowed_child, ("age",))
    writes: list[int] = []
    real = notifications.record_many

    def counted(session, who, entries):  # type: ignore[no-untyped-def]
        writes.append(len(entries))
        return real(session, who, entries)

    monkeypatch.setattr(notifications, "record_many", counted)
    leader = world.client(world.leader_account)
    before = _last_sequence(world.app)

    page = leader.get("/notifications").get_data(as_text=True)

    assert page.count("Lovisa Delad") == 1
    assert writes == [1]  # one write for the page, one entry per child named
    logged = [e for e in _entries_since(world.app, before) if e.object_type == "referral"]
    assert [(e.action, e.object_id, e.legal_basis) for e in logged] == [
        ("referral:read", shown, "lvu")
    ]


@pytest.mark.asvs("V16.5.3")
def test_no_name_leaves_when_the_access_log_cannot_be_written(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.lvu("Lovisa Delad")

    def log_unavailable(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the access log cannot be written")

    monkeypatch.setattr(notifications, "record_many", log_unavailable)
    response = world.client(world.leader_account).get("/notifications")

    assert response.status_code == 500
    assert "Lovisa" not in response.get_data(as_text=True)


def test_the_district_reads_its_childs_name_what_to_do_and_when_on_stockholms_clock(
    world: World,
) -> None:
    child_id, referral_id = world.lvu("Ella Påhittad", PLACEABLE)
    world.accept_and_place(referral_id)
    worker = world.client(world.worker_account)
    before = _last_sequence(world.app)

    page = worker.get("/notifications").get_data(as_text=True)

    notices = _notices(page)
    assert "Bris (test) accepted the referral for Ella Påhittad." in notices["referral_accepted#0"]
    placed = notices["child_placed#0"]
    assert "Bris (test) placed Ella Påhittad in Vårgrupp" in placed
    assert "To do: Arrange travel to the group" in placed
    assert f'href="/children/{child_id}#referrals" data-action>Arrange travel' in page
    assert "2027-03-02 00:30" in placed  # Stockholm's clock, not 23:30 UTC on 1 March
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d:\d\dZ", page)
    logged = [
        (e.action, e.object_id)
        for e in _entries_since(world.app, before)
        if e.object_type == "child"
    ]
    assert logged == [("child:list", child_id)]  # two notices, one child: one entry


def test_the_swedish_page_says_what_to_do_in_swedish(world: World) -> None:
    _child_id, referral_id = world.lvu("Ella Påhittad", PLACEABLE)
    world.accept_and_place(referral_id)
    worker = world.client(world.worker_account)
    worker.get("/?lang=sv")

    page = worker.get("/notifications").get_data(as_text=True)

    assert "Att göra:" in page and "Ordna resa till gruppen" in page
    assert "Bris (test) har placerat Ella Påhittad i Vårgrupp" in page


def test_the_partner_is_told_to_accept_or_decline_and_later_to_stop_participation(
    world: World,
) -> None:
    child_id, referral_id = world.lvu("Lovisa Delad")
    leader = world.client(world.leader_account)

    page = leader.get("/notifications").get_data(as_text=True)
    assert "A new referral for Lovisa Delad has reached your inbox." in page
    assert (
        f'href="/partner/referrals#referral-{referral_id}" data-action>'
        "Accept or decline the referral" in page
    )
    inbox = leader.get("/partner/referrals").get_data(as_text=True)
    assert f'id="referral-{referral_id}"' in inbox  # the link lands on the card

    world.narrow_lvu(child_id, ("age",))
    page = leader.get("/notifications").get_data(as_text=True)
    stop = _notices(page)["participation_must_stop#0"]
    assert f"Participation must stop: the child in referral {referral_id[:8]}" in stop
    assert "To do: Stop the child's participation" in stop
    assert f"#referral-{referral_id}" not in page  # no link to a card that is gone


def test_the_menus_count_is_the_pages_count_and_mark_all_read_empties_both(
    world: World,
) -> None:
    world.lvu("Lovisa Delad")
    narrowed_child, _narrowed = world.lvu("Nils Indragen")
    world.narrow_lvu(narrowed_child, ("age",))
    leader = world.client(world.leader_account)

    page = leader.get("/notifications").get_data(as_text=True)
    menu = re.search(r'data-unread="(\d+)"', page)
    on_page = re.search(r'data-unread-count="(\d+)"', page)
    assert menu is not None and on_page is not None
    assert menu.group(1) == on_page.group(1) == "3"
    assert len(re.findall(r'class="card notice notice-[a-z_]+ unread"', page)) == 3

    leader.post("/notifications/read", data={"csrf_token": csrf_token(leader, "/notifications")})
    page = leader.get("/notifications").get_data(as_text=True)
    assert "data-unread=" not in page and 'data-unread-count="0"' in page
    assert "Mark all as read" not in page


# --- The partner's inbox ---------------------------------------------------------------------


def test_an_inbox_card_says_when_it_arrived_from_which_district_and_whom_to_call(
    world: World,
) -> None:
    _child_id, referral_id = world.lvu("Lovisa Delad")

    inbox = world.client(world.leader_account).get("/partner/referrals").get_data(as_text=True)

    card = _cards(inbox)[referral_id]
    assert re.search(r'data-fact="received">2027-03-02<', card)  # the Stockholm day
    assert "Farsta stadsdelsförvaltning (test)" in card
    assert "Sara Handläggare" in card
    assert 'href="tel:0850812345"' in card and WORK_PHONE in card


def test_a_contact_without_a_work_phone_is_shown_without_one(world: World) -> None:
    with world.app.app_context(), UnitOfWork(request_session()) as uow:
        user = uow.session.get(User, world.worker_account.user.id)
        assert user is not None
        user.work_phone = None
        uow.commit()
    _child_id, referral_id = world.lvu("Lovisa Delad")

    inbox = world.client(world.leader_account).get("/partner/referrals").get_data(as_text=True)

    contact = re.search(r'data-fact="contact">([^<]*)<', _cards(inbox)[referral_id])
    assert contact is not None and contact.group(1) == "Sara Handläggare"
    assert (
        "tel:" not in _cards(inbox)[referral_id].split('data-fact="contact"')[1].split("</dd>")[0]
    )


def test_no_field_on_an_inbox_card_tells_lvu_from_sol_when_the_basis_is_not_shared(
    world: World,
) -> None:
    """Two children, one in compulsory care and one placed with their guardians' consent,
    the same categories shared: their cards differ only in the child's own name and age."""
    _lvu_child, lvu_referral = world.lvu("Lovisa Tvång", shared=("name", "age"))
    _sol_child, sol_referral, _guardians = world.sol(
        "Sigrid Frivillig", guardians=2, categories=("name", "age")
    )

    inbox = world.client(world.leader_account).get("/partner/referrals").get_data(as_text=True)

    cards = _cards(inbox)
    assert set(cards) == {lvu_referral, sol_referral}

    def blind(card: str, referral_id: str, name: str) -> str:
        card = card.replace(referral_id, "REFERRAL").replace(name, "NAME")
        return re.sub(r"<dt>Age</dt><dd>\d+</dd>", "<dt>Age</dt><dd>AGE</dd>", card)

    assert blind(cards[lvu_referral], lvu_referral, "Lovisa Tvång") == blind(
        cards[sol_referral], sol_referral, "Sigrid Frivillig"
    )
    for card in cards.values():
        for telling in ("LVU", "SoL", "Beslut 9/2027", "Farsta SDN", "Vårdnadshavare", "consent"):
            assert telling not in card
