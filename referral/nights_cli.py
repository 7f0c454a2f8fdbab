"""`flask nights`: the registration morning from a timer, and the check of a stored run.

`flask nights open` before the window (it draws the day's seed, so its commitment is on
show before anyone registers; the desk page does the same when opened first) and
`flask nights allocate` when the window closes (cron or a systemd timer, see the README).
`flask nights verify-run DATE` reruns the stored allocation of DATE and compares.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from referral import clock
from referral.actors import Actor
from referral.cli_support import operator
from referral.db.uow import UnitOfWork
from referral.roles import Role
from referral.services.nights import allocation

nights_cli = AppGroup("nights", help="Programme C's night places: the morning and its runs.")


@contextmanager
def _coordinator(command: str) -> Iterator[tuple[UnitOfWork, Actor]]:
    """The timer acts as the partnership's coordinator, by name, so the log says who ran."""
    with operator(command) as (uow, operator_actor):
        yield (
            uow,
            Actor(
                user_id=operator_actor.user_id,
                username=operator_actor.username,
                organisation_id=None,
                roles=frozenset({Role.NIGHT_COORDINATOR}),
                system=True,
            ),
        )


@nights_cli.command("open")
def open_command() -> None:
    """Draw today's seed (if today is a registration day) and print its commitment."""
    settings = current_app.config["REFERRAL_SETTINGS"]
    with operator("nights-open") as (uow, _actor):
        day = allocation.ensure_day(uow, settings, clock.now())
    if day is None:
        click.echo("Today is not a registration day.")
    else:
        click.echo(f"Registration day {day.isoformat()}: the draw's commitment is on show.")


@nights_cli.command("allocate")
def allocate_command() -> None:
    """Allocate this morning's places (once; a second run is refused)."""
    settings = current_app.config["REFERRAL_SETTINGS"]
    with _coordinator("nights-allocate") as (uow, actor):
        summary = allocation.run_allocation(uow, actor, settings, clock.now())
    nights = ", ".join(n.isoformat() for n in summary.nights)
    click.echo(
        f"Allocated {summary.day.isoformat()} (nights {nights}): {summary.registered} "
        f"registered, {summary.placed} placed, {summary.turned_away} turned away. "
        f"Seed {summary.seed}."
    )


@nights_cli.command("verify-run")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def verify_run_command(day: object) -> None:
    """Rerun the stored allocation of DAY (YYYY-MM-DD) on its stored inputs and compare."""
    assert hasattr(day, "date")
    the_day: date = day.date()
    with _coordinator("nights-verify-run") as (uow, actor):
        result = allocation.verify_run(uow, actor, the_day)
    checks = {
        "inputs digest": result.inputs_digest_matches,
        "seed matches its commitment": result.commitment_matches,
        "same result on rerun": result.result_matches,
    }
    for name, passed in checks.items():
        click.echo(f"{'ok  ' if passed else 'FAIL'} {name}")
    if not result.ok:
        raise click.ClickException(f"The run of {the_day.isoformat()} does not verify.")
    click.echo(f"The run of {the_day.isoformat()} verifies.")
