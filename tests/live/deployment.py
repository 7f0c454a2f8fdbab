"""The service as an operator deploys it, for the live tests of sustained load and of several
instances: gunicorn with `make run`'s settings (bench/http_server.serve: two sync workers, the
access log on standard output, kept in a file here), on a PostgreSQL database of its own.

A deployment has its own audit signing key and checkpoint folder, shared by every server it
starts: the servers sign checkpoints as production does (on count, and on time from each
worker's timer), and those must never meet another test's database in the session's folder.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bench.http_load import Session, log_in
from bench.http_server import Server, serve
from config.settings import Settings
from referral import clock, create_app
from referral.actors import Actor
from referral.db.audit_log import AuditEntry
from referral.db.rate_limits import RateLimitCounter
from referral.db.uow import UnitOfWork
from referral.request_scope import get_database, request_session
from referral.roles import Role
from referral.services import children
from tests.factories import (
    PASSWORD,
    Account,
    Factory,
    command_environment,
    invented_personnummer,
    placed_under_sol_with_consent,
    referred,
)
from tests.integration.test_audit_log import with_own_checkpoints
from tests.live.conftest import FLASK, csrf_token
from tests.own_database import ON_POSTGRES, own_database

# Several instances of one deployment share one PostgreSQL database, as in production.
ONLY_ON_POSTGRES = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="several instances share one PostgreSQL database in production; two servers "
        "on one SQLite file is not a deployment",
    ),
]


@dataclass
class Deployment:
    settings: Settings
    environment: dict[str, str]
    factory: Factory
    folder: Path

    @contextmanager
    def serve(
        self, name: str, app: str = "referral.wsgi:app", chdir: Path | None = None
    ) -> Iterator[Server]:
        """One instance (its own gunicorn master and workers) on this deployment's database,
        keys and checkpoint folder, until the block ends."""
        with serve(name, app, self.environment, self.folder, chdir=chdir) as server:
            yield server

    def log_in(self, server: Server, account: Account) -> Session:
        """Through the forms, password then code, as bench/http_load.py does."""
        return log_in(
            server.url, self.settings.database_url, account.username, PASSWORD, account.seed
        )

    def flask(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """An operator's `flask …` command with the servers' environment."""
        return subprocess.run(
            [str(FLASK), *arguments],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def log_head(self) -> tuple[int, int, int]:
        """The access log's entries: how many, the lowest and the highest sequence number."""
        with self.factory.app.app_context():
            row = (
                request_session()
                .execute(
                    select(
                        func.count(),
                        func.coalesce(func.min(AuditEntry.sequence), 0),
                        func.coalesce(func.max(AuditEntry.sequence), 0),
                    )
                )
                .one()
            )
        return int(row[0]), int(row[1]), int(row[2])


@contextmanager
def deployment(
    base_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    checkpoint_every: int,
    **environment: str,
) -> Iterator[Deployment]:
    """A fresh database `<test database>_<name>`, a signing key and checkpoint folder of its
    own, and the environment its servers and commands share. `environment` adds REFERRAL_*
    settings, e.g. LOGIN_RATE_LIMIT="6 per minute"."""
    folder = tmp_path_factory.mktemp(name)
    settings = with_own_checkpoints(
        replace(
            base_settings,
            database_url=own_database(base_settings.database_url, tmp_path_factory, name),
            audit_checkpoint_every=checkpoint_every,
            # The server's own default, shared by every worker and instance: the database.
            rate_limit_storage_uri="",
        ),
        folder,
    )
    env = command_environment(settings)
    env["REFERRAL_LOGIN_RATE_LIMIT"] = "1000 per minute"
    env.update({f"REFERRAL_{key}": value for key, value in environment.items()})
    app = create_app(settings)
    try:
        yield Deployment(settings, env, Factory(app, settings), folder)
    finally:
        get_database(app).engine.dispose()


def wrong_password(server: Server, client: str, **headers: str) -> int:
    """One failed login from `client`, as the reverse proxy forwards it (X-Forwarded-For)."""
    http = requests.Session()
    http.headers["X-Forwarded-For"] = client
    http.headers.update(headers)
    url = f"{server.url}/login"
    data = {"username": "nobody", "password": "not it", "csrf_token": csrf_token(http, url)}
    return http.post(url, data=data, allow_redirects=False, timeout=60).status_code


def rate_limit_counters_in_database(deployment: Deployment) -> int:
    """How many counters the database storage holds (rate_limit_counters), live or ended."""
    with deployment.factory.app.app_context():
        count = request_session().scalar(select(func.count()).select_from(RateLimitCounter))
    return int(count or 0)


def resident_mb(pid: int) -> float:
    """A process's resident set now (VmRSS), in MB; Server.peak_rss_mb gives the peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise AssertionError(f"no VmRSS for process {pid}")


@dataclass(frozen=True)
class DataSet:
    worker: Account  # a social worker whose children are each referred and shared
    leader: Account  # the group leader of the partner they are referred to
    children: list[tuple[str, str]]  # (child id, the custodian's id)


def children_in_care(factory: Factory, count: int, description: str) -> DataSet:
    """`count` children of one district, placed under SoL with their custodian's written
    consent (citing `description`, published by the partner) and referred to the partner,
    which therefore has them in its inbox: made in-process, then used over HTTP only."""
    district = factory.organisation("district")
    partner = factory.organisation("partner")
    factory.activity_description(description, partner)
    worker = factory.account("social_worker", district)
    leader = factory.account("group_leader", partner)
    actor = Actor(worker.user.id, worker.username, district.id, frozenset({Role.SOCIAL_WORKER}))
    seeded = []
    with factory.app.app_context(), UnitOfWork(request_session()) as uow:
        today = clock.today()
        for n in range(count):
            personnummer = invented_personnummer(today.year - 10, 1 + n % 12, 1 + n % 28, 700 + n)
            child = children.register_child(
                uow, actor, children.NewChild(personnummer, f"Lastbarn {n} Påhittad")
            )
            guardian = placed_under_sol_with_consent(
                uow,
                actor,
                child.id,
                on=today,
                until=today + timedelta(days=365),
                description=description,
            )
            referred(uow, actor, child.id, partner.id, on=today)
            seeded.append((child.id, guardian))
    return DataSet(worker, leader, seeded)
