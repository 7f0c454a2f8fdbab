"""`flask backup`: take an encrypted, consistent backup of the database, and restore one into
an empty database, verified (the access log's chain, a sample of personal fields opened).

Neither command touches the keyring: a backup never holds the key-encryption keys, so it is
readable only with the keyring of its key epoch (README, "Backups").
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from config.settings import Settings, backup_key_problem
from referral import backup
from referral.backup import BackupError
from referral.backup_file import BackupHeader
from referral.cli_support import operator
from referral.db import migrate
from referral.request_scope import get_database
from referral.services import backups

backup_cli = AppGroup("backup", help="Encrypted backups of the database, and their restore.")

DEFAULT_SAMPLE = 20


def _settings() -> Settings:
    settings: Settings = current_app.config["REFERRAL_SETTINGS"]
    return settings


def _backup_key(settings: Settings) -> bytes:
    problem = backup_key_problem(settings)
    if problem:
        raise click.ClickException(problem)
    return settings.backup_key.encode("utf-8")


@backup_cli.command("create")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
def create(destination: Path) -> None:
    """Write an encrypted backup of the database to DESTINATION (a new file)."""
    settings = _settings()
    key = _backup_key(settings)

    def record_backup(header: BackupHeader) -> None:
        with operator("backup-create") as (uow, actor):
            backups.record_backup(uow, actor, header.backup_id)

    try:
        written = backup.create(settings.database_url, destination, key, record_backup)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    header = written.header
    click.echo(
        f"Backup {header.backup_id} of the {header.database} database written to "
        f"{written.path}: {written.dump_bytes} bytes of dump, {written.file_bytes} encrypted, "
        f"backup key {header.key_id}."
    )
    click.echo(
        "It holds no key-encryption key: it can be restored only with the keyring of this key "
        "epoch, and keys shredded before the next epoch ends cannot be opened from it after."
    )


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace what the database holds (else refused).")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=DEFAULT_SAMPLE,
    show_default=True,
    help="Rows of each kind of record whose personal fields are opened to verify the restore.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Where the decrypted dump waits while it is checked (default: beside a SQLite "
    "database, else the temporary folder).",
)
def restore(source: Path, force: bool, sample: int, work_dir: Path | None) -> None:
    """Restore the backup SOURCE into the database, then verify it; exits 1 on any failure."""
    settings = _settings()
    key = _backup_key(settings)
    database = get_database()
    database.engine.dispose()  # no pooled connection may outlive the database it opened
    try:
        header = backup.restore(settings.database_url, source, key, force=force, work=work_dir)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    database.engine.dispose()
    click.echo(f"Restored backup {header.backup_id}, taken {header.created_at}.")
    if not migrate.current_revision_is_head(settings.database_url):
        migrate.upgrade(settings.database_url)
        click.echo("Its schema was older than this version's: migrated.")
    with operator("backup-restore") as (uow, actor):
        check = backups.check_restored(uow, actor, sample)
        if check.ok:
            backups.record_restore(uow, actor, header.backup_id)
    for line in _summary(check):
        click.echo(line, err=not check.ok)
    if not check.ok:
        click.echo("VERIFICATION FAILED: do not put this database into service.", err=True)
        sys.exit(1)


def _summary(check: backups.RestoreCheck) -> list[str]:
    chain = check.chain
    lines = [
        f"Access log: {chain.entries_checked} entries and {chain.checkpoints_checked} "
        "checkpoints verified."
        if chain.ok
        else f"Access log TAMPERED: {chain.reason} (first bad entry: {chain.first_bad_sequence})"
    ]
    if check.signed_beyond is not None:
        lines.append(
            f"The service signed checkpoints up to entry {check.signed_beyond} after this backup "
            f"was taken: the entries after entry {chain.last_sequence} are not in it."
        )
    lines.append(
        f"Personal fields: {check.fields_opened} opened in {check.rows_sampled} sampled rows; "
        f"{len(check.unreadable)} did not open."
    )
    for field in check.unreadable[:10]:
        lines.append(f"  does not open: {field.table}.{field.field} of row {field.row_id}")
    if check.keys_past_their_epoch:
        lines.append(
            f"{check.keys_past_their_epoch} of {check.live_keys} data keys are wrapped by key-"
            "encryption keys this keyring does not hold (retired since, or never its own): the "
            "backup is from before a key epoch ended, and what they sealed cannot be read."
        )
    return lines
