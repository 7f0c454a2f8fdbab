"""`flask gallring`: the plan is a dry run that names records by reference and counts, the run
purges what is due and says how much, a second run purges nothing, and a run without the
return-file signing key stops before anything is purged, saying what to do."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from config.settings import Settings
from referral import clock
from referral.db.audit_log import AuditEntry
from referral.db.interest import InterestRegistration
from referral.db.uow import UnitOfWork
from referral.request_scope import request_session
from referral.services import interest
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import Factory, invented_personnummer, social_worker_actor

CHILD = "Cli-barnet Påhittsdotter"


def _declined_registration(factory: Factory) -> str:
    district = factory.organisation("district")
    leader = factory.account("group_leader")
    worker = social_worker_actor(factory, district)
    from referral.actors import Actor
    from referral.roles import Role

    partner_leader = Actor(
        leader.user.id, leader.username, leader.user.organisation_id, frozenset({Role.GROUP_LEADER})
    )
    with factory.app.app_context(), UnitOfWork(request_session()) as uow:
        registered = interest.register_interest(
            uow,
            partner_leader,
            interest.NewInterest(
                CHILD, invented_personnummer(2016, 6, 6), district.id, "070-1", clock.today()
            ),
            clock.today(),
        )
        interest.decline(uow, worker, registered.id)
    return registered.id


def test_the_plan_changes_nothing_and_the_run_purges_what_it_listed(
    runner: FlaskCliRunner, factory: Factory
) -> None:
    registration_id = _declined_registration(factory)
    with factory.app.app_context():
        entries_before = request_session().scalar(select(func.count()).select_from(AuditEntry))

    plan = runner.invoke(args=["gallring", "plan"])

    assert plan.exit_code == 0, plan.output
    assert "interest: 1 due, 0 held, 0 waiting" in plan.output
    assert "A run now would purge 1." in plan.output
    assert CHILD not in plan.output
    with factory.app.app_context():
        assert request_session().scalar(select(func.count()).select_from(AuditEntry)) == (
            entries_before
        )

    run = runner.invoke(args=["gallring", "run"])

    assert run.exit_code == 0, run.output
    assert "Purged 1 of 1 due; 0 held." in run.output
    with factory.app.app_context():
        row = request_session().get(InterestRegistration, registration_id)
        assert row is not None and row.purged_at is not None
        assert row._child_name is None and row.personnummer_index is None
    again = runner.invoke(args=["gallring", "run"])
    assert "Purged 0 of 0 due" in again.output


def test_a_run_without_its_signing_key_stops_before_purging_and_says_what_to_do(
    settings: Settings, tmp_path: Path
) -> None:
    missing = replace(settings, return_signing_key_path=str(tmp_path / "none.pem"))
    with app_in_rolled_back_transaction(missing) as app:
        result = app.test_cli_runner().invoke(args=["gallring", "run"])
    assert result.exit_code != 0
    assert "flask gallring init" in result.output


def test_init_makes_the_key_once(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "keys" / "return.pem"
    with app_in_rolled_back_transaction(
        replace(settings, return_signing_key_path=str(path))
    ) as app:
        first = app.test_cli_runner().invoke(args=["gallring", "init"])
        second = app.test_cli_runner().invoke(args=["gallring", "init"])
    assert "Created" in first.output and "exists already" in second.output
    assert path.stat().st_mode & 0o777 == 0o600
