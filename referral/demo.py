"""Demo data for `make run`: one district, Bris, the city, and one user of each role.

Only in demo mode (REFERRAL_DEMO=1, refused in production). Passwords and TOTP seeds are
generated on this machine, printed, and kept in a 0600 file under instance/ so that the next
`make run` can print them again; they are never in the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from referral.actors import Actor
from referral.auth import totp
from referral.db.engine import request_session
from referral.db.models import Organisation, User
from referral.db.uow import UnitOfWork
from referral.services import organisations, users

demo_cli = AppGroup("demo", help="Demo data (demo mode only).")

CREDENTIALS_FILE = Path("instance/demo-credentials.json")

DISTRICT = organisations.NewOrganisation(name="Farsta stadsdelsförvaltning", kind="district")
PARTNER = organisations.NewOrganisation(name="Bris – Barnens rätt i samhället", kind="partner")
CITY = organisations.NewOrganisation(
    name="Stockholms stad, Socialförvaltningen", kind="city", org_number="212000-0142"
)

# (username, invented display name, organisation, role)
DEMO_USERS = (
    ("handlaggare", "Demo Handläggare", DISTRICT.name, "social_worker"),
    ("gruppledare", "Demo Gruppledare", PARTNER.name, "group_leader"),
    ("lankare", "Demo Länkare", CITY.name, "link_worker"),
    ("dataskydd", "Demo Dataskyddsombud", CITY.name, "dpo"),
    ("admin", "Demo Administratör", CITY.name, "admin"),
)


def _require_demo_mode() -> None:
    if not current_app.config["REFERRAL_SETTINGS"].demo_mode:
        raise click.ClickException("Demo commands run only with REFERRAL_DEMO=1.")


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)


def _print_credentials(credentials: list[dict[str, str]]) -> None:
    click.echo("Demo accounts (demo mode only; the TOTP seed goes into any authenticator app,")
    click.echo("or print the current code with: make demo-code USER=<username>):")
    for entry in credentials:
        click.echo(
            f"  {entry['role']:<14} user {entry['username']:<12} "
            f"password {entry['password']}  TOTP seed {entry['totp_seed']}"
        )


@demo_cli.command("load")
def load() -> None:
    """Create the demo organisations and users (once) and print their credentials."""
    _require_demo_mode()
    settings = current_app.config["REFERRAL_SETTINGS"]
    db = request_session()
    if db.scalar(select(Organisation.id).where(Organisation.name == DISTRICT.name)):
        if CREDENTIALS_FILE.exists():
            _print_credentials(json.loads(CREDENTIALS_FILE.read_text(encoding="utf-8")))
        else:
            click.echo("Demo data is loaded, but its credentials file is gone: `make reset`.")
        return
    actor = Actor.system_actor("demo-load")
    credentials = []
    with UnitOfWork(db) as uow:
        by_name = {
            new.name: organisations.add_organisation(uow, actor, new)
            for new in (DISTRICT, PARTNER, CITY)
        }
        for username, display_name, org_name, role in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            user = users.add_user(
                uow,
                actor,
                users.NewUser(username, display_name, by_name[org_name].id, [role], password),
            )
            seed = totp.new_seed()
            user.totp_seed_encrypted = totp.seal_seed(settings.mfa_key, user.id, seed)
            user.totp_confirmed = True
            uow.commit()
            credentials.append(
                {"role": role, "username": username, "password": password, "totp_seed": seed}
            )
    _write_private(CREDENTIALS_FILE, json.dumps(credentials, indent=2))
    _print_credentials(credentials)


@demo_cli.command("code")
@click.argument("username")
def code(username: str) -> None:
    """Print the current TOTP code of a demo user (demo mode only)."""
    _require_demo_mode()
    settings = current_app.config["REFERRAL_SETTINGS"]
    user = request_session().scalar(select(User).where(User.username == username))
    if user is None or user.totp_seed_encrypted is None:
        raise click.ClickException("No demo user with an enrolled authenticator by that name.")
    seed = totp.open_seed(settings.mfa_key, user.id, user.totp_seed_encrypted)
    remaining = totp.STEP_SECONDS - int(time.time()) % totp.STEP_SECONDS
    click.echo(f"{pyotp.TOTP(seed).now()}  (valid for {remaining} s more)")
