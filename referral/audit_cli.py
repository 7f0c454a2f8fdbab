"""`flask audit`: the signing key, verification, checkpoints and export of the access log.

The application's commands over audit/'s functions (audit/ itself knows no Flask and no CLI).

`verify` exits non-zero and names the first bad entry on any edit, insertion, deletion,
reordering, or truncation back past the last checkpoint; checkpoint signatures are checked
with the public key alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from audit.checkpoints import generate_signing_key, private_pem, public_pem
from referral import clock
from referral.cli_support import operator
from referral.services import audit_integrity, audit_search
from referral.services.audit_integrity import public_key_path

audit_cli = AppGroup("audit", help="The access log: keys, verification, checkpoints, export.")


@audit_cli.command("init")
def init() -> None:
    """Create the Ed25519 signing key (0600) and put its public key beside the checkpoints."""
    settings = current_app.config["REFERRAL_SETTINGS"]
    key_path = Path(settings.audit_signing_key_path)
    checkpoints = Path(settings.audit_checkpoint_dir)
    checkpoints.mkdir(parents=True, exist_ok=True)
    if key_path.exists():
        click.echo(f"The signing key exists already: {key_path}")
        return
    key_path.parent.mkdir(parents=True, exist_ok=True)
    private = generate_signing_key()
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem(private))
    public_key_path(checkpoints).write_bytes(public_pem(private))
    click.echo(f"Created {key_path}; the public key is {public_key_path(checkpoints)}.")


@audit_cli.command("verify")
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Verify checkpoints with this public key (default: the copy in the checkpoint directory).",
)
@click.option(
    "--since-last-verified",
    is_flag=True,
    help="Only from the last signed checkpoint at or before what the last successful "
    "verification covered (for routine runs; without one, the whole log).",
)
def verify(public_key: Path | None, since_last_verified: bool) -> None:
    """Recompute the chain and check every signed checkpoint."""
    with operator("audit-verify") as (uow, actor):
        if public_key is not None:  # another key: a check of its own, not recorded
            verification = audit_integrity.verify_log(
                uow.session, public_key, since_last_verified=since_last_verified
            )
        else:
            verification = audit_integrity.verify_and_record_log(
                uow, actor, since_last_verified=since_last_verified
            )
    report = verification.report
    if since_last_verified:
        click.echo(_where_it_began(verification))
    if report.ok:
        click.echo(
            f"Intact: {report.entries_checked} entries and "
            f"{report.checkpoints_checked} checkpoints verified."
        )
        return
    click.echo(f"TAMPERED: {report.reason}", err=True)
    click.echo(f"First bad entry: {report.first_bad_sequence}", err=True)
    sys.exit(1)


def _where_it_began(verification: audit_integrity.LogVerification) -> str:
    if verification.previously_covered is None:
        return "No earlier successful verification: checked the whole log from entry 1."
    if not verification.started_after:
        return (
            f"The last verification reached entry {verification.previously_covered}, but no "
            "signed checkpoint lies at or before it: checked the whole log from entry 1."
        )
    if verification.started_after == verification.previously_covered:
        return (
            f"Checked from entry {verification.first_checked}: the last verification reached "
            f"entry {verification.started_after}, where a signed checkpoint lies."
        )
    return (
        f"Checked from entry {verification.first_checked}: after the signed checkpoint at "
        f"entry {verification.started_after}, the latest at or before entry "
        f"{verification.previously_covered}, which the last verification reached."
    )


@audit_cli.command("checkpoint")
@click.option(
    "--if-due",
    is_flag=True,
    help="Only when entries were written since the last checkpoint and it is older than "
    "REFERRAL_AUDIT_CHECKPOINT_SECONDS (for a timer; the server also does this itself).",
)
def checkpoint(if_due: bool) -> None:
    """Sign a checkpoint of the current head now (also done every N entries and on time)."""
    if if_due:
        with operator("audit-checkpoint") as (uow, _actor):
            due = audit_integrity.checkpoint_if_due(uow.session, clock.now())
            uow.commit()
        click.echo(f"Checkpoint at entry {due.sequence}." if due else "No checkpoint was due.")
        return
    with operator("audit-checkpoint") as (uow, actor):
        signed = audit_integrity.checkpoint_now(uow, actor)
    if signed is None:
        click.echo("The log is empty: nothing to sign.")
    else:
        click.echo(f"Checkpoint at entry {signed.sequence}, signed {signed.signed_at}.")


@audit_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl")
@click.option("--actor", default=None)
@click.option("--action", default=None)
@click.option("--outcome", type=click.Choice(["allowed", "denied"]), default=None)
def export(fmt: str, actor: str | None, action: str | None, outcome: str | None) -> None:
    """Write the (filtered) log to standard output; the export is itself recorded."""
    criteria = audit_search.AuditFilter(actor=actor, action=action, outcome=outcome)
    with operator("audit-export") as (uow, operator_actor):
        for piece in audit_search.export(uow, operator_actor, criteria, fmt):
            click.echo(piece, nl=False)
