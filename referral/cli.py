"""Operator commands: `flask db`, `flask org`, `flask user`, and the `crypto`, `audit`,
`backup` and `demo` groups.

The groups are gathered here; each command runs through referral.cli_support.operator (a
unit of work and a named system actor), so what it does passes the same policy and the same
access log as the web.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from referral.audit_cli import audit_cli
from referral.backup_cli import backup_cli
from referral.cli_support import operator
from referral.crypto_cli import crypto_cli
from referral.db import migrate
from referral.demo import demo_cli
from referral.gallring_cli import gallring_cli
from referral.nights_cli import nights_cli
from referral.roles import OrganisationKind, Role
from referral.services import organisations, users

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
org_cli = AppGroup("org", help="Organisations: districts, partners, the city.")
user_cli = AppGroup("user", help="Staff accounts.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied (idempotent)."""
    migrate.upgrade(current_app.config["REFERRAL_SETTINGS"].database_url)
    click.echo("The database schema is up to date.")


@org_cli.command("add")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([kind.value for kind in OrganisationKind]))
@click.option("--org-number", default=None, help="Swedish organisation number (NNNNNN-NNNN).")
@click.option(
    "--social-emergency-service",
    is_flag=True,
    help="The city's socialjour: receives concern reports about children no district is known for.",
)
def org_add(name: str, kind: str, org_number: str | None, social_emergency_service: bool) -> None:
    """Register an organisation."""
    with operator("org-add") as (uow, actor):
        organisation = organisations.add_organisation(
            uow,
            actor,
            organisations.NewOrganisation(
                name=name,
                kind=kind,
                org_number=org_number,
                social_emergency_service=social_emergency_service,
            ),
        )
    click.echo(f"Added {organisation.kind} {organisation.name} ({organisation.id}).")


@org_cli.command("list")
def org_list() -> None:
    """List organisations."""
    with operator("org-list") as (uow, actor):
        for organisation in organisations.list_organisations(uow, actor):
            number = organisation.org_number or "-"
            click.echo(
                f"{organisation.id}  {organisation.kind:<8}  {number:<11}  {organisation.name}"
            )


@user_cli.command("add")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--org", "organisation", required=True, help="Organisation id or exact name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([role.value for role in Role]),
)
@click.option("--password", default=None, help="Omit to be asked (or use --generate-password).")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it once.")
def user_add(
    username: str,
    display_name: str,
    organisation: str,
    roles: tuple[str, ...],
    password: str | None,
    generate_password: bool,
) -> None:
    """Create a staff account; at the first login its holder enrols the second factor and
    replaces this password, which the operator knows, with their own."""
    if generate_password:
        password = secrets.token_urlsafe(15)
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    assert password is not None
    with operator("user-add") as (uow, actor):
        org = organisations.find_organisation(uow, actor, organisation)
        user = users.add_user(
            uow,
            actor,
            users.NewUser(
                username=username,
                display_name=display_name,
                organisation_id=org.id,
                roles=roles,
                password=password,
                # Generated, given or typed here, the operator has seen it (ASVS V6.4.1).
                must_change_password=True,
            ),
        )
    click.echo(f"Added {user.username} to {org.name}.")
    if generate_password:
        click.echo(f"Password (shown once): {password}")


def _user_action(name: str, verb: Callable[..., Any], done: str) -> None:
    @user_cli.command(name)
    @click.argument("username")
    def command(username: str) -> None:
        with operator(f"user-{name}") as (uow, actor):
            user = verb(uow, actor, username)
        click.echo(done.format(username=user.username))

    command.__doc__ = done.format(username="USERNAME")


_user_action("disable", users.disable_user, "{username} is disabled; open sessions have ended.")
_user_action(
    "reset-mfa", users.reset_mfa, "{username} enrols a new authenticator at the next login."
)
_user_action(
    "end-sessions", users.end_sessions, "{username}'s sessions have ended; the account stays open."
)


def init_cli(commands: click.Group) -> None:
    """Add the operator groups to app.cli (referral.cli_loader, on the command line's first
    use)."""
    for group in (
        db_cli,
        org_cli,
        user_cli,
        crypto_cli,
        audit_cli,
        backup_cli,
        gallring_cli,
        nights_cli,
        demo_cli,
    ):
        commands.add_command(group)
