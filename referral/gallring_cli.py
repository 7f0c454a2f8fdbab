"""`flask gallring`: the return-file signing key, the plan (a dry run) and the run.

Meant for a timer: `flask gallring run` once a night (cron or a systemd timer, see the
README). It is idempotent and resumable; a second run started while one is going finds the
lock taken on PostgreSQL and does nothing, and on SQLite purges nothing twice.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from referral import clock, return_signing
from referral.cli_support import operator
from referral.crypto_cli import progress_reporter
from referral.services import gallring

gallring_cli = AppGroup("gallring", help="Retention and purge (gallring): plan, run, key.")


@gallring_cli.command("init")
def init() -> None:
    """Create the Ed25519 key that signs files returned to social services (0600)."""
    path = Path(current_app.config["REFERRAL_SETTINGS"].return_signing_key_path)
    if return_signing.create_key(path):
        click.echo(f"Created {path}; its public key is beside it.")
    else:
        click.echo(f"The signing key exists already: {path}")


@gallring_cli.command("plan")
def plan_command() -> None:
    """List what is due, what is held and why, and what is kept: changes nothing."""
    settings = current_app.config["REFERRAL_SETTINGS"]
    with operator("gallring-plan") as (uow, actor):
        plan = gallring.plan(uow, actor, settings, clock.today())
    click.echo(f"Gallring plan for {plan.today.isoformat()} (dry run: nothing is changed)")
    for rule in plan.rules:
        upcoming = f", next on {rule.next_due_on.isoformat()}" if rule.next_due_on else ""
        click.echo(
            f"\n{rule.rule}: {rule.due} due, {rule.held} held, {rule.waiting} waiting{upcoming}"
        )
        click.echo(f"  basis: {rule.basis}")
    if plan.held:
        click.echo("\nHeld (not purged while the hold stands):")
        for unit in plan.held:
            reasons = ", ".join(kind.value for kind in unit.held_by)
            click.echo(f"  {unit.rule} {unit.reference} due {unit.due_on.isoformat()}: {reasons}")
    click.echo("\nKept:")
    for kept in plan.kept:
        click.echo(f"  {kept.name}: {kept.count} ({kept.basis})")
    click.echo(f"\nA run now would purge {plan.due_count}.")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """The crypto commands' progress bar on a terminal; silence under a timer (the summary
    line is the log there)."""
    if not sys.stdout.isatty():
        yield None
        return
    with progress_reporter(label) as report:
        yield report


@gallring_cli.command("run")
def run_command() -> None:
    """Return the files of ended participations to social services, then purge what is
    due: idempotent, resumable, one person's record per transaction."""
    settings = current_app.config["REFERRAL_SETTINGS"]
    with _progress("Purging") as progress, operator("gallring-run") as (uow, actor):
        # A missing key is refused before anything is purged (MissingSigningKey, one line).
        key = return_signing.load_key(Path(settings.return_signing_key_path))
        result = gallring.purge_due(uow, actor, settings, clock.today(), key, progress)
    if result.run_id is None:
        click.echo("Another gallring run is in progress: this one did nothing.")
        return
    click.echo(
        f"Purged {result.purged} of {result.due} due; {result.held} held. "
        f"Returned {result.returned} files to social services."
    )
