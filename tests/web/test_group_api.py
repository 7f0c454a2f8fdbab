"""The group leader's groups, interest registrations and notifications over the JSON API.

A leader plans a group, places accepted children in it, records each child's visit, starts it
and takes attendance; the roster shows each child by the fields the partner may see and
nothing else, and a withdrawn consent takes the child out of it at once. A family home's
interest registration reaches the district, whose confirmation makes a referral that waits
for consent. Bad input is a problem document naming the field and writes nothing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import pytest
from flask import Flask
from marshmallow import Schema
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from referral import clock
from referral.actors import Actor
from referral.api.group_schemas import (
    AttendanceOut,
    EnrolmentOut,
    GroupOut,
    RosterEntryOut,
    VisitOut,
)
from referral.db.audit_log import AuditEntry
from referral.db.groups import Attendance, Enrolment, Group, GroupSession, Visit
from referral.db.interest import InterestRegistration
from referral.db.models import Organisation
from referral.db.notifications import Notification
from referral.db.people import Child
from referral.db.referrals import Referral, ReferralEvent
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import children, consent, groups, interest, referrals
from tests.factories import Account, ApiClient, Factory, api_client, invented_personnummer

VERSION = "A-2026:groups-api"
NOTE = "Anteckning Gruppapi"
GUARDIAN, GUARDIAN_CONTACT = "Förälder Gruppapi", "070-999 88 77"
FAMILY_HOME = "08-765 43 21"
BAD_NUMBER = invented_personnummer(2016, 1, 2)
ROSTER_KEYS = {
    "enrolment_id",
    "referral_id",
    "status",
    "name",
    "age",
    "visit_kind",
    "visit_day",
    "attendance",
}
GROUP_KEYS = {
    "group_id",
    "name",
    "group_format",
    "start_date",
    "min_age",
    "max_age",
    "status",
    "leader_ids",
    "sessions",
    "started_at",
    "completed_at",
}
SUMMARY_KEYS = (GROUP_KEYS - {"started_at", "completed_at"}) | {
    "enrolled",
    "places_left",
    "started_at",
    "completed_at",
}
COUNTED = (
    Group,
    GroupSession,
    Enrolment,
    Visit,
    Attendance,
    Child,
    Referral,
    ReferralEvent,
    InterestRegistration,
    Notification,
    AuditEntry,
)


@dataclass
class Referred:
    """A child referred to the partner, as the test set it up (what must never leak)."""

    referral_id: str
    child_id: str
    guardian_id: str
    name: str
    personnummer: str


@dataclass
class World:
    app: Flask
    factory: Factory
    district: Organisation
    partner: Organisation
    leader_account: Account
    leader: ApiClient

    @cached_property
    def worker_account(self) -> Account:
        return self.factory.account("social_worker", self.district)

    @cached_property
    def worker(self) -> ApiClient:
        """Logged in on first use: a login is slow, and not every test needs the district."""
        return api_client(self.app, self.worker_account)

    @property
    def worker_actor(self) -> Actor:
        return Actor(
            "sw-groups-api", "handlaggare", self.district.id, frozenset({Role.SOCIAL_WORKER})
        )

    @property
    def leader_actor(self) -> Actor:
        user = self.leader_account.user
        return Actor(user.id, user.username, self.partner.id, frozenset({Role.GROUP_LEADER}))

    def accepted(self, count: int, basis: str = "LVU", first: int = 0) -> list[Referred]:
        """`count` children of the district referred to the partner and accepted by the
        leader, set up through the services (as tests/web/test_group_pages.py does). Under
        SoL, the one guardian consents to name, age and participation; under LVU, a guardian
        is recorded all the same, so that the roster can be shown not to carry them."""
        made = []
        worker = self.worker_actor
        with self.app.app_context(), UnitOfWork(request_session()) as uow:
            for number in range(first, first + count):
                personnummer = invented_personnummer(clock.today().year - 10, 3, 1 + number)
                name = f"Gruppapibarn {number}"
                child = children.register_child(uow, worker, children.NewChild(personnummer, name))
                guardian = consent.add_guardian(
                    uow, worker, child.id, GUARDIAN, GUARDIAN_CONTACT, True, today=clock.today()
                )
                if basis == "LVU":
                    consent.record_placement(
                        uow,
                        worker,
                        child.id,
                        "LVU",
                        "Beslut 2/2026",
                        "SDN",
                        date(2026, 1, 15),
                        today=clock.today(),
                        lvu_shared=("name", "age", "contact_details", "participation"),
                    )
                else:
                    consent.record_placement(uow, worker, child.id, "SoL", today=clock.today())
                    consent.record_consent(
                        uow, worker, child.id, _consent(guardian.id), today=clock.today()
                    )
                children.update_details(
                    uow, worker, child.id, children.ChildDetails(family_home_phone=FAMILY_HOME)
                )
                referral = referrals.create_referral(
                    uow,
                    worker,
                    referrals.NewReferral(child.id, self.partner.id, "weekly", NOTE),
                    today=clock.today(),
                )
                referrals.submit_referral(uow, worker, referral.id, clock.today())
                referrals.respond(
                    uow, self.leader_actor, referral.id, accept=True, today=clock.today()
                )
                made.append(Referred(referral.id, child.id, guardian.id, name, personnummer))
        return made

    def plan(self, **changes: object) -> dict[str, Any]:
        response = self.leader.post("/api/v1/partner/groups", self.group_body(**changes))
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def group_body(self, **changes: object) -> dict[str, object]:
        return {
            "name": "Höstgrupp Farsta",
            "group_format": "weekly",
            "start_date": clock.today().isoformat(),
            "min_age": 7,
            "max_age": 12,
            "leader_ids": [self.leader_account.user.id],
            **changes,
        }

    def enrol(self, group_id: str, referral_id: str) -> TestResponse:
        return self.leader.post(
            f"/api/v1/partner/groups/{group_id}/enrolments", {"referral_id": referral_id}
        )

    def roster(self, group_id: str) -> dict[str, Any]:
        response = self.leader.get(f"/api/v1/partner/groups/{group_id}")
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def register_interest(self, name: str, personnummer: str) -> str:
        """A registration recorded through the service; its id."""
        with self.app.app_context(), UnitOfWork(request_session()) as uow:
            new = interest.NewInterest(
                name, personnummer, self.district.id, "Familjehem", clock.today()
            )
            return interest.register_interest(uow, self.leader_actor, new, clock.today()).id


def _consent(party: str, **changes: object) -> consent.ConsentInput:
    values: dict[str, Any] = {
        "party": party,
        "decision": "given",
        "categories": ("name", "age", "participation"),
        "decided_on": clock.today(),
        "valid_until": clock.today() + timedelta(days=90),
        "method": "written",
        "description_version": VERSION,
        **changes,
    }
    return consent.ConsentInput(**values)


@pytest.fixture
def world(app: Flask, factory: Factory) -> World:
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(VERSION, partner)
    leader = factory.account("group_leader", partner)
    return World(app, factory, district, partner, leader, api_client(app, leader))


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        db = request_session()
        return {
            model.__name__: int(db.scalar(select(func.count()).select_from(model)) or 0)
            for model in COUNTED
        }


def _without_log(counts: dict[str, int]) -> dict[str, int]:
    return {model: n for model, n in counts.items() if model != "AuditEntry"}


def _last_sequence(app: Flask) -> int:
    with app.app_context():
        return int(request_session().scalar(select(func.max(AuditEntry.sequence))) or 0)


def _entries(app: Flask, since: int, action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.sequence > since)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    with app.app_context():
        return list(request_session().scalars(query.order_by(AuditEntry.sequence)))


def _assert_problem(response: TestResponse, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == status
    assert field in problem["errors"], problem
    assert field in problem["detail"]
    return problem


def _assert_not_found(response: TestResponse, *never_shown: str) -> None:
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    for text in never_shown:
        assert text not in response.get_data(as_text=True)


def _in_english(api: ApiClient) -> None:
    """The rules' wording as an English-speaking user reads it (Swedish is the default)."""
    assert api.get("/api/v1/me?lang=en").status_code == 200


# --- The whole journey ----------------------------------------------------------------------


def test_a_leader_plans_a_group_places_five_children_visits_them_starts_it_and_takes_attendance(
    world: World,
) -> None:
    placed = world.accepted(5)
    overview = world.leader.get(f"/api/v1/partner/groups?year={clock.today().year}")
    assert overview.status_code == 200
    assert overview.get_json() == {"year": clock.today().year, "groups": [], "children_waiting": 5}

    group = world.plan()
    assert set(group) == GROUP_KEYS
    assert group["status"] == "planned" and group["leader_ids"] == [world.leader_account.user.id]
    assert [s["number"] for s in group["sessions"]] == list(range(1, 9))  # 8 weekly meetings
    assert group["sessions"][0]["day"] == clock.today().isoformat()
    group_id = group["group_id"]

    for child in placed:
        enrolled = world.enrol(group_id, child.referral_id)
        assert enrolled.status_code == 201, enrolled.get_json()
        assert set(enrolled.get_json()) == {
            "enrolment_id",
            "group_id",
            "referral_id",
            "enrolled_at",
        }
    roster = world.roster(group_id)
    assert set(roster["group"]) == SUMMARY_KEYS
    assert (roster["group"]["enrolled"], roster["group"]["places_left"]) == (5, 3)
    assert sorted(c["name"] for c in roster["children"]) == sorted(c.name for c in placed)
    assert {c["status"] for c in roster["children"]} == {"placed"}
    enrolments = [c["enrolment_id"] for c in roster["children"]]

    overview = world.leader.get("/api/v1/partner/groups").get_json()  # this year by default
    assert overview["children_waiting"] == 0
    assert [(g["name"], g["enrolled"], g["places_left"]) for g in overview["groups"]] == [
        ("Höstgrupp Farsta", 5, 3)
    ]
    assert set(overview["groups"][0]) == SUMMARY_KEYS
    assert placed[0].name not in world.leader.get("/api/v1/partner/groups").get_data(as_text=True)

    early = world.leader.post(f"/api/v1/partner/groups/{group_id}/start")
    _assert_problem(early, 409, "enrolments")  # nobody has had the pre-group visit yet
    for enrolment_id in enrolments:
        body = {"enrolment_id": enrolment_id, "kind": "home", "day": clock.today().isoformat()}
        visit = world.leader.post(f"/api/v1/partner/groups/{group_id}/visits", body)
        assert visit.status_code == 201, visit.get_json()
        assert set(visit.get_json()) == {"visit_id", "enrolment_id", "kind", "day"}

    started = world.leader.post(f"/api/v1/partner/groups/{group_id}/start")
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["status"] == "started" and started.get_json()["started_at"]
    roster = world.roster(group_id)
    assert {c["status"] for c in roster["children"]} == {"participating"}
    assert {(c["visit_kind"], c["visit_day"]) for c in roster["children"]} == {
        ("home", clock.today().isoformat())
    }

    first_session = roster["group"]["sessions"][0]["session_id"]
    present = {enrolment_id: n < 4 for n, enrolment_id in enumerate(enrolments)}
    taken = world.leader.put(
        f"/api/v1/partner/groups/{group_id}/sessions/{first_session}/attendance",
        {"present": present},
    )
    assert taken.status_code == 200, taken.get_json()
    assert sorted((m["enrolment_id"], m["present"]) for m in taken.get_json()) == sorted(
        present.items()
    )
    roster = world.roster(group_id)
    assert {c["enrolment_id"]: c["attendance"] for c in roster["children"]} == {
        enrolment_id: {first_session: mark} for enrolment_id, mark in present.items()
    }

    # Corrected: the absent child came late after all.
    absent = enrolments[4]
    again = world.leader.put(
        f"/api/v1/partner/groups/{group_id}/sessions/{first_session}/attendance",
        {"present": {absent: True}},
    )
    assert again.status_code == 200
    marks = [c["attendance"][first_session] for c in world.roster(group_id)["children"]]
    assert marks == [True] * 5

    # The group runs for eight weeks: it cannot be completed before its last session.
    too_soon = world.leader.post(f"/api/v1/partner/groups/{group_id}/complete")
    _assert_problem(too_soon, 409, "group")
    assert world.roster(group_id)["group"]["status"] == "started"


def test_the_roster_shows_each_child_by_its_roster_fields_only_and_logs_each_child_shown(
    world: World,
) -> None:
    placed = world.accepted(2)
    group_id = world.plan()["group_id"]
    for child in placed:
        assert world.enrol(group_id, child.referral_id).status_code == 201

    since = _last_sequence(world.app)
    response = world.leader.get(f"/api/v1/partner/groups/{group_id}")
    assert response.status_code == 200
    assert [set(entry) for entry in response.get_json()["children"]] == [ROSTER_KEYS] * 2
    assert {entry["age"] for entry in response.get_json()["children"]} <= {9, 10}
    raw = response.get_data(as_text=True)
    for child in placed:
        for never_shown in (child.personnummer, child.personnummer[2:], child.child_id):
            assert never_shown not in raw
    for never_shown in (NOTE, GUARDIAN, GUARDIAN_CONTACT, FAMILY_HOME, "Beslut 2/2026"):
        assert never_shown not in raw

    reads = _entries(world.app, since)
    assert [entry.action for entry in reads] == ["group:read", "group:read"]
    assert sorted(str(entry.subject_id) for entry in reads) == sorted(c.child_id for c in placed)
    assert {entry.legal_basis for entry in reads} == {"lvu"}


def test_the_roster_schema_carries_exactly_what_a_roster_entry_carries() -> None:
    assert set(RosterEntryOut().fields) == {f.name for f in dataclasses.fields(groups.RosterEntry)}


@pytest.mark.parametrize(
    ("schema", "read_model"),
    [
        (GroupOut, groups.GroupState),
        (EnrolmentOut, groups.EnrolmentState),
        (VisitOut, groups.RecordedVisit),
        (AttendanceOut, groups.AttendanceMark),
    ],
)
def test_each_answer_to_a_change_carries_exactly_what_the_services_read_model_carries(
    schema: type[Schema], read_model: Any
) -> None:
    assert set(schema().fields) == {f.name for f in dataclasses.fields(read_model)}


def test_the_ninth_child_is_refused_with_409_naming_the_rule_and_nothing_is_written(
    world: World,
) -> None:
    placed = world.accepted(9)
    group_id = world.plan()["group_id"]
    for child in placed[:8]:
        assert world.enrol(group_id, child.referral_id).status_code == 201
    _in_english(world.leader)
    before = _counts(world.app)

    refused = world.enrol(group_id, placed[8].referral_id)
    problem = _assert_problem(refused, 409, "group")
    assert "at most 8 children" in problem["detail"]
    assert _counts(world.app) == before
    roster = world.roster(group_id)
    assert (roster["group"]["enrolled"], roster["group"]["places_left"]) == (8, 0)
    assert placed[8].name not in {c["name"] for c in roster["children"]}
    statuses = {
        r["referral_id"]: r["status"]
        for r in world.leader.get("/api/v1/partner/referrals").get_json()
    }
    assert statuses[placed[8].referral_id] == "accepted"  # still waiting for a group


# --- Bad input -------------------------------------------------------------------------------


def _bad_inputs(
    world: World, group: dict[str, Any], enrolment_id: str, registration_id: str
) -> list[tuple[str, str, str, object, str]]:
    """(case, method, path, body, the field the problem must name)."""
    groups_path = "/api/v1/partner/groups"
    visits = f"{groups_path}/{group['group_id']}/visits"
    enrolments = f"{groups_path}/{group['group_id']}/enrolments"
    session = group["sessions"][0]["session_id"]
    attendance = f"{groups_path}/{group['group_id']}/sessions/{session}/attendance"
    first_day = date.fromisoformat(group["sessions"][0]["day"])
    next_monday = clock.today() + timedelta(days=7 - clock.today().weekday())  # never a Friday
    visit = {"enrolment_id": enrolment_id, "kind": "home", "day": clock.today().isoformat()}
    number = BAD_NUMBER
    registration = {
        "child_name": "Intresse Felbarn",
        "personnummer": number,
        "district_id": world.district.id,
        "family_home_contact": "08-1",
        "received_on": clock.today().isoformat(),
    }
    decline = f"/api/v1/interest/{registration_id}/decline"
    body = world.group_body
    return [
        (
            "a start date already passed",
            "POST",
            groups_path,
            body(start_date=str(clock.today() - timedelta(days=1))),
            "start_date",
        ),
        (
            "a weekend not on a Friday",
            "POST",
            groups_path,
            body(group_format="weekend", start_date=next_monday.isoformat()),
            "start_date",
        ),
        (
            "the oldest before the youngest",
            "POST",
            groups_path,
            body(min_age=12, max_age=8),
            "min_age",
        ),
        ("an age outside 7-18", "POST", groups_path, body(max_age=19), "max_age"),
        ("an unknown field", "POST", groups_path, body(child_name="Smuggel"), "child_name"),
        ("an age of a wrong type", "POST", groups_path, body(min_age="seven"), "min_age"),
        ("an age as a string", "POST", groups_path, body(min_age="7"), "min_age"),
        (
            "a date that is not a date",
            "POST",
            groups_path,
            body(start_date="next week"),
            "start_date",
        ),
        ("an unknown format", "POST", groups_path, body(group_format="daily"), "group_format"),
        ("an over-long name", "POST", groups_path, body(name="G" * 101), "name"),
        ("no leader", "POST", groups_path, body(leader_ids=[]), "leader_ids"),
        (
            "a stranger as leader",
            "POST",
            groups_path,
            body(leader_ids=["00000000-0000-4000-8000-000000000000"]),
            "leader_ids",
        ),
        (
            "a visit after the first session",
            "POST",
            visits,
            {**visit, "day": str(first_day + timedelta(days=1))},
            "day",
        ),
        (
            "a visit not yet made",
            "POST",
            visits,
            {**visit, "day": str(clock.today() + timedelta(days=1))},
            "day",
        ),
        ("an unknown kind of visit", "POST", visits, {**visit, "kind": "phone"}, "kind"),
        ("a visit with notes", "POST", visits, {**visit, "notes": "Hemmet stökigt"}, "notes"),
        ("a referral id of a wrong type", "POST", enrolments, {"referral_id": 42}, "referral_id"),
        ("an enrolment with more", "POST", enrolments, {"referral_id": "r", "name": "X"}, "name"),
        ("attendance of nobody", "PUT", attendance, {"present": {}}, "present"),
        (
            "attendance that is not a yes or no",
            "PUT",
            attendance,
            {"present": {enrolment_id: "maybe"}},
            "present",
        ),
        (
            "attendance with an unknown field",
            "PUT",
            attendance,
            {"present": {enrolment_id: True}, "late": []},
            "late",
        ),
        ("a year out of range", "GET", f"{groups_path}?year=1999", None, "year"),
        ("a year that is not a number", "GET", f"{groups_path}?year=next", None, "year"),
        (
            "a wrong check digit",
            "POST",
            "/api/v1/partner/interest",
            {**registration, "personnummer": number[:-1] + str((int(number[-1]) + 1) % 10)},
            "personnummer",
        ),
        (
            "a registration received tomorrow",
            "POST",
            "/api/v1/partner/interest",
            {**registration, "received_on": str(clock.today() + timedelta(days=1))},
            "received_on",
        ),
        (
            "a partner as the district",
            "POST",
            "/api/v1/partner/interest",
            {**registration, "district_id": world.partner.id},
            "district_id",
        ),
        (
            "a registration with an unknown field",
            "POST",
            "/api/v1/partner/interest",
            {**registration, "guardian": "X"},
            "guardian",
        ),
        (
            "a registration without a contact",
            "POST",
            "/api/v1/partner/interest",
            {k: v for k, v in registration.items() if k != "family_home_contact"},
            "family_home_contact",
        ),
        ("an over-long reason", "POST", decline, {"reason": "r" * 501}, "reason"),
        ("a reason of a wrong type", "POST", decline, {"reason": ["r"]}, "reason"),
    ]


def test_bad_input_is_a_422_problem_naming_the_field_and_writes_nothing(
    world: World, subtests: pytest.Subtests
) -> None:
    (child,) = world.accepted(1)
    group = world.plan(start_date=(clock.today() + timedelta(days=7)).isoformat())
    enrolled = world.enrol(group["group_id"], child.referral_id)
    registration_id = world.register_interest("Intresse Köbarn", invented_personnummer(2015, 2, 3))
    worker = world.worker  # logged in before anything is counted
    for case, method, path, body, field in _bad_inputs(
        world, group, enrolled.get_json()["enrolment_id"], registration_id
    ):
        with subtests.test(case):
            api = worker if "/decline" in path else world.leader
            before = _counts(world.app)

            response = api.send(method, path, body)
            _assert_problem(response, 422, field)
            text = response.get_data(as_text=True)
            assert BAD_NUMBER[2:-1] not in text  # no number typed is echoed
            assert _counts(world.app) == before


# --- Access ----------------------------------------------------------------------------------

GROUP_ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/v1/partner/groups/{group}"),
    ("POST", "/api/v1/partner/groups/{group}/enrolments"),
    ("POST", "/api/v1/partner/groups/{group}/visits"),
    ("POST", "/api/v1/partner/groups/{group}/start"),
    ("PUT", "/api/v1/partner/groups/{group}/sessions/{session}/attendance"),
    ("POST", "/api/v1/partner/groups/{group}/complete"),
]


def _valid_body(path: str, referral_id: str, enrolment_id: str) -> object:
    if path.endswith("enrolments"):
        return {"referral_id": referral_id}
    if path.endswith("visits"):
        return {"enrolment_id": enrolment_id, "kind": "home", "day": clock.today().isoformat()}
    if path.endswith("attendance"):
        return {"present": {enrolment_id: True}}
    return None


@pytest.mark.asvs("V8.2.2", "V8.4.1")
def test_another_partners_leader_gets_404_on_the_group_and_changes_nothing(
    world: World, factory: Factory, subtests: pytest.Subtests
) -> None:
    first, second = world.accepted(2)
    group = world.plan()
    enrolment_id = world.enrol(group["group_id"], first.referral_id).get_json()["enrolment_id"]
    other = api_client(world.app, factory.account("group_leader"))
    for method, template in GROUP_ROUTES:
        with subtests.test(f"{method} {template}"):
            path = template.format(
                group=group["group_id"], session=group["sessions"][0]["session_id"]
            )
            body = _valid_body(path, second.referral_id, enrolment_id)
            before, since = _counts(world.app), _last_sequence(world.app)

            _assert_not_found(other.send(method, path, body), first.name, group["name"])
            assert [e.action for e in _entries(world.app, since)] == ["access:denied"]
            assert _without_log(_counts(world.app)) == _without_log(before)
    assert other.get("/api/v1/partner/groups").get_json()["groups"] == []
    assert world.roster(group["group_id"])["group"]["enrolled"] == 1  # untouched


def test_a_social_worker_is_refused_the_group_leaders_endpoints(
    world: World, subtests: pytest.Subtests
) -> None:
    (child,) = world.accepted(1)
    group = world.plan()
    enrolment_id = world.enrol(group["group_id"], child.referral_id).get_json()["enrolment_id"]
    routes = [
        ("GET", "/api/v1/partner/groups"),
        ("POST", "/api/v1/partner/groups"),
        *GROUP_ROUTES,
        ("GET", "/api/v1/partner/interest"),
        ("POST", "/api/v1/partner/interest"),
    ]
    worker = world.worker
    for method, template in routes:
        with subtests.test(f"{method} {template}"):
            path = template.format(
                group=group["group_id"], session=group["sessions"][0]["session_id"]
            )
            body = _valid_body(path, child.referral_id, enrolment_id)
            if path == "/api/v1/partner/groups":
                body = world.group_body()
            before, since = _counts(world.app), _last_sequence(world.app)

            response = worker.send(method, path, body)
            assert response.status_code == 403, response.get_data(as_text=True)
            assert response.mimetype == "application/problem+json"
            assert child.name not in response.get_data(as_text=True)
            assert [e.action for e in _entries(world.app, since)] == ["access:denied"]
            assert _without_log(_counts(world.app)) == _without_log(before)


def test_a_group_leader_is_refused_the_districts_queue_and_decisions(
    world: World, subtests: pytest.Subtests
) -> None:
    registration_id = world.register_interest("Intresse Köbarn", invented_personnummer(2015, 2, 3))
    for method, path in [
        ("GET", "/api/v1/interest"),
        ("POST", f"/api/v1/interest/{registration_id}/confirm"),
        ("POST", f"/api/v1/interest/{registration_id}/decline"),
    ]:
        with subtests.test(f"{method} {path}"):
            response = world.leader.send(method, path, None if method == "GET" else {})
            assert response.status_code == 403
            assert "Intresse Köbarn" not in response.get_data(as_text=True)
    statuses = [r["status"] for r in world.leader.get("/api/v1/partner/interest").get_json()]
    assert statuses == ["received"]


# --- Consent -------------------------------------------------------------------------------


def test_a_withdrawn_consent_takes_the_child_out_of_the_roster_on_the_next_request(
    world: World,
) -> None:
    (child,) = world.accepted(1, basis="SoL")
    group_id = world.plan()["group_id"]
    assert world.enrol(group_id, child.referral_id).status_code == 201
    roster = world.roster(group_id)
    assert [c["name"] for c in roster["children"]] == [child.name]

    with world.app.app_context(), UnitOfWork(request_session()) as uow:
        withdrawal = _consent(child.guardian_id, decision="withdrawn", categories=())
        consent.record_consent(
            uow, world.worker_actor, child.child_id, withdrawal, today=clock.today()
        )

    since = _last_sequence(world.app)
    response = world.leader.get(f"/api/v1/partner/groups/{group_id}")
    assert response.status_code == 200
    assert response.get_json()["children"] == []
    assert response.get_json()["group"]["enrolled"] == 0
    assert child.name not in response.get_data(as_text=True)
    assert _entries(world.app, since, "group:read") == []  # nobody shown, nobody logged


# --- Interest registrations and notifications ------------------------------------------------


def test_an_interest_registration_reaches_the_district_whose_confirmation_makes_a_referral(
    world: World,
) -> None:
    personnummer = invented_personnummer(2015, 9, 9)
    body = {
        "child_name": "Intresse Barnsson",
        "personnummer": personnummer,
        "district_id": world.district.id,
        "family_home_contact": "Familjehemmet Lind, 070-123 45 67",
        "received_on": clock.today().isoformat(),
    }
    registered = world.leader.post("/api/v1/partner/interest", body)
    assert registered.status_code == 201, registered.get_json()
    created = registered.get_json()
    assert set(created) == {"registration_id", "reference", "district_id", "received_on", "status"}
    assert created["status"] == "received"
    for never_echoed in (personnummer, personnummer[2:], "Intresse Barnsson", "070-123 45 67"):
        assert never_echoed not in registered.get_data(as_text=True)

    own = world.leader.get("/api/v1/partner/interest")
    assert own.get_json() == [
        {
            "reference": created["reference"],
            "district_name": world.district.name,
            "received_on": clock.today().isoformat(),
            "status": "received",
        }
    ]
    assert personnummer[2:] not in own.get_data(as_text=True)

    worker = world.worker  # logged in before the log is read
    since = _last_sequence(world.app)
    queue = worker.get("/api/v1/interest")
    assert queue.status_code == 200
    assert queue.get_json() == [
        {
            "registration_id": created["registration_id"],
            "reference": created["reference"],
            "partner_name": world.partner.name,
            "child_name": "Intresse Barnsson",
            "family_home_contact": "Familjehemmet Lind, 070-123 45 67",
            "received_on": clock.today().isoformat(),
        }
    ]
    assert personnummer[2:] not in queue.get_data(as_text=True)
    assert [e.action for e in _entries(world.app, since)] == ["interest:read"]

    confirmed = world.worker.post(f"/api/v1/interest/{created['registration_id']}/confirm")
    assert confirmed.status_code == 200, confirmed.get_json()
    decision = confirmed.get_json()
    assert decision["referral_status"] == "awaiting_consent" and decision["child_registered"]
    referral = world.worker.get(f"/api/v1/referrals/{decision['referral_id']}").get_json()
    assert (referral["status"], referral["child_name"], referral["partner_id"]) == (
        "awaiting_consent",
        "Intresse Barnsson",
        world.partner.id,
    )
    assert world.worker.get("/api/v1/interest").get_json() == []
    again = world.worker.post(f"/api/v1/interest/{created['registration_id']}/confirm")
    _assert_problem(again, 409, "registration")

    assert [r["status"] for r in world.leader.get("/api/v1/partner/interest").get_json()] == [
        "confirmed"
    ]
    assert world.leader.get("/api/v1/partner/referrals").get_json() == []  # no consent yet


def test_a_declined_registration_tells_the_partner_that_not_why(world: World) -> None:
    registration_id = world.register_interest("Intresse Nejsson", invented_personnummer(2014, 8, 8))
    declined = world.worker.post(
        f"/api/v1/interest/{registration_id}/decline", {"reason": "Placerad i annan kommun"}
    )
    assert declined.status_code == 200, declined.get_json()
    assert set(declined.get_json()) == {"registration_id", "reference", "status", "decided_at"}
    assert declined.get_json()["status"] == "declined"
    assert world.worker.get("/api/v1/interest").get_json() == []

    own = world.leader.get("/api/v1/partner/interest")
    assert [r["status"] for r in own.get_json()] == ["declined"]
    notices = world.leader.get("/api/v1/notifications")
    assert [n["kind"] for n in notices.get_json()] == ["interest_declined"]
    for response in (declined, own, notices):
        assert "Placerad i annan kommun" not in response.get_data(as_text=True)

    twice = world.worker.post(f"/api/v1/interest/{registration_id}/decline")  # no body at all
    _assert_problem(twice, 409, "registration")


def test_notifications_are_listed_by_reference_and_marked_read(
    world: World, factory: Factory
) -> None:
    registration_id = world.register_interest(
        "Intresse Notisson", invented_personnummer(2015, 4, 4)
    )
    listed = world.worker.get("/api/v1/notifications")
    assert listed.status_code == 200
    (notice,) = listed.get_json()
    assert set(notice) == {
        "id",
        "kind",
        "referral_ref",
        "interest_ref",
        "child_id",
        "partner_name",
        "created_at",
        "unread",
    }
    assert (notice["kind"], notice["interest_ref"], notice["unread"]) == (
        "interest_registered",
        registration_id[:8],
        True,
    )
    assert "Intresse Notisson" not in listed.get_data(as_text=True)

    stranger = api_client(world.app, factory.account("social_worker"))
    _assert_not_found(stranger.post(f"/api/v1/notifications/{notice['id']}/read"))
    assert stranger.get("/api/v1/notifications").get_json() == []

    since = _last_sequence(world.app)
    read = world.worker.post(f"/api/v1/notifications/{notice['id']}/read")
    assert read.status_code == 204
    assert [n["unread"] for n in world.worker.get("/api/v1/notifications").get_json()] == [False]
    assert _entries(world.app, since) == []  # references only: nothing personal was read


# --- The OpenAPI document --------------------------------------------------------------------


def test_the_openapi_document_lists_the_group_interest_and_notification_paths(
    world: World,
) -> None:
    paths = world.leader.get("/api/v1/openapi.json").get_json()["paths"]
    expected = {
        "/api/v1/partner/groups": {"get", "post"},
        "/api/v1/partner/groups/{group_id}": {"get"},
        "/api/v1/partner/groups/{group_id}/enrolments": {"post"},
        "/api/v1/partner/groups/{group_id}/visits": {"post"},
        "/api/v1/partner/groups/{group_id}/start": {"post"},
        "/api/v1/partner/groups/{group_id}/sessions/{session_id}/attendance": {"put"},
        "/api/v1/partner/groups/{group_id}/complete": {"post"},
        "/api/v1/partner/interest": {"get", "post"},
        "/api/v1/interest": {"get"},
        "/api/v1/interest/{registration_id}/confirm": {"post"},
        "/api/v1/interest/{registration_id}/decline": {"post"},
        "/api/v1/notifications": {"get"},
        "/api/v1/notifications/{notice_id}/read": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
