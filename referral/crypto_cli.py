"""`flask crypto`: create the keyring, rotate and retire KEKs, re-encrypt fields, show status.

Each command acts as a named system actor. Long runs show a progress bar on a terminal and
plain progress lines otherwise (cron, systemd), and can be interrupted and run again.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from crypto import KeyringError, LocalKeyring
from referral import clock
from referral.cli_support import operator
from referral.services import keys
from referral.services.keys import Progress

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

crypto_cli = AppGroup("crypto", help="Keys: keyring, rotation, re-encryption, status.")

PLAIN_PROGRESS_EVERY = 100


class _TerminalProgress:
    """A click progress bar, opened once the total is known."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: ProgressBar[int] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@contextmanager
def progress_reporter(label: str) -> Iterator[Progress]:
    """A progress callback: a bar on a terminal, a line every hundred keys elsewhere
    (cron and systemd logs, and the test that kills a rotation half way)."""
    if sys.stdout.isatty():
        terminal = _TerminalProgress(label)
        try:
            yield terminal
        finally:
            terminal.close()
        return

    def plain(done: int, total: int) -> None:
        if done % PLAIN_PROGRESS_EVERY == 0 or done == total:
            click.echo(f"{label}: {done}/{total}")
            sys.stdout.flush()

    yield plain


@crypto_cli.command("init")
def init() -> None:
    """Create the local keyring (0600, outside the database) with a first KEK."""
    settings = current_app.config["REFERRAL_SETTINGS"]
    if settings.key_provider != "local":
        raise click.ClickException("Only the local key provider keeps a keyring file.")
    if Path(settings.keyring_path).exists():
        click.echo(f"The keyring exists already: {settings.keyring_path}")
        return
    try:
        keyring = LocalKeyring.create(settings.keyring_path)
    except KeyringError as error:
        raise click.ClickException(str(error)) from None
    primary = keyring.primary()
    click.echo(f"Created {settings.keyring_path} with KEK {primary.kek_id} v{primary.version}.")


@crypto_cli.command("status")
def status() -> None:
    """How many live data keys each KEK version wraps (retire a version at 0)."""
    with operator("crypto-status") as (uow, actor):
        for usage in keys.status(uow, actor):
            state = "primary" if usage.primary else ("retired" if usage.kek.retired else "active")
            click.echo(
                f"{usage.kek.kek_id} v{usage.kek.version:<3} {state:<8} "
                f"{usage.live_keys} live data keys"
            )


@crypto_cli.command("rotate")
def rotate() -> None:
    """Add a new primary KEK and rewrap every data key under it (no field is decrypted)."""
    with operator("crypto-rotate") as (uow, actor), progress_reporter("rewrapped") as report:
        primary, moved = keys.rotate(uow, actor, report)
    click.echo(f"Primary KEK is now v{primary.version}; {moved} data keys rewrapped.")


@crypto_cli.command("rewrap")
def rewrap() -> None:
    """Finish an interrupted rotation: rewrap what is not yet under the primary KEK."""
    with operator("crypto-rewrap") as (uow, actor), progress_reporter("rewrapped") as report:
        moved = keys.rewrap(uow, actor, report)
    click.echo(f"{moved} data keys rewrapped.")


@crypto_cli.command("reencrypt")
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Re-encrypt under keys made before this UTC time (default: now). "
    "Pass the same value again to resume an interrupted run.",
)
def reencrypt(before: datetime | None) -> None:
    """Move every record's fields to a fresh data key and shred the old key."""
    cutoff = (before.replace(tzinfo=UTC) if before else clock.now()).replace(microsecond=0)
    click.echo(f"Re-encrypting keys made before {cutoff:%Y-%m-%dT%H:%M:%S} (UTC).")
    click.echo(
        f"To resume if interrupted: flask crypto reencrypt --before {cutoff:%Y-%m-%dT%H:%M:%S}"
    )
    with operator("crypto-reencrypt") as (uow, actor), progress_reporter("re-encrypted") as report:
        result = keys.reencrypt(uow, actor, cutoff, report)
    click.echo(f"{result.replaced} data keys replaced.")
    if result.kept_for_the_log:
        click.echo(
            f"{result.kept_for_the_log} old keys kept, unused by any record: entries of the "
            "access log made before it had keys of its own are sealed under them."
        )


@crypto_cli.command("retire")
@click.option("--kek-id", required=True)
@click.option("--version", "version", required=True, type=int)
def retire(kek_id: str, version: int) -> None:
    """Destroy an old KEK version once no live data key depends on it."""
    with operator("crypto-retire") as (uow, actor):
        keys.retire(uow, actor, kek_id, version)
    click.echo(f"{kek_id} v{version} is retired; its material is destroyed.")
