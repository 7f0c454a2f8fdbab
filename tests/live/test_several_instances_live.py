"""Two instances of the service on one PostgreSQL database, deployed as docs/deployment.md
says: each its own gunicorn (two workers) on a port of its own, both serving referral.wsgi:app
with REFERRAL_TRUSTED_PROXIES=1 (one reverse proxy in front), with the same secrets, keys,
signing key and checkpoint folder. The tests speak to them as the proxy would.

A session begun on one instance is the same session on the other, and a logout on either ends
it on both; one client's failed logins are counted together whichever instance answers, and
another client's apart; requests to both at once append to one gapless chain that verifies,
with the checkpoints both instances signed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from audit.actions import Action
from audit.checkpoints import CheckpointDirectory
from bench.http_load import Session
from bench.http_server import Server
from config.settings import Settings
from referral.db.audit_log import AuditEntry
from referral.request_scope import request_session
from tests.factories import consent_body
from tests.live.conftest import run_at_once
from tests.live.deployment import (
    ONLY_ON_POSTGRES,
    DataSet,
    Deployment,
    children_in_care,
    deployment,
    rate_limit_counters_in_database,
    wrong_password,
)

DESCRIPTION = "A-2026:instances"
LOGIN_LIMIT = 6
CHECKPOINT_EVERY = 10  # often, so that both instances sign some
# Addresses for documentation (RFC 5737): two clients as the proxy names them.
CLIENT = "203.0.113.7"
OTHER_CLIENT = "203.0.113.8"
THIRD_CLIENT = "203.0.113.9"

pytestmark = ONLY_ON_POSTGRES


@dataclass
class Instances:
    deployment: Deployment
    a: Server
    b: Server
    data: DataSet


@pytest.fixture(scope="module")
def instances(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Instances]:
    with deployment(
        base_settings,
        tmp_path_factory,
        "instances",
        checkpoint_every=CHECKPOINT_EVERY,
        LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
        TRUSTED_PROXIES="1",
    ) as shared:
        data = children_in_care(shared.factory, 2, DESCRIPTION)
        with (
            shared.serve("a", "referral.wsgi:app") as a,
            shared.serve("b", "referral.wsgi:app") as b,
        ):
            yield Instances(shared, a, b, data)


def _on(
    server: Server, session: Session, method: str, path: str, **kwargs: Any
) -> requests.Response:
    """A request to `server` carrying the session cookie and CSRF token `session` was given,
    whichever instance gave them."""
    headers = {"Cookie": session.cookie_header, "X-CSRFToken": session.csrf_token}
    return requests.request(
        method, f"{server.url}{path}", headers=headers, allow_redirects=False, timeout=60, **kwargs
    )


def test_a_session_begun_on_one_instance_reads_and_writes_on_the_other(
    instances: Instances,
) -> None:
    a, b, data = instances.a, instances.b, instances.data
    session = instances.deployment.log_in(a, data.worker)
    child, guardian = data.children[0]

    me = _on(b, session, "GET", "/api/v1/me")
    written = _on(
        b,
        session,
        "POST",
        f"/api/v1/children/{child}/consents",
        json=consent_body(guardian, DESCRIPTION),
    )

    assert me.status_code == 200
    assert me.json()["username"] == data.worker.username
    assert written.status_code == 201, written.text
    assert _on(a, session, "GET", f"/api/v1/children/{child}").status_code == 200


def test_a_logout_on_one_instance_ends_the_session_on_the_other(instances: Instances) -> None:
    a, b, data = instances.a, instances.b, instances.data
    # The group leader: an account logs in at most twice within one authenticator step.
    session = instances.deployment.log_in(a, data.leader)
    assert _on(a, session, "GET", "/api/v1/me").status_code == 200

    logout = _on(b, session, "POST", "/logout", data={"csrf_token": session.csrf_token})

    assert logout.status_code == 302
    assert _on(a, session, "GET", "/api/v1/me").status_code == 401
    assert _on(b, session, "GET", "/api/v1/me").status_code == 401


def _failed_logins_by_address(deployment: Deployment) -> Counter[str]:
    with deployment.factory.app.app_context():
        rows = request_session().execute(
            select(AuditEntry.client_address, func.count())
            .where(AuditEntry.action == Action.LOGIN_FAILED.value)
            .group_by(AuditEntry.client_address)
        )
        return Counter({str(address): int(count) for address, count in rows})


def test_one_clients_failed_logins_are_counted_together_whichever_instance_answers(
    instances: Instances,
) -> None:
    a, b = instances.a, instances.b
    counters_before = rate_limit_counters_in_database(instances.deployment)

    spread = [wrong_password(a if n % 2 == 0 else b, CLIENT) for n in range(LOGIN_LIMIT + 2)]
    another = [wrong_password(a, OTHER_CLIENT), wrong_password(b, OTHER_CLIENT)]

    assert spread == [401] * LOGIN_LIMIT + [429, 429]
    assert another == [401, 401]
    # Counted in the database's table (the default storage): a counter for each client.
    assert rate_limit_counters_in_database(instances.deployment) == counters_before + 2
    # The access log and gunicorn's own log name the client, not the proxy.
    failed = _failed_logins_by_address(instances.deployment)
    assert (failed[CLIENT], failed[OTHER_CLIENT]) == (LOGIN_LIMIT, 2)
    for server in (a, b):
        assert f"{CLIENT} - -" in server.log.read_text()


def test_behind_https_a_form_is_taken_only_with_a_referer_of_the_service_itself(
    instances: Instances,
) -> None:
    """X-Forwarded-Proto: https makes the request HTTPS to the service (REFERRAL_TRUSTED_PROXIES
    trusts the proxy's), and Flask-WTF's strict check then wants a Referer of the service's own
    origin."""
    a = instances.a
    https = {"X-Forwarded-Proto": "https"}
    origin = "https://" + a.url.removeprefix("http://")

    statuses = [
        wrong_password(a, THIRD_CLIENT, **https),
        wrong_password(a, THIRD_CLIENT, **https, Referer=f"{origin}/login"),
        wrong_password(a, THIRD_CLIENT, **https, Referer="https://elsewhere.example/login"),
    ]

    assert statuses == [400, 401, 400]  # refused, the password checked, refused


def test_requests_to_both_instances_at_once_append_to_one_gapless_chain_that_verifies(
    instances: Instances,
) -> None:
    a, b, data = instances.a, instances.b, instances.data
    session = instances.deployment.log_in(b, data.worker)
    checkpoints = Path(instances.deployment.settings.audit_checkpoint_dir)

    def work(n: int) -> requests.Response:
        server = a if n % 2 == 0 else b
        child, guardian = data.children[n % len(data.children)]
        if n % 4 < 2:
            body = consent_body(guardian, DESCRIPTION)
            return _on(server, session, "POST", f"/api/v1/children/{child}/consents", json=body)
        return _on(server, session, "GET", f"/api/v1/children/{child}")

    answers = run_at_once(24, work)
    count, first, last = instances.deployment.log_head()
    verify = instances.deployment.flask("audit", "verify")

    assert [r.status_code for r in answers] == [201, 201, 200, 200] * 6
    ids = {r.headers["X-Request-ID"] for r in answers}
    with instances.deployment.factory.app.app_context():
        logged = set(
            request_session().scalars(
                select(AuditEntry.request_id).where(AuditEntry.request_id.in_(ids))
            )
        )
    assert logged == ids  # every answer of either instance has its entry
    assert (first, last) == (1, count)  # one sequence, no gap, no number twice
    assert verify.returncode == 0, verify.stdout + verify.stderr
    signed = len(CheckpointDirectory(checkpoints).read_all())
    assert signed >= count // CHECKPOINT_EVERY  # every tenth entry, and any signed on time
    assert f"Intact: {count} entries and {signed} checkpoints verified." in verify.stdout
