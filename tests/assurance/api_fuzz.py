"""API fuzzing: schemathesis reads /api/v1/openapi.json and sends every operation generated
requests, valid and invalid, as each role signs in. Every answer must be what the document
promises: never a server error, a status code the operation declares itself (not only its
catch-all `default`), the declared content type and headers, and a body matching the
declared schema, problem documents (application/problem+json) included.

Slow, so not in `make test`: pytest collects this file only when it is named (`make
assurance` runs `pytest tests/assurance/api_fuzz.py`). The requests go to the Flask app in
process, in one rolled-back transaction, over the scene of every main page
(tests/integration/statement_scene.py, widened below) so that path ids name real records as
well as generated ones. Examples are bounded per operation and derandomized, so CI sends the
same requests every run; an operation a role is refused outright (403 at the gate, before
any handler) gets only the probe's few. API_FUZZ_ONLY="POST /api/v1/children" narrows a run
to the operations whose label contains it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
from sqlalchemy import select

from config.settings import Settings
from referral import clock
from referral.auth import api_clients
from referral.db.concern import ConcernReport
from referral.db.groups import Group, GroupSession
from referral.db.interest import InterestRegistration
from referral.db.models import Organisation
from referral.db.nights import Exclusion, NightPlace, Shelter
from referral.db.notifications import Notification
from referral.db.outreach import Encounter, LinkCase, Youth, YouthConsent, YouthLink
from referral.db.people import Child
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.policy import client_scopes
from referral.request_scope import request_session
from referral.roles import Role
from referral.services import concern_reports, interest, link_cases, organisations
from referral.services.nights import exclusions, people
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import SYSTEM, Account, Factory, invented_personnummer, log_in
from tests.integration.statement_scene import SMALLEST, Scene, actor_of, build_scene

# Enough for schemathesis to reach each operation's refusals and, with the scene's ids, its
# successes, while seven roles stay within a few minutes on two cores.
MAX_EXAMPLES = 25
# The first examples of each operation: when every one is refused at the gate (403), the
# role cannot reach the handler and more examples would only repeat the refusal.
PROBE_EXAMPLES = 5

# Each role signs in as it does in service: the city's systems with an API client's bearer
# token (no CSRF token), people with a session cookie after password and code, sending the
# CSRF token with every write. The DPO and administrators are people only.
ROLES: tuple[tuple[Role, str], ...] = (
    (Role.SOCIAL_WORKER, "bearer"),
    (Role.GROUP_LEADER, "session"),
    (Role.LINK_WORKER, "bearer"),
    (Role.NIGHT_STAFF, "session"),
    (Role.NIGHT_COORDINATOR, "bearer"),
    (Role.SOCIAL_EMERGENCY, "session"),
    (Role.DPO, "session"),
    (Role.ADMIN, "session"),
)

# Path parameters and the rows whose ids they name, so that requests reach real records.
ROWS_BY_PARAMETER: dict[str, Any] = {
    "child_id": Child,
    "referral_id": Referral,
    "group_id": Group,
    "session_id": GroupSession,
    "registration_id": InterestRegistration,
    "report_id": ConcernReport,
    "youth_id": Youth,
    "encounter_id": Encounter,
    "consent_id": YouthConsent,
    "case_id": LinkCase,
    "link_id": YouthLink,
    "notice_id": Notification,
    "shelter_id": Shelter,
    "place_id": NightPlace,
    "exclusion_id": Exclusion,
}


def status_code_declared(ctx: CheckContext, response: Any, case: Case) -> None:
    """Every operation has a catch-all `default` problem response, which makes schemathesis'
    own status check accept any code: here the code must be one the operation declares."""
    declared = {code for code in case.operation.responses.status_codes if code != "default"}
    if str(response.status_code) not in declared:
        raise AssertionError(
            f"Undeclared status {response.status_code} (declared: {', '.join(sorted(declared))})"
        )


CHECKS = [
    not_a_server_error,
    status_code_declared,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Caller:
    """An HTTP client signed in as one role, and the headers it sends with each request."""

    role: Role
    client: FlaskClient
    headers: dict[str, str]


@pytest.fixture(scope="module")
def fuzzed_app(base_settings: Settings) -> Iterator[Flask]:
    """One app and transaction for every role: the scene is built once. A system's calls are
    counted against 120 a minute, and the fuzzer sends thousands."""
    settings = replace(base_settings, api_client_rate_limit="1000000 per minute")
    with app_in_rolled_back_transaction(settings) as app:
        yield app


@pytest.fixture(scope="module")
def scene(fuzzed_app: Flask) -> Scene:
    factory = Factory(fuzzed_app, fuzzed_app.config["REFERRAL_SETTINGS"])
    return widen(fuzzed_app, factory, build_scene(fuzzed_app, factory, SMALLEST))


def bearer_token(app: Flask, account: Account, role: Role, name: str) -> str:
    """A city system's client issued in `account`'s organisation with every scope `role`
    may hold; its token (the other assurance runs sign in with it too)."""
    with app.app_context(), UnitOfWork(request_session()) as uow:
        issued = api_clients.issue(
            uow,
            SYSTEM,
            api_clients.NewClient(
                organisation_id=account.user.organisation_id,
                name=name,
                role=role.value,
                scopes=[scope.value for scope in client_scopes(role)],
            ),
        )
    return issued.token


def signed_in(app: Flask, account: Account, role: Role, way: str) -> Caller:
    if way == "bearer":
        token = bearer_token(app, account, role, f"Fuzz {role.value}")
        return Caller(role, app.test_client(), {"Authorization": f"Bearer {token}"})
    client = app.test_client()
    log_in(client, account)
    me = client.get("/api/v1/me")
    assert me.status_code == 200, me.get_data(as_text=True)
    return Caller(role, client, {"X-CSRFToken": me.headers["X-CSRFToken"]})


def widen(app: Flask, factory: Factory, scene: Scene) -> Scene:
    """What the paths name and the statement scene lacks: the social emergency service
    (socialjouren) and one of its staff, a concern report to the district and one to
    socialjouren (about a child no district is known for), a family home's interest
    registration, a youth's consent and link case, and a shelter's exclusion."""
    today = clock.today()
    leader = actor_of(scene.accounts[Role.GROUP_LEADER], Role.GROUP_LEADER)
    worker = actor_of(scene.accounts[Role.SOCIAL_WORKER], Role.SOCIAL_WORKER)
    link_worker = actor_of(scene.accounts[Role.LINK_WORKER], Role.LINK_WORKER)
    staff = actor_of(scene.accounts[Role.NIGHT_STAFF], Role.NIGHT_STAFF)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        socialjouren = organisations.NewOrganisation(
            name="Socialjouren (fuzz)", kind="city", social_emergency_service=True
        )
        socialjouren_id = organisations.add_organisation(uow, SYSTEM, socialjouren).id
    with app.app_context():
        row = request_session().get(Organisation, socialjouren_id)
    on_duty = factory.account(Role.SOCIAL_EMERGENCY.value, row)
    with app.app_context(), UnitOfWork(request_session()) as uow:
        rule = concern_reports.AcknowledgementRule.from_settings(app.config["REFERRAL_SETTINGS"])
        for report in (
            concern_reports.NewConcernReport(
                what_happened="Barnet berättade om oro hemma.",
                reporter_contact="Gruppledare, 070-000 00 00",
                referral_id=scene.referral_id,
            ),
            concern_reports.NewConcernReport(
                what_happened="Ett barn sov ensamt i trappuppgången.",
                reporter_contact="Gruppledare, 070-000 00 00",
                subject_description="Pojke, kanske tio år",
            ),
        ):
            concern_reports.file_report(uow, leader, report, rule, today)
        registration = interest.NewInterest(
            child_name="Intresse Barnsson",
            personnummer=invented_personnummer(today.year - 10, 3, 3),
            district_id=worker.organisation_id or "",
            family_home_contact="Familjehemmet, 070-000 00 01",
            received_on=today,
        )
        interest.register_interest(uow, leader, registration, today)
        consent = link_cases.NewYouthConsent(
            authority="migrationsverket",
            purpose="Kontakt om asylärendet",
            categories=("identity", "situation"),
            given_by="god_man",
            valid_from=today,
            valid_until=today + timedelta(days=90),
        )
        link_cases.record_consent(uow, link_worker, scene.youth_id, consent, today)
        case = link_cases.NewLinkCase(scene.youth_id, "migrationsverket", "Återuppta", today)
        link_cases.open_case(uow, link_worker, case, today)
        card = people.issue_card(uow, staff, people.NewPerson(alias="Gäst utesluten"), today)
        exclusions.exclude(
            uow, staff, scene.shelter_id, card.card_number, "Hot", today + timedelta(days=30), today
        )
    return replace(scene, accounts={**scene.accounts, Role.SOCIAL_EMERGENCY: on_duty})


def known_ids(app: Flask, scene: Scene) -> dict[str, list[str]]:
    """A few ids of each kind of record in the scene, the scene's own named ones first."""
    named = {
        "child_id": scene.child_id,
        "referral_id": scene.referral_id,
        "group_id": scene.group_id,
        "youth_id": scene.youth_id,
        "shelter_id": scene.shelter_id,
    }
    ids: dict[str, list[str]] = {}
    with app.app_context():
        session = request_session()
        for parameter, row in ROWS_BY_PARAMETER.items():
            query = select(row.id).order_by(row.id).limit(3)
            if row is GroupSession:  # the sessions of the group the paths name with them
                query = query.where(GroupSession.group_id == scene.group_id)
            found = list(session.scalars(query))
            first = [named[parameter]] if parameter in named else []
            ids[parameter] = first + [i for i in found if i not in first]
    ids["day"] = [scene.night.isoformat(), clock.today().isoformat()]
    return {parameter: values for parameter, values in ids.items() if values}


def cases(operation: Any, ids: dict[str, list[str]]) -> st.SearchStrategy[Case]:
    """Valid and invalid requests, with path ids drawn from the scene as well as generated."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    generated = [operation.as_strategy(generation_mode=mode) for mode in modes]
    names = [parameter.name for parameter in operation.path_parameters]
    if not names or not all(name in ids for name in names):
        return st.one_of(generated)
    real = st.fixed_dictionaries({name: st.sampled_from(ids[name]) for name in names})
    on_records = [
        real.flatmap(
            lambda path, mode=mode: operation.as_strategy(
                generation_mode=mode, path_parameters=path
            )
        )
        for mode in modes
    ]
    return st.one_of(*on_records, *generated)


def fuzz(
    app: Flask,
    caller: Caller,
    operation: Any,
    ids: dict[str, list[str]],
    examples: int,
) -> Counter[int]:
    """Send the operation `examples` derandomized requests; the statuses it answered."""
    seen: Counter[int] = Counter()

    @hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=cases(operation, ids))
    def run(case: Case) -> None:
        response = case.call_and_validate(
            app=app, session=caller.client, headers=caller.headers, checks=CHECKS
        )
        seen[response.status_code] += 1

    run()
    return seen


@pytest.mark.parametrize(("role", "way"), ROLES, ids=[role.value for role, _ in ROLES])
def test_every_operation_answers_as_its_document_says(
    fuzzed_app: Flask, scene: Scene, role: Role, way: str
) -> None:
    started = time.monotonic()
    caller = signed_in(fuzzed_app, scene.accounts[role], role, way)
    document = caller.client.get("/api/v1/openapi.json", headers=caller.headers)
    assert document.status_code == 200, document.get_data(as_text=True)
    schema = schemathesis.openapi.from_dict(document.get_json())
    # The document names both ways in (bearer token, session cookie), which schemathesis would
    # otherwise fill with random values: each role sends exactly its own credentials.
    schema.config.generation.update(with_security_parameters=False)
    ids = known_ids(fuzzed_app, scene)
    only = os.environ.get("API_FUZZ_ONLY", "")
    failures: dict[str, str] = {}
    statuses: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if only not in operation.label:
            continue
        try:
            seen = fuzz(fuzzed_app, caller, operation, ids, PROBE_EXAMPLES)
            if set(seen) != {403}:
                seen = fuzz(fuzzed_app, caller, operation, ids, MAX_EXAMPLES)
        # schemathesis raises its findings as a FailureGroup, a BaseExceptionGroup.
        except (Exception, BaseExceptionGroup) as error:
            failures[operation.label] = f"{type(error).__name__}: {error}"
            seen = Counter()
        statuses[operation.label] = seen
    reached = [label for label, seen in statuses.items() if any(s < 300 for s in seen)]
    refused = [label for label, seen in statuses.items() if set(seen) == {403}]
    print(
        f"\n{role.value} ({way}): {len(statuses)} operations, {len(reached)} answered 2xx, "
        f"{len(refused)} refused at the gate; "
        f"{sum(sum(seen.values()) for seen in statuses.values())} requests "
        f"in {time.monotonic() - started:.0f} s"
    )
    report = "\n\n".join(f"== {label}\n{failure}" for label, failure in failures.items())
    assert not failures, f"{len(failures)} operations answered against their document:\n{report}"
