"""API clients: the city's own systems calling /api/v1 with a bearer token.

An administrator issues a client for an organisation, in one role the organisation's kind
allows, with scopes drawn from that role's grants (referral.policy.client_scopes). The token
(`iop_` and 256 random bits) is returned once and never stored: the table keeps its SHA-256
and a short prefix that lets an administrator tell tokens apart. A replacement ("rotation")
is a new client with the same name, role and scopes; the old one keeps working until a grace
end so the system can switch without a gap. Revoking ends a client at once.

Nothing here logs, audits or raises with a token in it: entries name the client by id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.record import record
from referral import clock
from referral.actors import Actor, Origin
from referral.db.identity import ApiClient
from referral.db.models import Organisation
from referral.db.uow import UnitOfWork
from referral.errors import InvalidInput, NotFound
from referral.i18n import _
from referral.policy import Permission, client_scopes, require
from referral.roles import ROLE_HOMES, OrganisationKind, Role

TOKEN_MARK = "iop_"  # noqa: S105 - how every token begins, not a token
# 32 bytes from `secrets`: 256 bits, 43 characters of URL-safe base64.
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"iop_[A-Za-z0-9_-]{43}", re.ASCII)
# What the table keeps to recognise a token by: the mark and 8 random characters (48 bits of
# the 256, so the rest still cannot be guessed from it).
PREFIX_LENGTH = len(TOKEN_MARK) + 8
# The access log names a client as `client:<name>` in a column of 64 characters.
MAX_NAME = 50
DEFAULT_VALID_DAYS = 365
MAX_VALID_DAYS = 730
DEFAULT_GRACE_DAYS = 7
# A replaced client works on for at most this long: a switch, not a second client.
MAX_GRACE_DAYS = 30
# last_used_at is written at most this often, so a busy system does not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_token() -> str:
    return TOKEN_MARK + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix(token: str) -> str:
    return token[:PREFIX_LENGTH]


def well_formed(token: str) -> bool:
    return TOKEN_PATTERN.fullmatch(token) is not None


@dataclass(frozen=True)
class ClientView:
    """A client as the administrator's page shows it: never the token, nor its hash."""

    id: str
    name: str
    organisation_id: str
    organisation_name: str
    role: str
    scopes: tuple[str, ...]
    token_prefix: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    replaced_by: str | None
    status: str  # active, replaced (works until expires_at), expired, revoked


@dataclass(frozen=True)
class IssuedClient:
    """The one answer that carries the token: shown once, then only its prefix."""

    client: ClientView
    token: str


@dataclass(frozen=True)
class NewClient:
    organisation_id: str
    name: str
    role: str
    scopes: Iterable[str]
    valid_days: int = DEFAULT_VALID_DAYS


def status_of(client: ApiClient, now: datetime) -> str:
    if client.revoked_at is not None:
        return "revoked"
    if client.expires_at <= now:
        return "expired"
    if client.replaced_by is not None:
        return "replaced"
    return "active"


def _view(client: ApiClient, organisation_name: str, now: datetime) -> ClientView:
    return ClientView(
        id=client.id,
        name=client.name,
        organisation_id=client.organisation_id,
        organisation_name=organisation_name,
        role=client.role,
        scopes=tuple(sorted(client.scopes.split())),
        token_prefix=client.token_prefix,
        created_by=client.created_by,
        created_at=client.created_at,
        expires_at=client.expires_at,
        revoked_at=client.revoked_at,
        last_used_at=client.last_used_at,
        replaced_by=client.replaced_by,
        status=status_of(client, now),
    )


# Administration and the audit of access stay with people who sign in with a second factor:
# a token lasting up to two years must not manage accounts or export the access log.
PEOPLE_ONLY = frozenset({Role.ADMIN, Role.DPO})


def _role(raw: str, organisation: Organisation) -> Role:
    try:
        role = Role(raw)
    except ValueError:
        raise InvalidInput(_("Choose a role."), field="role") from None
    if role in PEOPLE_ONLY:
        raise InvalidInput(
            _("The role %(role)s is for people only: no API client acts in it.", role=role.value),
            field="role",
        )
    if OrganisationKind(organisation.kind) not in ROLE_HOMES[role]:
        homes = " or ".join(k.value for k in sorted(ROLE_HOMES[role]))
        raise InvalidInput(
            _(
                "The role %(role)s belongs to an organisation of kind %(homes)s.",
                role=role.value,
                homes=homes,
            ),
            field="role",
        )
    return role


def _scopes(raw: Iterable[str], role: Role) -> frozenset[Permission]:
    chosen = {s.strip() for s in raw if s.strip()}
    allowed = client_scopes(role)
    refused = sorted(chosen - {p.value for p in allowed})
    if refused:
        raise InvalidInput(
            _(
                "The role %(role)s cannot be given %(scopes)s.",
                role=role.value,
                scopes=", ".join(refused),
            ),
            field="scopes",
        )
    if not chosen:
        raise InvalidInput(_("Choose at least one scope."), field="scopes")
    return frozenset(Permission(s) for s in chosen)


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(_("The name must be 1-%(n)s characters.", n=MAX_NAME), field="name")
    return name


def _valid_days(days: int) -> int:
    if not 1 <= days <= MAX_VALID_DAYS:
        raise InvalidInput(
            _("A client is valid for 1 to %(n)s days.", n=MAX_VALID_DAYS), field="valid_days"
        )
    return days


def _create(
    db: Session,
    actor: Actor,
    organisation_id: str,
    name: str,
    role: Role,
    scopes: frozenset[str],
    expires_at: datetime,
) -> tuple[ApiClient, str]:
    token = new_token()
    client = ApiClient(
        name=name,
        organisation_id=organisation_id,
        role=role.value,
        scopes=" ".join(sorted(scopes)),
        token_prefix=token_prefix(token),
        token_hash=token_hash(token),
        created_by=actor.user_id,
        created_at=clock.now(),
        expires_at=expires_at,
    )
    db.add(client)
    db.flush()
    return client, token


def issue(uow: UnitOfWork, actor: Actor, new: NewClient) -> IssuedClient:
    """A new client and its token (returned here only)."""
    require(actor, Permission.API_CLIENT_MANAGE)
    db = uow.session
    organisation = db.get(Organisation, new.organisation_id)
    if organisation is None:
        raise NotFound(_("No such organisation."), field="organisation_id")
    name = _name(new.name)
    role = _role(new.role, organisation)
    scopes = _scopes(new.scopes, role)
    now = clock.now()
    client, token = _create(
        db,
        actor,
        organisation.id,
        name,
        role,
        frozenset(p.value for p in scopes),
        now + timedelta(days=_valid_days(new.valid_days)),
    )
    record(db, actor, Action.API_CLIENT_ISSUE, object_type="api_client", object_id=client.id)
    issued = IssuedClient(_view(client, organisation.name, now), token)
    uow.commit()
    return issued


def _find(uow: UnitOfWork, actor: Actor, client_id: str) -> ApiClient:
    require(actor, Permission.API_CLIENT_MANAGE)
    client = uow.session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(_("No such API client."))
    return client


def rotate(
    uow: UnitOfWork, actor: Actor, client_id: str, grace_days: int = DEFAULT_GRACE_DAYS
) -> IssuedClient:
    """A replacement with the same name, role and scopes, valid as long as a new client;
    the old one works on until the grace end (never past its own expiry), then stops."""
    old = _find(uow, actor, client_id)
    now = clock.now()
    if status_of(old, now) != "active":
        raise InvalidInput(
            _("Only an active client can be replaced; issue a new one instead."), field="client"
        )
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise InvalidInput(
            _("The old token may work on for 0 to %(n)s days.", n=MAX_GRACE_DAYS),
            field="grace_days",
        )
    db = uow.session
    organisation = db.get(Organisation, old.organisation_id)
    assert organisation is not None  # a foreign key
    # The role and scopes are checked again: the grants may have narrowed since the issue.
    role = _role(old.role, organisation)
    scopes = _scopes(old.scopes.split(), role)
    validity = old.expires_at - old.created_at
    replacement, token = _create(
        db,
        actor,
        old.organisation_id,
        old.name,
        role,
        frozenset(p.value for p in scopes),
        now + min(max(validity, timedelta(days=1)), timedelta(days=MAX_VALID_DAYS)),
    )
    old.replaced_by = replacement.id
    old.expires_at = min(old.expires_at, now + timedelta(days=grace_days))
    record(db, actor, Action.API_CLIENT_ROTATE, object_type="api_client", object_id=old.id)
    record(db, actor, Action.API_CLIENT_ISSUE, object_type="api_client", object_id=replacement.id)
    issued = IssuedClient(_view(replacement, organisation.name, now), token)
    uow.commit()
    return issued


def revoke(uow: UnitOfWork, actor: Actor, client_id: str) -> ClientView:
    """Ended at once: the next call with its token is refused."""
    client = _find(uow, actor, client_id)
    now = clock.now()
    if client.revoked_at is None:
        client.revoked_at = now
        record(
            uow.session,
            actor,
            Action.API_CLIENT_REVOKE,
            object_type="api_client",
            object_id=client.id,
        )
    organisation = uow.session.get(Organisation, client.organisation_id)
    revoked = _view(client, organisation.name if organisation else "", now)
    uow.commit()
    return revoked


def list_clients(uow: UnitOfWork, actor: Actor) -> list[ClientView]:
    require(actor, Permission.API_CLIENT_MANAGE)
    now = clock.now()
    query = (
        select(ApiClient, Organisation.name)
        .join(Organisation, Organisation.id == ApiClient.organisation_id)
        .order_by(Organisation.name, ApiClient.name, ApiClient.created_at.desc())
    )
    return [_view(client, name, now) for client, name in uow.session.execute(query)]


@dataclass(frozen=True)
class VerifiedClient:
    id: str
    name: str
    organisation_id: str
    role: Role
    scopes: frozenset[str]

    def actor(self, origin: Origin) -> Actor:
        return Actor.api_client(
            self.id, self.name, self.organisation_id, self.role, self.scopes, origin
        )


def verify(db: Session, token: str, now: datetime) -> VerifiedClient | None:
    """The live client this token belongs to, or None (malformed, unknown, expired, revoked
    or replaced past its grace end: the caller is not told which). Candidates are found by
    prefix and compared on the whole hash in constant time. Marks the client used, at most
    once a minute (the caller commits)."""
    if not well_formed(token):
        return None
    presented = token_hash(token)
    found: ApiClient | None = None
    for candidate in db.scalars(
        select(ApiClient).where(ApiClient.token_prefix == token_prefix(token))
    ):
        if hmac.compare_digest(candidate.token_hash, presented):
            found = candidate
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        return None
    try:
        role = Role(found.role)
    except ValueError:  # a role this version no longer knows grants nothing
        return None
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
        found.last_used_at = now
    return VerifiedClient(
        id=found.id,
        name=found.name,
        organisation_id=found.organisation_id,
        role=role,
        scopes=frozenset(found.scopes.split()),
    )


@dataclass(frozen=True)
class Target:
    """An organisation and a role its kind allows: what a client can be issued for."""

    organisation_id: str
    organisation_name: str
    role: Role

    @property
    def key(self) -> str:
        return f"{self.organisation_id}:{self.role.value}"


def targets(uow: UnitOfWork, actor: Actor) -> list[Target]:
    """Every organisation with each role its kind allows, by organisation name."""
    require(actor, Permission.API_CLIENT_MANAGE)
    found = []
    for organisation in uow.session.scalars(select(Organisation).order_by(Organisation.name)):
        kind = OrganisationKind(organisation.kind)
        for role in Role:
            if kind in ROLE_HOMES[role] and role not in PEOPLE_ONLY and client_scopes(role):
                found.append(Target(organisation.id, organisation.name, role))
    return found


def target(uow: UnitOfWork, actor: Actor, organisation_id: str, role: str) -> Target:
    """One organisation and role, checked: 404 for no such organisation, 422 for a role its
    kind does not allow."""
    require(actor, Permission.API_CLIENT_MANAGE)
    organisation = uow.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(_("No such organisation."), field="organisation_id")
    return Target(organisation.id, organisation.name, _role(role, organisation))
