"""Operators manage organisations and accounts from the command line."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from audit.record import current_head
from config.settings import Settings
from referral import clock
from referral.db.audit_log import AuditEntry
from referral.db.models import User
from referral.db.referrals import Referral
from referral.db.uow import UnitOfWork
from referral.demo import demo_actor
from referral.request_scope import request_session
from referral.services import concern_reports, groups, link_cases, outreach, referrals
from referral.services.nights import shelters
from tests.conftest import app_in_rolled_back_transaction
from tests.factories import Factory, log_in


def test_an_operator_adds_a_district_and_a_social_worker(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["org", "add", "--name", "Skarpnäck sdf (test)", "--kind", "district"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "user",
            "add",
            "--username",
            "cli-worker",
            "--name",
            "Cli Worker",
            "--org",
            "skarpnäck sdf (test)",
            "--role",
            "social_worker",
            "--generate-password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Password (shown once):" in result.output
    listing = runner.invoke(args=["org", "list"])
    assert "Skarpnäck sdf (test)" in listing.output


def test_an_invalid_organisation_number_is_one_clear_sentence_and_nothing_is_written(
    runner: FlaskCliRunner,
) -> None:
    result = runner.invoke(
        args=[
            "org",
            "add",
            "--name",
            "Fel (test)",
            "--kind",
            "partner",
            "--org-number",
            "802490-6772",
        ]
    )
    assert result.exit_code != 0
    assert "Luhn" in result.output and "Traceback" not in result.output
    assert "Fel (test)" not in runner.invoke(args=["org", "list"]).output


def test_a_role_in_the_wrong_kind_of_organisation_is_refused(
    runner: FlaskCliRunner, factory: Factory
) -> None:
    partner = factory.organisation("partner")
    result = runner.invoke(
        args=[
            "user",
            "add",
            "--username",
            "misplaced",
            "--name",
            "M",
            "--org",
            partner.id,
            "--role",
            "social_worker",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code != 0
    assert "district" in result.output


@pytest.mark.parametrize(
    ("password", "why"),
    [("Sommar2026!!", "too easy to guess"), ("sunshine1234", "lists of common or leaked")],
)
@pytest.mark.asvs("V6.2.4", "V6.2.11", "V6.2.12")
def test_a_guessable_or_leaked_staff_password_is_refused_and_no_account_is_made(
    runner: FlaskCliRunner, factory: Factory, password: str, why: str
) -> None:
    district = factory.organisation("district")
    result = runner.invoke(
        args=[
            "user",
            "add",
            "--username",
            "ny.handlaggare",
            "--name",
            "N",
            "--org",
            district.id,
            "--role",
            "social_worker",
            "--password",
            password,
        ]
    )
    assert result.exit_code != 0
    assert why in result.output
    assert password not in result.output  # the refusal never repeats the password
    with factory.app.app_context():
        assert (
            request_session().scalar(select(User.id).where(User.username == "ny.handlaggare"))
            is None
        )


@pytest.mark.asvs("V7.4.2", "V7.4.3")
def test_disable_and_reset_mfa_end_open_sessions(
    runner: FlaskCliRunner, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    assert runner.invoke(args=["user", "reset-mfa", account.username]).exit_code == 0
    assert "/login" in client.get("/").location
    assert not account.reload().totp_confirmed
    log_in_again = factory.app.test_client()
    assert runner.invoke(args=["user", "disable", account.username]).exit_code == 0
    assert "/login" in log_in_again.get("/").location
    assert not account.reload().active


@pytest.mark.asvs("V7.4.5")
def test_an_operator_ends_every_session_of_an_account_which_stays_open(
    runner: FlaskCliRunner, client: FlaskClient, factory: Factory
) -> None:
    account = factory.account()
    log_in(client, account)
    with factory.app.app_context():
        start = current_head(request_session())[0]
    result = runner.invoke(args=["user", "end-sessions", account.username])
    assert result.exit_code == 0, result.output
    assert f"{account.username}'s sessions have ended" in result.output
    assert "/login" in client.get("/").location
    user = account.reload()
    assert user.active and user.totp_confirmed, "the account and its factor are untouched"
    with factory.app.app_context():
        entries = request_session().scalars(select(AuditEntry).where(AuditEntry.sequence > start))
        assert [(e.action, e.actor_name, e.object_id) for e in entries] == [
            ("user:end_sessions", "system:user-end-sessions", account.user.id)
        ]


@pytest.mark.asvs("V6.3.2", "V15.2.3")
def test_demo_commands_refuse_to_run_outside_demo_mode(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "REFERRAL_DEMO=1" in result.output


def test_the_demo_shows_a_child_waiting_for_consent_and_one_with_bris_under_lvu(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the loader writes its credentials file under instance/
    with app_in_rolled_back_transaction(replace(settings, demo_mode=True)) as app:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        with app.app_context(), UnitOfWork(request_session()) as uow:
            leader = demo_actor("gruppledare")
            inbox = referrals.partner_inbox(uow, leader, clock.today())
            district_id = demo_actor("handlaggare").organisation_id
            statuses = {
                r.status
                for r in uow.session.scalars(select(Referral)).all()
                if r.district_id == district_id
            }
            start_year = (clock.today() + timedelta(days=14)).year
            overview = groups.year_overview(uow, leader, start_year, clock.today())
            # The link worker's programme: encounters, a youth, a case to Migrationsverket.
            link_worker = demo_actor("lankare")
            met = outreach.encounters(uow, link_worker)
            (youth,) = outreach.youths(uow, link_worker, clock.today())
            (case,) = link_cases.cases_of(uow, link_worker, youth.id, clock.today())
            # Bris's concern report about the SoL child waits in the district's inbox.
            waiting = concern_reports.received_reports(uow, demo_actor("handlaggare"), clock.now())
            # Programme C: the night staff's shelter, and the coordinator's view of it.
            (shelter,) = shelters.shelters(uow, demo_actor("nattpersonal"))
            assert shelters.shelters(uow, demo_actor("nattsamordnare")) == [shelter]
    assert (shelter.name, shelter.places.places, shelter.places.reserved_for_women) == (
        "Stadsmissionens natthärbärge",
        10,
        3,
    )
    assert sorted(e.youth_id is None for e in met) == [False, True]
    assert (youth.alias, case.authority, case.step) == (
        "Demo-Amir",
        "migrationsverket",
        "initiated",
    )
    assert [line.status for line in waiting] == ["open"]
    assert [view.name for view in inbox] == ["Noah Påhittad"]  # LVU: shared at once
    assert statuses == {"awaiting_consent", "shared"}  # the SoL child waits for the father
    assert [(g.name, g.status) for g in overview.groups] == [("Vårgrupp Farsta 8–12 år", "planned")]
